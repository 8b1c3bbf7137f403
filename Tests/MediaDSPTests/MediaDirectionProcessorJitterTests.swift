/// MediaDirectionProcessor with a jitter buffer: playout order and pacing on the tick, the fixed
/// delay measured from tick times, adaptive delay reporting, concealment, silence, fixed 0 ms as
/// "no buffer", and the idle tick. Helpers are in MediaDirectionProcessorDTMFTests.swift.
import Foundation
import MediaDSP
import Testing

/// Reproducible randomness (SplitMix64).
private struct JitterRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// 20 ms G.711 packets nominally every 20 ms from 3 ms past `testEpoch` (ticks are on the
/// 10 ms marks), each delayed by `jitter(index)` ms; returns the arrivals (sequence numbers in
/// sending order) and each packet's nominal time.
private func jitteredArrivals(
    _ law: G711.Law, _ samples: [Int16], payloadType: UInt8, jitter: (Int) -> UInt64
) -> (arrivals: [(time: UInt64, packet: RTPTestPacket)], nominal: [UInt64]) {
    let packets = sequenced(g711Arrivals(law, samples, payloadType: payloadType, startTime: testEpoch + 3 * milliseconds))
    let nominal = packets.map(\.time)
    let arrivals = packets.enumerated().map { index, arrival in (arrival.time + jitter(index) * milliseconds, arrival.packet) }
    return (arrivals, nominal)
}

@Suite struct MediaDirectionProcessorJitterTests {
    @Test func fixedBufferReordersAndPacesWithItsDelay() throws {
        let configuration = try JitterBufferConfiguration(mode: .fixed, minimumMilliseconds: 20, maximumMilliseconds: 200,
                                                          defaultMilliseconds: 60)
        let processor = try MediaDirectionProcessor(
            from: LegMediaFormat(codec: .pcma), to: LegMediaFormat(codec: .pcmu), options: .init(jitterBuffer: configuration))
        #expect(processor.jitterBufferDelayMilliseconds == 0)
        let signal = makeTestSine(frequency: 300, amplitude: 6000, count: 160 * 100)
        // Every 5th packet on time; the others up to 15 ms late; three pairs swapped.
        let swapped: Set<Int> = [10, 30, 50]
        let (arrivals, nominal) = jitteredArrivals(.aLaw, signal, payloadType: 8) { index in
            if swapped.contains(index) { return 25 }
            if swapped.contains(index - 1) || index % 5 == 0 { return 0 }
            return UInt64(index * 7919 % 16)
        }
        #expect(arrivals[10].time > arrivals[11].time)
        let result = drive(processor, arrivals: arrivals, until: testEpoch + 2300 * milliseconds)
        // Everything comes out of the tick (on the 10 ms marks), never straight from `process`.
        #expect(result.packets.allSatisfy { $0.time % (10 * milliseconds) == 0 })

        // 100 packets, then 60 ms of concealment (a late packet and the end of a spurt look alike).
        #expect(result.packets.count == 103)
        #expect(processor.counters.concealedFrames == 6)
        let out = Array(result.packets.prefix(100))
        #expect(out.allSatisfy { $0.payloadType == 0 && $0.payload.count == 160 && $0.ssrc == processor.outputSSRC })
        #expect(zip(out, out.dropFirst()).allSatisfy { $1.sequence == $0.sequence &+ 1 && $1.timestamp == $0.timestamp &+ 160 })
        #expect(out.map(\.marker) == [true] + [Bool](repeating: false, count: out.count - 1))
        // In order: the output is the input, sample for sample.
        let heard = signal.map { G711.decodeALaw(G711.encodeALaw($0)) }
        let played = out.flatMap { $0.payload.map(G711.decodeULaw) }
        #expect(played.count == heard.count)
        let mismatches = zip(played, heard).filter { abs(Int($0) - Int($1)) > 16 + abs(Int($1)) / 16 }.count
        #expect(mismatches == 0)
        // Delay: packet i goes out when its second 10 ms frame is due, 60 ms + 10 ms after packet
        // i was due to arrive, on the next tick (3 ms later here).
        let delays = zip(out, nominal).map { Int(($0.time - $1) / milliseconds) }
        #expect(Set(delays) == [77], "delays \(Set(delays))")
        #expect(processor.jitterBufferDelayMilliseconds == 60)
        let statistics = try #require(processor.jitterBufferStatistics)
        #expect(statistics.playedFrames == 200 && statistics.lateDrops == 0)
        #expect(processor.counters.audioPackets == 100)
        expectDirectionCountersAddUp(processor.counters)
    }

