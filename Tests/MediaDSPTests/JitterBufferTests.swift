import Testing
@testable import MediaDSP

private let millisecond: UInt64 = 1_000_000

private struct Packet {
    var timestamp: UInt32
    var samples: [Int16]
    var arrival: UInt64
}

private struct Played {
    var time: UInt64
    var output: JitterBufferOutput
    /// First sample of the frame written (frame index marker), or nil when none was written.
    var marker: Int16?
}

/// 20 ms packets: packet j carries frames 2j and 2j+1, each filled with its frame index so the
/// output shows which frame came out. Nominal arrival of packet j is `start + j·20 ms`.
private func packets(count: Int, baseTimestamp: UInt32 = 1000, start: UInt64 = 5 * millisecond,
                     extraDelay: (Int) -> UInt64 = { _ in 0 }) -> [Packet] {
    (0..<count).map { j in
        let samples = [Int16](repeating: Int16(truncatingIfNeeded: 2 * j), count: 80)
            + [Int16](repeating: Int16(truncatingIfNeeded: 2 * j + 1), count: 80)
        return Packet(timestamp: baseTimestamp &+ UInt32(160 * j), samples: samples,
                      arrival: start + UInt64(j) * 20 * millisecond + extraDelay(j))
    }
}

/// Virtual time in 1 ms ticks: deliver what has arrived, then take every frame that is due.
private func simulate(_ buffer: JitterBuffer, _ input: [Packet], until end: UInt64,
                      from begin: UInt64 = 0, onTick: (UInt64) -> Void = { _ in }) -> [Played] {
    let ordered = input.enumerated().sorted { ($0.element.arrival, $0.offset) < ($1.element.arrival, $1.offset) }
        .map(\.element)
    var next = ordered.startIndex
    var played: [Played] = []
    var frame = [Int16](repeating: -1, count: 80)
    var now = begin
    while now <= end {
        while next < ordered.endIndex, ordered[next].arrival <= now {
            buffer.put(timestamp: ordered[next].timestamp, samples: ordered[next].samples, arrival: ordered[next].arrival)
            next += 1
        }
        while true {
            frame[0] = -1
            let output = frame.withUnsafeMutableBufferPointer { buffer.get(now: now, into: $0.baseAddress!) }
            if output == .notDue { break }
            if case .frame = output {
                played.append(Played(time: now, output: output, marker: frame[0]))
            } else {
                played.append(Played(time: now, output: output, marker: nil))
            }
        }
        onTick(now)
        now += millisecond
    }
    return played
}

/// Deterministic uniform delays in 0..<maximum ms.
private struct DelayGenerator {
    var state: UInt64
    mutating func next(maximumMilliseconds: UInt64) -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return (state >> 33) % (maximumMilliseconds * 1000) * 1000
    }
}

private func fixed() throws -> JitterBufferConfiguration {
    try JitterBufferConfiguration(mode: .fixed, minimumMilliseconds: 20, maximumMilliseconds: 200, defaultMilliseconds: 60)
}

@Suite struct JitterBufferTests {
    @Test func fixedModeHoldsFramesForDefaultDelay() throws {
        let buffer = JitterBuffer(configuration: try fixed())
        #expect(buffer.currentDelayMilliseconds == 0)
        var scratch = [Int16](repeating: 0, count: 80)
        #expect(scratch.withUnsafeMutableBufferPointer { buffer.get(now: 0, into: $0.baseAddress!) } == .notDue)
        let played = simulate(buffer, packets(count: 50), until: 900 * millisecond)
        let frames = played.prefix(80)
        #expect(frames.count == 80)
        for (k, entry) in frames.enumerated() {
            // Frame k nominally arrives at 5 ms + k·10 ms (its packet's arrival plus its offset).
            #expect(entry.time == (5 + UInt64(k) * 10 + 60) * millisecond)
            #expect(entry.output == .frame(timestamp: 1000 + UInt32(80 * k)))
            #expect(entry.marker == Int16(k))
        }
        #expect(buffer.currentDelayMilliseconds == 60)
        #expect(buffer.statistics.lateDrops == 0)
        #expect(buffer.statistics.insertedFrames == 0)
        #expect(buffer.statistics.skippedFrames == 0)
    }

    @Test func concealsAfterTheStreamStops() throws {
        let buffer = JitterBuffer(configuration: try fixed())
        let played = simulate(buffer, packets(count: 5), until: 200 * millisecond)
        #expect(played.prefix(10).allSatisfy { if case .frame = $0.output { true } else { false } })
        #expect(played.dropFirst(10).allSatisfy { if case .missing = $0.output { true } else { false } })
        #expect(played.count == 14)
    }

