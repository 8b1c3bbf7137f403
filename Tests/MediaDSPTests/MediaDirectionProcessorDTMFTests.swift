/// MediaDirectionProcessor DTMF: RFC 4733 remapping, reporting, in-band detection into events,
/// `play` as events and as tones, the per-direction method lock, malformed events. Driven with
/// virtual time. The helpers here are shared with the other MediaDirectionProcessor*Tests files.
import Foundation
import MediaDSP
import Testing
import VOSModel

// MARK: Shared helpers (virtual-time driver, packets in and out)

/// Virtual time origin of every test: 5 s, so nothing sits at 0.
let testEpoch: UInt64 = 5_000_000_000
let milliseconds: UInt64 = 1_000_000

/// An RTP packet to feed in.
struct RTPTestPacket {
    var marker = false
    var payloadType: UInt8
    var sequence: UInt16 = 0
    var timestamp: UInt32
    var ssrc: UInt32 = 0x5566_7788
    var payload: [UInt8]

    var bytes: [UInt8] {
        var out: [UInt8] = [0x80, (marker ? 0x80 : 0) | payloadType]
        out += withUnsafeBytes(of: sequence.bigEndian, Array.init)
        out += withUnsafeBytes(of: timestamp.bigEndian, Array.init)
        out += withUnsafeBytes(of: ssrc.bigEndian, Array.init)
        return out + payload
    }
}

/// A packet the processor emitted, parsed, with the virtual time it came out.
struct EmittedRTP {
    let time: UInt64
    let marker: Bool
    let payloadType: UInt8
    let sequence: UInt16
    let timestamp: UInt32
    let ssrc: UInt32
    let payload: [UInt8]

    init(_ bytes: [UInt8], time: UInt64) {
        self.time = time
        marker = bytes[1] & 0x80 != 0
        payloadType = bytes[1] & 0x7F
        sequence = UInt16(bytes[2]) << 8 | UInt16(bytes[3])
        timestamp = bytes[4..<8].reduce(0) { $0 << 8 | UInt32($1) }
        ssrc = bytes[8..<12].reduce(0) { $0 << 8 | UInt32($1) }
        payload = Array(bytes[12...])
    }

    var event: TelephoneEvent? { try? TelephoneEvent(parsing: payload) }
}

struct TestReport: Equatable {
    let digit: Character
    let durationMilliseconds: Int
    let method: DTMFMethod
}

struct DriveResult {
    var packets: [EmittedRTP] = []
    var reports: [TestReport] = []
    /// When each report became available (the `now` of the call after which it was taken).
    var reportTimes: [UInt64] = []

    func packets(payloadType: UInt8) -> [EmittedRTP] { packets.filter { $0.payloadType == payloadType } }
}

/// Packets in arrival order with sequence numbers assigned in that order (as one sender would).
func sequenced(_ arrivals: [(time: UInt64, packet: RTPTestPacket)], firstSequence: UInt16 = 100) -> [(time: UInt64, packet: RTPTestPacket)] {
    arrivals.sorted { $0.time < $1.time }.enumerated().map { index, arrival in
        var packet = arrival.packet
        packet.sequence = firstSequence &+ UInt16(truncatingIfNeeded: index)
        return (arrival.time, packet)
    }
}

/// Feeds `arrivals` at their times and ticks every `tickInterval` from `start` through `end`
/// (a packet due at a tick's instant goes first). `actions` run at their times, before the tick.
func drive(
    _ processor: MediaDirectionProcessor, arrivals: [(time: UInt64, packet: RTPTestPacket)],
    from start: UInt64 = testEpoch, until end: UInt64, tickInterval: UInt64 = 10 * milliseconds,
    actions: [(time: UInt64, run: (UInt64) -> Void)] = []
) -> DriveResult {
    var result = DriveResult()
    let ordered = arrivals.sorted { $0.time < $1.time }
    var next = 0
    var pendingActions = actions.sorted { $0.time < $1.time }
    func collect(_ time: UInt64) -> (UnsafeRawBufferPointer) -> Void {
        { result.packets.append(EmittedRTP(Array($0), time: time)) }
    }
    func poll(_ time: UInt64) {
        while let report = processor.takeReportedDigit() {
            result.reports.append(TestReport(digit: report.digit, durationMilliseconds: report.durationMilliseconds, method: report.method))
            result.reportTimes.append(time)
        }
    }
    var tick = start
    while tick <= end {
        while next < ordered.count, ordered[next].time <= tick {
            let arrival = ordered[next]
            arrival.packet.bytes.withUnsafeBytes { processor.process($0, now: arrival.time, emit: collect(arrival.time)) }
            poll(arrival.time)
            next += 1
        }
        while let action = pendingActions.first, action.time <= tick {
            action.run(action.time)
            pendingActions.removeFirst()
        }
        processor.tick(now: tick, emit: collect(tick))
        poll(tick)
        tick += tickInterval
    }
    return result
}