    @Test func adaptiveBufferReportsTheDelayItSettlesOn() throws {
        let configuration = try JitterBufferConfiguration(mode: .adaptive, minimumMilliseconds: 20, maximumMilliseconds: 200,
                                                          defaultMilliseconds: 40)
        let processor = try MediaDirectionProcessor(
            from: LegMediaFormat(codec: .pcmu), to: LegMediaFormat(codec: .g729), options: .init(jitterBuffer: configuration))
        var random = JitterRandom(state: 42)
        let delaysMs: [UInt64] = (0..<400).map { $0 % 10 == 0 ? 0 : UInt64.random(in: 0...80, using: &random) }
        let signal = makeTestSine(frequency: 700, amplitude: 6000, count: 160 * 400)
        let (arrivals, _) = jitteredArrivals(.uLaw, signal, payloadType: 0) { delaysMs[$0] }
        let result = drive(processor, arrivals: arrivals, until: testEpoch + 8500 * milliseconds)
        let delay = try #require(processor.jitterBufferDelayMilliseconds)
        // 4 x the RFC 3550 jitter of 0-80 ms uniform delays is about 100 ms, plus one frame.
        #expect((70...200).contains(delay), "settled on \(delay) ms")
        let out = result.packets
        #expect(out.count >= 360)
        #expect(zip(out, out.dropFirst()).allSatisfy { Int32(bitPattern: $1.timestamp &- $0.timestamp) >= 160 })
        #expect(zip(out, out.dropFirst()).allSatisfy { $1.sequence == $0.sequence &+ 1 })
        expectDirectionCountersAddUp(processor.counters)
    }

    @Test func lossIsConcealedAndSilenceStaysAGap() throws {
        let configuration = try JitterBufferConfiguration(mode: .fixed, minimumMilliseconds: 0, maximumMilliseconds: 100,
                                                          defaultMilliseconds: 40)
        let processor = try MediaDirectionProcessor(
            from: LegMediaFormat(codec: .pcma), to: LegMediaFormat(codec: .pcma, ptimeMilliseconds: 10),
            options: .init(jitterBuffer: configuration))
        // 1 s of tone with packet 20 lost, 1 s of silence (no packets), 0.5 s of tone.
        let tone = makeTestSine(frequency: 400, amplitude: 8000, count: 8000)
        var arrivals = g711Arrivals(.aLaw, tone, payloadType: 8, startTime: testEpoch + 3 * milliseconds)
        arrivals.remove(at: 20)
        arrivals += g711Arrivals(.aLaw, Array(tone.prefix(4000)), payloadType: 8, firstTimestamp: 16_000 + 16_000,
                                 startTime: testEpoch + 2003 * milliseconds)
        let result = drive(processor, arrivals: sequenced(arrivals), until: testEpoch + 2700 * milliseconds)
        // The lost packet, then 60 ms after each spurt.
        #expect(processor.counters.concealedFrames == 2 + 6 + 6)
        let out = result.packets
        // 100 frames of the first spurt (2 of them concealed) and 6 concealed, a gap, then 50 + 6.
        let gapIndex = try #require(out.indices.dropLast().first { out[$0 + 1].timestamp &- out[$0].timestamp != 80 })
        #expect(gapIndex == 105)
        #expect(out.count == 162)
        #expect(out[gapIndex + 1].marker)
        #expect(out.filter(\.marker).count == 2)
        // The gap is the rest of the silence (1 s less the 60 ms concealed).
        let gap = Int(out[gapIndex + 1].timestamp &- out[gapIndex].timestamp)
        #expect(gap == 8000 - 480 + 80, "gap \(gap)")
        // The lost packet's frames repeat the last one, fading.
        let first = out[40].payload.map(G711.decodeALaw)
        let second = out[41].payload.map(G711.decodeALaw)
        let previous = out[39].payload.map(G711.decodeALaw)
        #expect(meanPower(first[...]) < meanPower(previous[...]) && meanPower(first[...]) > meanPower(previous[...]) / 4)
        #expect(meanPower(second[...]) < meanPower(first[...]))
    }

