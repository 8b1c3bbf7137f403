import Testing
@testable import MediaDSP

/// Runs the sender on a steady 20 ms tick and keeps every packet with the tick it came on.
private func drain(_ sender: inout TelephoneEventSender, ticks: Int, elapsed: Int = 160)
    -> [(tick: Int, packet: TelephoneEventPacket)] {
    var packets: [(tick: Int, packet: TelephoneEventPacket)] = []
    for tick in 0..<ticks {
        if let packet = sender.next(elapsedSamples: elapsed) { packets.append((tick, packet)) }
    }
    return packets
}

@Suite struct TelephoneEventSenderTests {
    @Test func playsOneDigitWithGrowingDurationAndThreeEnds() throws {
        var sender = TelephoneEventSender(initialTimestamp: 1000)
        try sender.start(digit: "5", durationMilliseconds: 100, volume: 12)
        #expect(!sender.isIdle)
        let packets = drain(&sender, ticks: 12)
        #expect(packets.map(\.packet.payload.duration) == [160, 320, 480, 640, 800, 800, 800])
        #expect(packets.map(\.packet.marker) == [true, false, false, false, false, false, false])
        #expect(packets.map(\.packet.isEnd) == [false, false, false, false, true, true, true])
        #expect(packets.map(\.packet.payload.end) == packets.map(\.packet.isEnd))
        #expect(packets.map(\.tick) == [0, 1, 2, 3, 4, 5, 6])
        // The event starts on the first tick (clock 160): one timestamp for all of its packets.
        #expect(Set(packets.map(\.packet.timestamp)) == [1160])
        #expect(packets.allSatisfy { $0.packet.payload.event == 5 && $0.packet.payload.volume == 12 })
        #expect(sender.isIdle)
        #expect(!sender.isSendingEvent)
    }

    @Test func queuedDigitsKeepTheMinimumGap() throws {
        var sender = TelephoneEventSender()
        for digit: Character in ["1", "1", "#"] { try sender.start(digit: digit, durationMilliseconds: 100) }
        #expect(sender.pendingCount == 3)
        let packets = drain(&sender, ticks: 40)
        let starts = packets.filter(\.packet.marker)
        #expect(starts.map(\.packet.payload.event) == [1, 1, 11])
        #expect(packets.count == 21)
        let timestamps = starts.map(\.packet.timestamp)
        // Event 800 samples + 40 ms gap (320): the next may start 1120 samples later.
        #expect(timestamps == [160, 1280, 2400])
        for (previous, next) in zip(timestamps, timestamps.dropFirst()) {
            #expect(next - previous >= 800 + 320)
        }
        // No packet of an event after the first packet of the next one.
        var lastStart: UInt32 = 0
        for (_, packet) in packets {
            #expect(packet.timestamp >= lastStart)
            lastStart = packet.timestamp
        }
    }

    @Test func clampsShortDurationsToFortyMilliseconds() throws {
        var sender = TelephoneEventSender()
        try sender.start(digit: "9", durationMilliseconds: 5)
        let packets = drain(&sender, ticks: 6)
        #expect(packets.map(\.packet.payload.duration) == [160, 320, 320, 320])
        #expect(packets.map(\.packet.isEnd) == [false, true, true, true])
    }

    @Test func lateTickReportsRealDurationWithoutBursting() throws {
        var sender = TelephoneEventSender()
        try sender.start(digit: "2", durationMilliseconds: 200)
        let first = sender.next(elapsedSamples: 0)
        #expect(first?.payload.duration == 160)
        #expect(first?.timestamp == 0)
        // A tick 60 ms late: one packet, covering the time that really passed.
        let late = sender.next(elapsedSamples: 480)
        #expect(late?.payload.duration == 640)
        #expect(sender.next(elapsedSamples: 0) == nil)
        #expect(sender.next(elapsedSamples: 160)?.payload.duration == 800)
    }

    @Test func waitsForTheClockBetweenPackets() throws {
        var sender = TelephoneEventSender()
        try sender.start(digit: "3")
        #expect(sender.next(elapsedSamples: 0)?.marker == true)
        #expect(sender.next(elapsedSamples: 80) == nil)
        #expect(sender.next(elapsedSamples: 80)?.payload.duration == 320)
    }

    @Test func timestampWrapsAround() throws {
        var sender = TelephoneEventSender(initialTimestamp: UInt32.max - 99)
        try sender.start(digit: "0")
        let packet = sender.next(elapsedSamples: 160)
        #expect(packet?.timestamp == 60)
    }

    @Test func refusesInvalidDigitsAndOverflow() throws {
        var sender = TelephoneEventSender()
        #expect(throws: TelephoneEventError.invalidDigit("E")) { try sender.start(digit: "E") }
        for _ in 0..<TelephoneEventSender.queueCapacity { try sender.start(digit: "7") }
        #expect(throws: TelephoneEventError.queueFull(capacity: 32)) { try sender.start(digit: "7") }
        // Playing one frees a slot.
        _ = sender.next(elapsedSamples: 160)
        try sender.start(digit: "8")
        #expect(sender.pendingCount == 32)
    }

    @Test func sendsFlashByEventCode() throws {
        var sender = TelephoneEventSender()
        try sender.start(event: TelephoneEvent.flash, durationMilliseconds: 60)
        #expect(sender.next(elapsedSamples: 160)?.payload.event == 16)
    }

    @Test func resetDropsEverything() throws {
        var sender = TelephoneEventSender()
        try sender.start(digit: "4")
        try sender.start(digit: "5")
        _ = sender.next(elapsedSamples: 160)
        #expect(sender.isSendingEvent)
        sender.reset()
        #expect(sender.isIdle)
        #expect(sender.next(elapsedSamples: 160) == nil)
        try sender.start(digit: "6")
        #expect(sender.next(elapsedSamples: 160)?.marker == true)
    }

    @Test func longDurationFitsSixteenBits() throws {
        var sender = TelephoneEventSender()
        try sender.start(digit: "1", durationMilliseconds: 60_000)
        var last: TelephoneEventPacket?
        for _ in 0..<500 {
            if let packet = sender.next(elapsedSamples: 160) { last = packet }
        }
        #expect(last?.payload.duration == 64_000)
        #expect(last?.isEnd == true)
    }
}