/// G.711 packets of `samplesPerPacket` each, one every `interval` from `startTime`.
func g711Arrivals(
    _ law: G711.Law, _ samples: [Int16], samplesPerPacket: Int = 160, payloadType: UInt8,
    firstTimestamp: UInt32 = 16_000, startTime: UInt64 = testEpoch, interval: UInt64 = 20 * milliseconds
) -> [(time: UInt64, packet: RTPTestPacket)] {
    stride(from: 0, to: samples.count, by: samplesPerPacket).enumerated().map { index, offset in
        let chunk = samples[offset..<min(offset + samplesPerPacket, samples.count)]
        return (startTime + UInt64(index) * interval,
                RTPTestPacket(payloadType: payloadType, timestamp: firstTimestamp &+ UInt32(offset),
                              payload: chunk.map { G711.encode(law, $0) }))
    }
}

/// One RFC 4733 event as a sender sends it: updates with `durations`, the last one with the E
/// bit three times (unless `ended` is false: its end packets are lost), one packet every 20 ms
/// from `startTime`.
func eventArrivals(
    code: UInt8, timestamp: UInt32, durations: [UInt16], payloadType: UInt8 = 101, ended: Bool = true,
    startTime: UInt64, interval: UInt64 = 20 * milliseconds
) -> [(time: UInt64, packet: RTPTestPacket)] {
    var arrivals: [(time: UInt64, packet: RTPTestPacket)] = []
    for (index, duration) in durations.enumerated() {
        let isEnd = ended && index == durations.count - 1
        for copy in 0..<(isEnd ? 3 : 1) {
            let payload = TelephoneEvent(event: code, end: isEnd, volume: 10, duration: duration).bytes
            arrivals.append((startTime + UInt64(index + copy) * interval,
                             RTPTestPacket(marker: index == 0, payloadType: payloadType, timestamp: timestamp, payload: payload)))
        }
    }
    return arrivals
}

/// Decodes G.711 packets onto one timeline by timestamp (gaps read as silence), from the first.
func pcmTimeline(_ packets: [EmittedRTP], law: G711.Law) -> [Int16] {
    guard let first = packets.first?.timestamp else { return [] }
    var samples: [Int16] = []
    for packet in packets {
        let start = Int(Int32(bitPattern: packet.timestamp &- first))
        guard start >= 0 else { continue }
        if samples.count < start + packet.payload.count {
            samples += [Int16](repeating: 0, count: start + packet.payload.count - samples.count)
        }
        for (index, code) in packet.payload.enumerated() { samples[start + index] = G711.decode(law, code) }
    }
    return samples
}

func detectedDigits(_ samples: [Int16]) throws -> String {
    let detector = try DTMFToneDetector()
    var digits = ""
    var start = 0
    while start < samples.count {
        let end = min(start + 160, samples.count)
        samples[start..<end].withUnsafeBufferPointer { detector.process($0) }
        while let digit = detector.takeDigit() { digits.append(digit) }
        start = end
    }
    return digits
}

/// Generated DTMF tones for `digits` (spandsp), as a test sender's audio.
func dtmfTones(_ digits: String, onMilliseconds: Int = 100, offMilliseconds: Int = 100) throws -> [Int16] {
    let generator = try DTMFToneGenerator(onMilliseconds: onMilliseconds, offMilliseconds: offMilliseconds)
    try generator.queue(digits: digits)
    var audio: [Int16] = []
    var chunk = [Int16](repeating: 0, count: 160)
    while !generator.isIdle {
        let produced = chunk.withUnsafeMutableBufferPointer { generator.generate(into: $0) }
        audio += chunk
        if produced < chunk.count { break }
    }
    return audio
}