    @Test func reordersPacketsThatAreStillInTime() throws {
        let buffer = JitterBuffer(configuration: try fixed())
        // Packet 3 arrives 25 ms late, after packet 4.
        let input = packets(count: 20) { $0 == 3 ? 25 * millisecond : 0 }
        // Frame 39 is due at 5 + 390 + 60 ms: stop there so no concealment follows.
        let played = simulate(buffer, input, until: 455 * millisecond)
        #expect(played.map(\.marker) == (0..<40).map { Int16($0) })
        #expect(buffer.statistics.lateDrops == 0)
        #expect(buffer.statistics.missingFrames == 0)
    }

    @Test func reorderingBeforePlayoutStartsIsKept() throws {
        let buffer = JitterBuffer(configuration: try fixed())
        // Packet 1 arrives first (anchoring), packet 0 five milliseconds later.
        var input = packets(count: 10)
        input[0].arrival = input[1].arrival + 5 * millisecond
        let played = simulate(buffer, input, until: 300 * millisecond)
        #expect(played.prefix(20).map(\.marker) == (0..<20).map { Int16($0) })
    }

    @Test func dropsAndCountsLatePackets() throws {
        let buffer = JitterBuffer(configuration: try fixed())
        let input = packets(count: 20) { $0 == 5 ? 100 * millisecond : 0 }
        let played = simulate(buffer, input, until: 500 * millisecond)
        #expect(buffer.statistics.lateDrops == 2)
        #expect(played[10].output == .missing(timestamp: 1000 + 800))
        #expect(played[11].output == .missing(timestamp: 1000 + 880))
        #expect(played[12].marker == 12)
        #expect(buffer.put(timestamp: 1000, samples: [Int16](repeating: 0, count: 160), arrival: 600 * millisecond) == .late)
    }

    @Test func ignoresDuplicates() throws {
        let buffer = JitterBuffer(configuration: try fixed())
        let input = packets(count: 3)
        #expect(buffer.put(timestamp: input[1].timestamp, samples: input[1].samples, arrival: input[1].arrival) == .stored)
        #expect(buffer.put(timestamp: input[1].timestamp, samples: input[1].samples, arrival: input[1].arrival) == .duplicate)
        #expect(buffer.statistics.duplicateFrames == 2)
        #expect(buffer.bufferedFrames == 2)
    }

    @Test func refusesPartialFrames() throws {
        let buffer = JitterBuffer(configuration: try fixed())
        #expect(buffer.put(timestamp: 0, samples: [Int16](repeating: 0, count: 100), arrival: 0) == .invalidLength)
        #expect(buffer.put(timestamp: 0, samples: [], arrival: 0) == .invalidLength)
        #expect(buffer.statistics.invalidPackets == 2)
        #expect(buffer.currentDelayMilliseconds == 0)
    }

    @Test func adaptiveGrowsWithJitterAndShrinksBack() throws {
        let buffer = JitterBuffer(configuration: try JitterBufferConfiguration())
        var delays = DelayGenerator(state: 7)
        // 10 s with up to 100 ms of random delay, then 30 s of a clean network.
        let input = packets(count: 2000) { $0 < 500 ? delays.next(maximumMilliseconds: 100) : 0 }
        var samples: [(time: UInt64, delay: Int)] = []
        var lateDuringClean = 0
        _ = simulate(buffer, input, until: 40_000 * millisecond) { now in
            if now % (100 * millisecond) == 0 { samples.append((now, buffer.currentDelayMilliseconds)) }
            if now == 12_000 * millisecond { lateDuringClean = buffer.statistics.lateDrops }
        }
        let noisy = samples.filter { $0.time >= 8000 * millisecond && $0.time <= 10_000 * millisecond }
        #expect(noisy.allSatisfy { $0.delay > 90 }, "delays under jitter: \(noisy.map(\.delay))")
        let anchored = samples.filter { $0.time >= 500 * millisecond }
        #expect(anchored.allSatisfy { $0.delay >= 20 && $0.delay <= 205 }, "\(anchored.map(\.delay))")
        let final = try #require(samples.last).delay
        // Whole-frame steps: it settles within one frame above MIN, never below.
        #expect((20..<30).contains(final), "settled at \(final) ms")
        #expect(buffer.statistics.lateDrops == lateDuringClean)
        #expect(buffer.statistics.insertedFrames > 0)
        #expect(buffer.statistics.skippedFrames > 0)
        // Under 100 ms of spread with a target around 4·J, only a small share is late.
        #expect(buffer.statistics.lateDrops < 100)
    }