    @Test func g729LossIsConcealedByTheDecoder() throws {
        let configuration = try JitterBufferConfiguration(mode: .fixed, minimumMilliseconds: 20, maximumMilliseconds: 200,
                                                          defaultMilliseconds: 40)
        let processor = try MediaDirectionProcessor(
            from: LegMediaFormat(codec: .g729), to: LegMediaFormat(codec: .pcmu), options: .init(jitterBuffer: configuration))
        let frames = encodeTestG729(try G729Encoder(), makeTestSine(frequency: 800, amplitude: 8000, count: 8000))
        var arrivals: [(time: UInt64, packet: RTPTestPacket)] = []
        for index in stride(from: 0, to: frames.count, by: 2) {
            let time: UInt64 = testEpoch + UInt64(index / 2) * 20 * milliseconds + 3 * milliseconds
            let payload: [UInt8] = frames[index] + frames[index + 1]
            arrivals.append((time, RTPTestPacket(payloadType: 18, timestamp: UInt32(index * 80), payload: payload)))
        }
        arrivals.remove(at: 10)
        let out = drive(processor, arrivals: sequenced(arrivals), until: testEpoch + 1200 * milliseconds).packets
        #expect(processor.counters.concealedFrames == 2 + 6)
        #expect(out.count == 50 + 3)
        #expect(zip(out, out.dropFirst()).allSatisfy { $1.timestamp == $0.timestamp &+ 160 })
    }

    @Test func fixedZeroMillisecondsIsNoBuffer() throws {
        let none = try JitterBufferConfiguration(mode: .fixed, minimumMilliseconds: 0, maximumMilliseconds: 200, defaultMilliseconds: 0)
        let options = DecodedLegOptions(jitterBuffer: none)
        #expect(options.effectiveJitterBuffer == nil)
        let format = try LegMediaFormat(codec: .pcma)
        let processor = try MediaDirectionProcessor(from: format, to: try LegMediaFormat(codec: .pcmu), options: options)
        #expect(processor.jitterBufferDelayMilliseconds == nil)
        #expect(processor.jitterBufferStatistics == nil)
        #expect(try MediaDirectionProcessor(from: format, to: format, options: options).isPassthrough)
        #expect(!MediaDirectionProcessor.needsProcessing(format, format, options: options, dtmf: .init()))
        // Output driven by input: each packet comes out of `process` at once.
        let arrivals = sequenced(g711Arrivals(.aLaw, makeTestSine(frequency: 300, amplitude: 5000, count: 1600), payloadType: 8))
        let result = drive(processor, arrivals: arrivals, until: testEpoch + 400 * milliseconds)
        #expect(result.packets.map(\.time) == arrivals.map(\.time))

        // Adaptive, or fixed with a delay, is a buffer.
        let adaptive = try JitterBufferConfiguration(mode: .adaptive, minimumMilliseconds: 0, maximumMilliseconds: 200, defaultMilliseconds: 0)
        #expect(DecodedLegOptions(jitterBuffer: adaptive).effectiveJitterBuffer == adaptive)
        #expect(MediaDirectionProcessor.needsProcessing(format, format, options: DecodedLegOptions(jitterBuffer: adaptive), dtmf: .init()))
        #expect(try !MediaDirectionProcessor(from: format, to: format, options: DecodedLegOptions(jitterBuffer: adaptive)).isPassthrough)
    }