func meanPower(_ samples: ArraySlice<Int16>) -> Double {
    guard !samples.isEmpty else { return 0 }
    return samples.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(samples.count)
}

/// Events grouped by their timestamp (one group per event), in order of appearance.
func eventGroups(_ packets: [EmittedRTP]) -> [[EmittedRTP]] {
    var groups: [[EmittedRTP]] = []
    for packet in packets {
        if let index = groups.firstIndex(where: { $0[0].timestamp == packet.timestamp }) {
            groups[index].append(packet)
        } else {
            groups.append([packet])
        }
    }
    return groups
}

func expectDirectionCountersAddUp(_ counters: DirectionCounters, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(counters.processedPackets == counters.audioPackets + counters.eventPackets + counters.droppedMalformed
        + counters.droppedUnknownPayloadType + counters.droppedLate, sourceLocation: sourceLocation)
}

/// A well-formed single-digit event: start with marker, updates, three end packets, one timestamp.
func expectWellFormedEvent(
    _ group: [EmittedRTP], code: UInt8, duration: UInt16, sourceLocation: SourceLocation = #_sourceLocation
) {
    let events = group.compactMap(\.event)
    #expect(events.count == group.count, sourceLocation: sourceLocation)
    #expect(events.allSatisfy { $0.event == code }, sourceLocation: sourceLocation)
    #expect(group.map(\.marker) == [true] + [Bool](repeating: false, count: group.count - 1), sourceLocation: sourceLocation)
    #expect(events.suffix(3).allSatisfy { $0.end && $0.duration == duration }, sourceLocation: sourceLocation)
    #expect(events.dropLast(3).allSatisfy { !$0.end && $0.duration < duration }, sourceLocation: sourceLocation)
    #expect(zip(events, events.dropFirst()).allSatisfy { $0.duration <= $1.duration }, sourceLocation: sourceLocation)
    #expect(Set(group.map(\.timestamp)).count == 1, sourceLocation: sourceLocation)
}

// MARK: Tests

@Suite struct MediaDirectionProcessorDTMFTests {
    @Test func rfc2833IsRemappedToTheFarLegsPayloadType() throws {
        let processor = try MediaDirectionProcessor(
            from: LegMediaFormat(codec: .pcma, telephoneEventPayloadType: 101),
            to: LegMediaFormat(codec: .pcmu, telephoneEventPayloadType: 105))
        let audio = g711Arrivals(.aLaw, makeTestSine(frequency: 500, amplitude: 5000, count: 1600), payloadType: 8)
        let events = eventArrivals(code: 5, timestamp: 16_000 + 1600, durations: [160, 320, 480, 640],
                                   startTime: testEpoch + 200 * milliseconds)
        let result = drive(processor, arrivals: sequenced(audio + events), until: testEpoch + 400 * milliseconds)
        let out = result.packets(payloadType: 105)
        #expect(out.count == 6)
        expectWellFormedEvent(out, code: 5, duration: 640)
        let audioOut = result.packets(payloadType: 0)
        let offset = audioOut[0].timestamp &- 16_000
        #expect(out.allSatisfy { $0.timestamp == 16_000 + 1600 &+ offset && $0.ssrc == processor.outputSSRC })
        #expect(result.reports.isEmpty)
        #expect(processor.lockedDTMFMethod == .rfc2833)
        #expect(processor.counters.digitsReported == 0 && processor.counters.droppedEvents == 0)
    }