    @Test func adaptiveStaysWithinMaximum() throws {
        let buffer = JitterBuffer(configuration: try JitterBufferConfiguration())
        var delays = DelayGenerator(state: 11)
        let input = packets(count: 500) { _ in delays.next(maximumMilliseconds: 400) }
        var peak = 0
        _ = simulate(buffer, input, until: 10_000 * millisecond) { _ in
            peak = max(peak, buffer.currentDelayMilliseconds)
        }
        #expect(buffer.targetDelayMilliseconds == 200)
        #expect(peak <= 205)
        #expect(buffer.currentDelayMilliseconds >= 190)
    }

    @Test func adaptiveShrinksToMinimumOnACleanNetwork() throws {
        let buffer = JitterBuffer(configuration: try JitterBufferConfiguration())
        _ = simulate(buffer, packets(count: 250), until: 5000 * millisecond)
        #expect(buffer.currentDelayMilliseconds == 20)
        #expect(buffer.statistics.lateDrops == 0)
        #expect(buffer.statistics.skippedFrames == 4)
    }

    @Test func fixedModeRecentersOnTheFastestPackets() throws {
        let buffer = JitterBuffer(configuration: try fixed())
        // The first packet came 30 ms late; everything after is on time.
        let input = packets(count: 100) { $0 == 0 ? 30 * millisecond : 0 }
        _ = simulate(buffer, input, until: 2000 * millisecond)
        #expect(buffer.currentDelayMilliseconds == 60)
        #expect(buffer.targetDelayMilliseconds == 60)
    }

    @Test func reanchorsOnTimestampJump() throws {
        let buffer = JitterBuffer(configuration: try fixed())
        var input = packets(count: 10)
        input += packets(count: 10, baseTimestamp: 50_000_000, start: 205 * millisecond)
        let played = simulate(buffer, input, until: 600 * millisecond)
        #expect(buffer.statistics.resynchronizations == 1)
        #expect(buffer.statistics.outOfRangeDrops == 2)
        let after = played.filter {
            if case .frame(let timestamp) = $0.output { timestamp >= 50_000_000 } else { false }
        }
        // The first packet after the jump is dropped; the other nine play.
        #expect(after.count == 18)
        #expect(after.first?.output == .frame(timestamp: 50_000_160))
    }

    @Test func handlesTimestampWrap() throws {
        let buffer = JitterBuffer(configuration: try fixed())
        let played = simulate(buffer, packets(count: 10, baseTimestamp: UInt32.max - 239), until: 300 * millisecond)
        #expect(played.prefix(20).map(\.marker) == (0..<20).map { Int16($0) })
        #expect(played[3].output == .frame(timestamp: 0))
    }

    @Test func validatesConfiguration() {
        #expect(throws: MediaDSPError.self) {
            try JitterBufferConfiguration(mode: .fixed, minimumMilliseconds: 100, maximumMilliseconds: 50, defaultMilliseconds: 60)
        }
        #expect(throws: MediaDSPError.self) {
            try JitterBufferConfiguration(mode: .adaptive, minimumMilliseconds: 20, maximumMilliseconds: 200, defaultMilliseconds: 300)
        }
        #expect(throws: MediaDSPError.self) {
            try JitterBufferConfiguration(modeValue: 2, minimumMilliseconds: 20, maximumMilliseconds: 200, defaultMilliseconds: 60)
        }
        #expect(throws: MediaDSPError.self) {
            try JitterBufferConfiguration(mode: .fixed, minimumMilliseconds: 20, maximumMilliseconds: 5000, defaultMilliseconds: 60)
        }
        do {
            _ = try JitterBufferConfiguration(modeValue: 7, minimumMilliseconds: 20, maximumMilliseconds: 200, defaultMilliseconds: 60)
            Issue.record("mode 7 accepted")
        } catch {
            #expect(error.description.contains("SS_JITTERBUFFER_MODE"))
        }
    }

    @Test func readsRawModeValues() throws {
        #expect(try JitterBufferConfiguration(modeValue: 0, minimumMilliseconds: 20, maximumMilliseconds: 200,
                                              defaultMilliseconds: 60).mode == .fixed)
        #expect(try JitterBufferConfiguration(modeValue: 1, minimumMilliseconds: 20, maximumMilliseconds: 200,
                                              defaultMilliseconds: 60).mode == .adaptive)
    }
}