    @Test func randomInputWithEveryFeatureNeverCrashes() throws {
        var random = JitterRandom(state: 0xF00D)
        let adaptive = try JitterBufferConfiguration(mode: .adaptive, minimumMilliseconds: 20, maximumMilliseconds: 120, defaultMilliseconds: 40)
        let g729B = try LegMediaFormat(codec: .g729, ptimeMilliseconds: 30, telephoneEventPayloadType: 101, annexB: true)
        let pcma = try LegMediaFormat(codec: .pcma, telephoneEventPayloadType: 96)
        let pcmu = try LegMediaFormat(codec: .pcmu, ptimeMilliseconds: 15)
        let everything = DecodedLegOptions(voiceGainDecibels: 3, jitterBuffer: adaptive, echoCancelTailMilliseconds: 64, comfortNoise: true)
        let dtmf = DTMFOptions(detectInband: true, sendInband: true)
        let pairs = [
            (try MediaDirectionProcessor(from: pcma, to: pcmu, options: everything, dtmf: dtmf),
             try MediaDirectionProcessor(from: pcmu, to: pcma, options: everything, dtmf: dtmf)),
            (try MediaDirectionProcessor(from: g729B, to: pcma, options: .init(echoCancelTailMilliseconds: 128, comfortNoise: true), dtmf: dtmf),
             try MediaDirectionProcessor(from: pcma, to: g729B, options: .init(echoCancelTailMilliseconds: 128), dtmf: dtmf)),
        ]
        for (first, second) in pairs { first.pair(with: second) }
        let payloadTypes: [UInt8] = [0, 8, 18, 96, 101, 13]
        var sequence: UInt16 = 0
        var timestamp: UInt32 = 0
        var now = testEpoch
        for round in 0..<3000 {
            let length = 12 + [0, 2, 4, 10, 12, 20, 30, 32, 80, 120, 160, 240, 7].randomElement(using: &random)!
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            bytes[0] = 0x80 | (round % 7 == 0 ? bytes[0] & 0x3F : 0)
            bytes[1] = (bytes[1] & 0x80) | payloadTypes.randomElement(using: &random)!
            sequence &+= UInt16.random(in: 0...3, using: &random) &- 1
            timestamp &+= [0, 80, 160, 240, 8000, 123].randomElement(using: &random)!
            bytes.replaceSubrange(2..<8, with: withUnsafeBytes(of: sequence.bigEndian, Array.init) + withUnsafeBytes(of: timestamp.bigEndian, Array.init))
            if bytes[8] > 20 { bytes.replaceSubrange(8..<12, with: [0, 0, 0, 7]) }
            now += UInt64.random(in: 0...25, using: &random) * milliseconds
            for (first, second) in pairs {
                for processor in [first, second] {
                    var emitted: [[UInt8]] = []
                    bytes.withUnsafeBytes { raw in processor.process(raw, now: now) { emitted.append(Array($0)) } }
                    if round % 2 == 0 { processor.tick(now: now) { emitted.append(Array($0)) } }
                    if round % 500 == 0 { _ = processor.play(digits: "12#", durationMilliseconds: 60, now: now) }
                    while processor.takeReportedDigit() != nil {}
                    for packet in emitted {
                        let output = EmittedRTP(packet, time: now)
                        #expect(packet[0] == 0x80 && output.ssrc == processor.outputSSRC)
                        #expect(output.payloadType == processor.to.payloadType || output.payloadType == processor.to.telephoneEventPayloadType)
                    }
                }
            }
        }
        for (first, second) in pairs {
            for processor in [first, second] {
                #expect(processor.counters.processedPackets == 3000)
                expectDirectionCountersAddUp(processor.counters)
                #expect(processor.counters.emittedPackets > 100, "\(processor.counters)")
            }
        }
    }

    @Test func idleTickEmitsNothingAndIsCheap() throws {
        let buffered = try JitterBufferConfiguration(mode: .fixed, minimumMilliseconds: 20, maximumMilliseconds: 200, defaultMilliseconds: 60)
        let processors = [
            try MediaDirectionProcessor(from: LegMediaFormat(codec: .pcma), to: LegMediaFormat(codec: .pcmu)),
            try MediaDirectionProcessor(from: LegMediaFormat(codec: .pcma, telephoneEventPayloadType: 101),
                                        to: LegMediaFormat(codec: .g729, telephoneEventPayloadType: 101),
                                        dtmf: DTMFOptions(detectInband: true)),
            try MediaDirectionProcessor(from: LegMediaFormat(codec: .pcma), to: LegMediaFormat(codec: .pcmu),
                                        options: .init(jitterBuffer: buffered, comfortNoise: true)),
        ]
        var emitted = 0
        for processor in processors {
            let started = ContinuousClock.now
            for index in 0..<100_000 {
                processor.tick(now: testEpoch + UInt64(index) * 10 * milliseconds) { _ in emitted += 1 }
            }
            let perTick = (ContinuousClock.now - started) / 100_000
            // Far below 1 µs in a release build; generous for a debug build on a busy machine.
            #expect(perTick < .microseconds(5), "idle tick took \(perTick)")
        }
        #expect(emitted == 0)

        // After a call's audio, an idle processor without a buffer is idle again.
        let processor = processors[0]
        let arrivals = sequenced(g711Arrivals(.aLaw, makeTestSine(frequency: 300, amplitude: 5000, count: 800), payloadType: 8,
                                              startTime: testEpoch + 2_000_000 * milliseconds))
        let result = drive(processor, arrivals: arrivals, from: testEpoch + 2_000_000 * milliseconds,
                           until: testEpoch + 2_001_000 * milliseconds)
        #expect(result.packets.count == 5)
        #expect(result.packets.allSatisfy { arrivals.map(\.time).contains($0.time) })
    }
}