    @Test func rfc2833WithoutFarEventsIsReportedOnceWithItsDuration() throws {
        let processor = try MediaDirectionProcessor(
            from: LegMediaFormat(codec: .pcma, telephoneEventPayloadType: 101), to: LegMediaFormat(codec: .pcmu))
        var arrivals = eventArrivals(code: 7, timestamp: 1000, durations: [160, 320, 480, 640, 800],
                                     startTime: testEpoch)
        // Digit # whose end packets are lost: reported 300 ms after its last packet.
        arrivals += eventArrivals(code: 11, timestamp: 3000, durations: [160, 320, 480], ended: false,
                                  startTime: testEpoch + 300 * milliseconds)
        // Digit 2 without end, cut short by digit 3: reported when 3 starts.
        arrivals += eventArrivals(code: 2, timestamp: 9000, durations: [160, 320], ended: false,
                                  startTime: testEpoch + 1000 * milliseconds)
        arrivals += eventArrivals(code: 3, timestamp: 9800, durations: [160, 400],
                                  startTime: testEpoch + 1100 * milliseconds)
        let result = drive(processor, arrivals: sequenced(arrivals), until: testEpoch + 1500 * milliseconds)
        #expect(result.packets.isEmpty)
        #expect(result.reports == [
            TestReport(digit: "7", durationMilliseconds: 100, method: .rfc2833),
            TestReport(digit: "#", durationMilliseconds: 60, method: .rfc2833),
            TestReport(digit: "2", durationMilliseconds: 40, method: .rfc2833),
            TestReport(digit: "3", durationMilliseconds: 50, method: .rfc2833),
        ])
        // 7 on its first end packet (the 5th, at 80 ms); # 300 ms after its last packet at 340 ms.
        try #require(result.reportTimes.count == 4, "one report time per digit: \(result.reportTimes)")
        #expect(result.reportTimes[0] == testEpoch + 80 * milliseconds)
        #expect(result.reportTimes[1] > testEpoch + 640 * milliseconds && result.reportTimes[1] <= testEpoch + 660 * milliseconds)
        #expect(result.reportTimes[2] == testEpoch + 1100 * milliseconds)
        #expect(result.reportTimes[3] == testEpoch + 1120 * milliseconds)
        #expect(processor.counters.digitsReported == 4)
        #expect(processor.counters.droppedEvents == processor.counters.eventPackets)
        expectDirectionCountersAddUp(processor.counters)
    }

    @Test func inbandTonesBecomeEventsOncePerDigit() throws {
        let processor = try MediaDirectionProcessor(
            from: LegMediaFormat(codec: .pcma), to: LegMediaFormat(codec: .pcmu, telephoneEventPayloadType: 101),
            dtmf: DTMFOptions(detectInband: true))
        let silence = [Int16](repeating: 0, count: 1600)
        let signal = silence + (try dtmfTones("19")) + silence
        let audio = g711Arrivals(.aLaw, signal, payloadType: 8)
        let end = testEpoch + UInt64(signal.count / 8 + 400) * milliseconds
        let result = drive(processor, arrivals: sequenced(audio), until: end)

        let groups = eventGroups(result.packets(payloadType: 101))
        try #require(groups.count == 2, "two events, one per tone: \(groups.count)")
        expectWellFormedEvent(groups[0], code: 1, duration: 800)
        expectWellFormedEvent(groups[1], code: 9, duration: 800)
        #expect(result.packets.allSatisfy { $0.ssrc == processor.outputSSRC })
        #expect(zip(result.packets, result.packets.dropFirst()).allSatisfy { $1.sequence == $0.sequence &+ 1 })

        // Event timestamps sit in the audio's timeline, just after each tone's onset.
        let audioOut = result.packets(payloadType: 0)
        let offset = audioOut[0].timestamp &- 16_000
        for (group, onset) in zip(groups, [1600, 1600 + 1600]) {
            let start = Int(group[0].timestamp &- offset &- 16_000)
            #expect(start >= onset && start <= onset + 640, "event at \(start), tone at \(onset)")
            // Updates follow the 20 ms packet interval of the far leg.
            let updates = group.filter { $0.event?.end == false }.compactMap { $0.event?.duration }
            #expect(updates == Array(stride(from: 160, to: 800, by: 160)).map(UInt16.init))
        }
        // The detected tone is muted towards the far leg (its first ~40 ms precede detection).
        let heard = pcmTimeline(audioOut, law: .uLaw)
        for onset in [1600, 3200] {
            let during = meanPower(heard[(onset + 480)..<(onset + 800)])
            #expect(during < 100, "tone power \(during) while muted")
        }
        #expect(processor.counters.digitsPlayed == 2)
        #expect(processor.lockedDTMFMethod == .inband)
        #expect(result.reports.isEmpty)
    }

    @Test func inbandTonesAreReportedWhenTheFarLegHasNoEvents() throws {
        let processor = try MediaDirectionProcessor(
            from: LegMediaFormat(codec: .pcmu), to: LegMediaFormat(codec: .pcma),
            dtmf: DTMFOptions(detectInband: true, detectedDigitMilliseconds: 120))
        #expect(!processor.isPassthrough)
        let silence = [Int16](repeating: 0, count: 800)
        let signal = silence + (try dtmfTones("*0D")) + silence
        let result = drive(processor, arrivals: sequenced(g711Arrivals(.uLaw, signal, payloadType: 0)),
                           until: testEpoch + UInt64(signal.count / 8 + 100) * milliseconds)
        #expect(result.reports == "*0D".map { TestReport(digit: $0, durationMilliseconds: 120, method: .inband) })
        #expect(result.packets.allSatisfy { $0.payloadType == 8 })
        #expect(processor.counters.digitsReported == 3)
    }

    @Test func playSendsRFC4733EventsPacedByTheTick() throws {
        let processor = try MediaDirectionProcessor(
            from: LegMediaFormat(codec: .pcma), to: LegMediaFormat(codec: .pcmu, telephoneEventPayloadType: 101))
        // Audio flows, so the event has a timeline to sit in.
        let audio = g711Arrivals(.aLaw, makeTestSine(frequency: 400, amplitude: 3000, count: 4800), payloadType: 8)
        var outcome: DTMFPlayOutcome?
        let result = drive(processor, arrivals: sequenced(audio), until: testEpoch + 600 * milliseconds,
                           actions: [(testEpoch + 105 * milliseconds, { outcome = processor.playDigits("5", durationMilliseconds: 160, now: $0) })])
        #expect(outcome == .events)
        let events = result.packets(payloadType: 101)
        #expect(events.count == 10)
        expectWellFormedEvent(events, code: 5, duration: 1280)
        #expect(events.compactMap(\.event?.duration) == [160, 320, 480, 640, 800, 960, 1120, 1280, 1280, 1280])
        // One packet per 20 ms, from the first tick after the request.
        #expect(events.map(\.time) == (0..<10).map { testEpoch + 110 * milliseconds + UInt64($0) * 20 * milliseconds })
        // Timestamp: where the audio is when the request came (within a packet).
        let audioOut = result.packets(payloadType: 0)
        let offset = audioOut[0].timestamp &- 16_000
        let position = Int(events[0].timestamp &- offset &- 16_000)
        #expect(abs(position - 105 * 8) <= 240, "event at \(position)")
        #expect(zip(result.packets, result.packets.dropFirst()).allSatisfy { $1.sequence == $0.sequence &+ 1 })
        #expect(processor.counters.digitsPlayed == 1)
        #expect(processor.lockedDTMFMethod == .info)

        // The Bool form, with no audio at all.
        let quiet = try MediaDirectionProcessor(
            from: LegMediaFormat(codec: .pcma), to: LegMediaFormat(codec: .g729, telephoneEventPayloadType: 96))
        #expect(quiet.play(digits: "12", durationMilliseconds: 100, now: testEpoch))
        let quietResult = drive(quiet, arrivals: [], until: testEpoch + 500 * milliseconds)
        let groups = eventGroups(quietResult.packets)
        #expect(groups.count == 2)
        #expect(quietResult.packets.allSatisfy { $0.payloadType == 96 })
        if groups.count == 2 {
            expectWellFormedEvent(groups[0], code: 1, duration: 800)
            expectWellFormedEvent(groups[1], code: 2, duration: 800)
            // The second digit starts after the first one's end and a gap.
            #expect(Int32(bitPattern: groups[1][0].timestamp &- groups[0][0].timestamp) >= 800 + 320)
        }
    }

    @Test func playTonesTowardsG711WithoutEvents() throws {
        let format = try LegMediaFormat(codec: .pcma)
        let processor = try MediaDirectionProcessor(from: format, to: format)
        #expect(processor.isPassthrough)
        // The leg keeps sending a 500 Hz tone throughout; the digits replace it, then it resumes.
        let sine = makeTestSine(frequency: 500, amplitude: 4000, count: 8000 * 2)
        let audio = g711Arrivals(.aLaw, sine, payloadType: 8)
        var outcome: DTMFPlayOutcome?
        let result = drive(processor, arrivals: sequenced(audio), until: testEpoch + 2000 * milliseconds,
                           actions: [(testEpoch + 300 * milliseconds, { outcome = processor.playDigits("159#", durationMilliseconds: 100, now: $0) })])
        #expect(outcome == .tones)
        let out = result.packets
        #expect(out.allSatisfy { $0.payloadType == 8 && $0.ssrc == processor.outputSSRC })
        #expect(zip(out, out.dropFirst()).allSatisfy { $1.sequence == $0.sequence &+ 1 })
        // Never two packets for the same stretch of time.
        for (previous, next) in zip(out, out.dropFirst()) {
            #expect(Int32(bitPattern: next.timestamp &- previous.timestamp) >= Int32(previous.payload.count))
        }
        let heard = pcmTimeline(out, law: .aLaw)
        #expect(try detectedDigits(heard) == "159#")
        // The sender's tone is back after the digits, on a new talk spurt.
        let resumed = try #require(out.lastIndex { $0.marker })
        #expect(resumed > 0)
        let tail = out[resumed...].flatMap { $0.payload.map(G711.decodeALaw) }
        #expect(testTonePower(tail[...], frequency: 500) > 100 * testTonePower(tail[...], frequency: 697))
        #expect(processor.counters.replacedAudioPackets > 20)
        #expect(processor.counters.digitsPlayed == 4)
    }

    @Test func playWithoutAMediaRouteIsRefused() throws {
        let g729 = try LegMediaFormat(codec: .g729)
        let processor = try MediaDirectionProcessor(from: LegMediaFormat(codec: .pcma), to: g729)
        #expect(processor.playDigits("1", durationMilliseconds: 100, now: testEpoch) == .noMediaRoute)
        #expect(!processor.play(digits: "1", durationMilliseconds: 100, now: testEpoch))
        #expect(processor.playDigits("1x", durationMilliseconds: 100, now: testEpoch) == .invalidDigits)
        #expect(processor.playDigits("", durationMilliseconds: 100, now: testEpoch) == .invalidDigits)
        #expect(drive(processor, arrivals: [], until: testEpoch + 300 * milliseconds).packets.isEmpty)

        // With sendInband the G.729 leg gets the digits as tones.
        let inband = try MediaDirectionProcessor(from: LegMediaFormat(codec: .pcma), to: g729, dtmf: DTMFOptions(sendInband: true))
        #expect(inband.playDigits("1", durationMilliseconds: 100, now: testEpoch) == .tones)
        let out = drive(inband, arrivals: [], until: testEpoch + 300 * milliseconds).packets
        #expect(out.count >= 7 && out.allSatisfy { $0.payloadType == 18 && $0.payload.count == 20 })
        #expect(out.first?.marker == true)
    }

    @Test func rfc2833TowardsAnInbandLegBecomesTones() throws {
        let processor = try MediaDirectionProcessor(
            from: LegMediaFormat(codec: .pcmu, telephoneEventPayloadType: 101), to: LegMediaFormat(codec: .pcma),
            dtmf: DTMFOptions(sendInband: true))
        let audio = g711Arrivals(.uLaw, [Int16](repeating: 0, count: 8000), payloadType: 0)
        let events = eventArrivals(code: 4, timestamp: 16_000 + 1600, durations: [160, 320, 480, 640, 800],
                                   startTime: testEpoch + 200 * milliseconds)
            + eventArrivals(code: 12, timestamp: 16_000 + 4800, durations: [160, 320, 480, 640, 800],
                            startTime: testEpoch + 600 * milliseconds)
        let result = drive(processor, arrivals: sequenced(audio + events), until: testEpoch + 1200 * milliseconds)
        #expect(result.packets.allSatisfy { $0.payloadType == 8 })
        #expect(try detectedDigits(pcmTimeline(result.packets, law: .aLaw)) == "4A")
        #expect(result.reports.isEmpty)
        #expect(processor.counters.digitsPlayed == 2)
        #expect(processor.counters.droppedEvents == 14)
    }

    @Test func lockRFC2833FirstRefusesInfo() throws {
        let processor = try MediaDirectionProcessor(
            from: LegMediaFormat(codec: .pcma, telephoneEventPayloadType: 101),
            to: LegMediaFormat(codec: .pcmu, telephoneEventPayloadType: 101))
        let audio = g711Arrivals(.aLaw, [Int16](repeating: 0, count: 4800), payloadType: 8)
        let events = eventArrivals(code: 5, timestamp: 16_000 + 800, durations: [160, 320, 480, 640],
                                   startTime: testEpoch + 100 * milliseconds)
        var outcome: DTMFPlayOutcome?
        let result = drive(processor, arrivals: sequenced(audio + events), until: testEpoch + 600 * milliseconds,
                           actions: [(testEpoch + 150 * milliseconds, { outcome = processor.playDigits("5", durationMilliseconds: 100, now: $0) })])
        #expect(outcome == .droppedByLock)
        #expect(!processor.play(digits: "5", durationMilliseconds: 100, now: testEpoch + 700 * milliseconds))
        let groups = eventGroups(result.packets(payloadType: 101))
        #expect(groups.count == 1)
        #expect(groups.first?.count == 6)
        #expect(processor.counters.droppedByLock == 2)
        #expect(processor.counters.digitsPlayed == 0)
        #expect(processor.lockedDTMFMethod == .rfc2833)
    }

    @Test func lockInfoFirstDropsRFC2833() throws {
        let processor = try MediaDirectionProcessor(
            from: LegMediaFormat(codec: .pcma, telephoneEventPayloadType: 101),
            to: LegMediaFormat(codec: .pcmu, telephoneEventPayloadType: 100))
        let audio = g711Arrivals(.aLaw, [Int16](repeating: 0, count: 4800), payloadType: 8)
        // The same key press, also sent as RFC 2833 by the leg.
        let events = eventArrivals(code: 3, timestamp: 16_000 + 800, durations: [160, 320, 480, 640],
                                   startTime: testEpoch + 100 * milliseconds)
        var outcome: DTMFPlayOutcome?
        let result = drive(processor, arrivals: sequenced(audio + events), until: testEpoch + 600 * milliseconds,
                           actions: [(testEpoch + 90 * milliseconds, { outcome = processor.playDigits("3", durationMilliseconds: 100, now: $0) })])
        #expect(outcome == .events)
        let groups = eventGroups(result.packets(payloadType: 100))
        #expect(groups.count == 1)
        if let group = groups.first { expectWellFormedEvent(group, code: 3, duration: 800) }
        #expect(processor.counters.droppedByLock == 1)
        #expect(processor.counters.droppedEvents == 6)
        #expect(processor.lockedDTMFMethod == .info)

        // Towards a leg without events, the dropped RFC 2833 digit is not reported either.
        let reporting = try MediaDirectionProcessor(
            from: LegMediaFormat(codec: .pcma, telephoneEventPayloadType: 101), to: LegMediaFormat(codec: .g729))
        #expect(reporting.playDigits("3", durationMilliseconds: 100, now: testEpoch) == .noMediaRoute)
        let reported = drive(reporting, arrivals: sequenced(events), until: testEpoch + 600 * milliseconds)
        #expect(reported.reports.isEmpty)
        #expect(reporting.counters.droppedByLock == 1)

        // A receive setting of INFO only ignores RFC 2833 without locking.
        let infoOnly = try MediaDirectionProcessor(
            from: LegMediaFormat(codec: .pcma, telephoneEventPayloadType: 101),
            to: LegMediaFormat(codec: .pcmu, telephoneEventPayloadType: 101), dtmf: DTMFOptions(receive: .info))
        let filtered = drive(infoOnly, arrivals: sequenced(events), until: testEpoch + 600 * milliseconds)
        #expect(filtered.packets.isEmpty)
        #expect(infoOnly.counters.droppedByFilter == 1)
        #expect(infoOnly.lockedDTMFMethod == nil)
        #expect(infoOnly.play(digits: "3", durationMilliseconds: 100, now: testEpoch + 700 * milliseconds))
        let rfcOnly = try MediaDirectionProcessor(
            from: LegMediaFormat(codec: .pcma), to: LegMediaFormat(codec: .pcmu, telephoneEventPayloadType: 101),
            dtmf: DTMFOptions(receive: .rfc2833))
        #expect(rfcOnly.playDigits("3", durationMilliseconds: 100, now: testEpoch) == .refusedByFilter)
    }

    @Test func malformedAndForeignEventsAreDroppedAndCounted() throws {
        let from = try LegMediaFormat(codec: .pcma, telephoneEventPayloadType: 101)
        let withEvents = try LegMediaFormat(codec: .pcmu, telephoneEventPayloadType: 101, telephoneEventRange: 0...15)
        let withoutEvents = try LegMediaFormat(codec: .pcmu)
        for to in [withEvents, withoutEvents] {
            let processor = try MediaDirectionProcessor(from: from, to: to)
            var packets: [RTPTestPacket] = []
            // Bad lengths: empty, short, not a multiple of 4, longer than a datagram can carry.
            for length in [0, 1, 3, 5, 6, 7, 2040] {
                packets.append(RTPTestPacket(payloadType: 101, timestamp: 100, payload: [UInt8](repeating: 1, count: length)))
            }
            // Event codes outside the far leg's range and without a digit: 16 (flash), 200, 255.
            for code: UInt8 in [16, 200, 255] {
                packets.append(RTPTestPacket(payloadType: 101, timestamp: 200 + UInt32(code),
                                             payload: TelephoneEvent(event: code, end: true, volume: 10, duration: 160).bytes))
            }
            // Events on a payload type the leg did not declare.
            packets.append(RTPTestPacket(payloadType: 102, timestamp: 300, payload: TelephoneEvent(event: 1, end: true, volume: 10, duration: 160).bytes))
            let arrivals = sequenced(packets.enumerated().map { (testEpoch + UInt64($0.offset) * 20 * milliseconds, $0.element) })
            let result = drive(processor, arrivals: arrivals, until: testEpoch + 1000 * milliseconds)
            #expect(result.packets.isEmpty)
            #expect(result.reports.isEmpty)
            #expect(processor.counters.droppedMalformed == 7)
            #expect(processor.counters.eventPackets == 3)
            #expect(processor.counters.droppedEvents == 3)
            #expect(processor.counters.droppedUnknownPayloadType == 1)
            #expect(processor.lockedDTMFMethod == nil)
            expectDirectionCountersAddUp(processor.counters)
        }
    }

    @Test func detectionAndTonesTurnPassthroughOff() throws {
        let format = try LegMediaFormat(codec: .pcma)
        #expect(try MediaDirectionProcessor(from: format, to: format).isPassthrough)
        #expect(try !MediaDirectionProcessor(from: format, to: format, dtmf: DTMFOptions(detectInband: true)).isPassthrough)
        #expect(try !MediaDirectionProcessor(from: format, to: format, dtmf: DTMFOptions(sendInband: true)).isPassthrough)
        // G.729 is never searched for tones, so detection alone keeps it undecoded.
        let g729 = try LegMediaFormat(codec: .g729)
        #expect(try MediaDirectionProcessor(from: g729, to: g729, dtmf: DTMFOptions(detectInband: true)).isPassthrough)
        #expect(!MediaDirectionProcessor.needsProcessing(format, format, options: .init(), dtmf: .init()))
        #expect(MediaDirectionProcessor.needsProcessing(format, format, options: .init(), dtmf: DTMFOptions(detectInband: true)))
        #expect(MediaDirectionProcessor.needsProcessing(format, format, options: .init(), dtmf: DTMFOptions(sendInband: true)))
        #expect(throws: MediaDSPError.self) {
            try MediaDirectionProcessor(from: format, to: format, dtmf: DTMFOptions(toneOnMilliseconds: 10))
        }
        #expect(throws: MediaDSPError.self) {
            try MediaDirectionProcessor(from: format, to: format, dtmf: DTMFOptions(detectedDigitMilliseconds: 9000))
        }
    }
}
