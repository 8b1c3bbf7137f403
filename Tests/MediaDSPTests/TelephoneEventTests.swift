import Testing
@testable import MediaDSP

@Suite struct TelephoneEventTests {
    @Test func parsesAllFields() throws {
        let event = try TelephoneEvent(parsing: [0x05, 0x8A, 0x03, 0x20])
        #expect(event == TelephoneEvent(event: 5, end: true, volume: 10, duration: 800))
    }

    @Test func ignoresReservedBit() throws {
        let event = try TelephoneEvent(parsing: [0x0B, 0x4A, 0x00, 0xA0])
        #expect(event.end == false)
        #expect(event.volume == 10)
        #expect(event.event == 11)
        #expect(event.duration == 160)
    }

    @Test(arguments: [0, 1, 3, 5, 8])
    func refusesOtherLengths(length: Int) {
        #expect(throws: TelephoneEventError.invalidPayloadLength(length)) {
            try TelephoneEvent(parsing: [UInt8](repeating: 0, count: length))
        }
        let bytes = [UInt8](repeating: 0, count: length)
        #expect(throws: TelephoneEventError.invalidPayloadLength(length)) {
            try bytes.withUnsafeBytes { try TelephoneEvent(parsing: $0) }
        }
    }

    @Test func writesAndRoundTrips() throws {
        let event = TelephoneEvent(event: 15, end: true, volume: 63, duration: 0xFFFF)
        var buffer = [UInt8](repeating: 0xEE, count: 6)
        let written = try buffer.withUnsafeMutableBytes { try event.write(to: $0) }
        #expect(written == 4)
        #expect(buffer == [0x0F, 0xBF, 0xFF, 0xFF, 0xEE, 0xEE])
        #expect(event.bytes == Array(buffer.prefix(4)))
        #expect(try TelephoneEvent(parsing: event.bytes) == event)
    }

    @Test func clampsVolumeToQuietest() {
        let event = TelephoneEvent(event: 1, end: false, volume: 200, duration: 160)
        #expect(event.bytes == [0x01, 0x3F, 0x00, 0xA0])
    }

    @Test func refusesShortOutputBuffer() {
        var buffer = [UInt8](repeating: 0, count: 3)
        #expect(throws: TelephoneEventError.bufferTooSmall(3)) {
            try buffer.withUnsafeMutableBytes { try TelephoneEvent(event: 1, end: false, volume: 0, duration: 0).write(to: $0) }
        }
    }

    @Test func mapsDigitsBothWays() {
        let digits: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#", "A", "B", "C", "D"]
        for (code, digit) in digits.enumerated() {
            #expect(TelephoneEvent.event(forDigit: digit) == UInt8(code))
            #expect(TelephoneEvent.digit(forEvent: UInt8(code)) == digit)
            #expect(TelephoneEvent.ascii(forEvent: UInt8(code)) == digit.asciiValue)
        }
        #expect(TelephoneEvent.event(forDigit: "a") == 12)
        #expect(TelephoneEvent.event(forDigit: "d") == 15)
        for invalid: Character in ["E", "e", "!", " ", "é", "x"] {
            #expect(TelephoneEvent.event(forDigit: invalid) == nil)
        }
        #expect(TelephoneEvent.digit(forEvent: TelephoneEvent.flash) == nil)
        #expect(TelephoneEvent.digit(forEvent: 255) == nil)
    }

    @Test func errorsSayWhatFailed() {
        #expect(TelephoneEventError.invalidPayloadLength(7).description.contains("7 bytes"))
        #expect(TelephoneEventError.invalidDigit("X").description.contains("'X'"))
        #expect(TelephoneEventError.queueFull(capacity: 32).description.contains("32"))
    }
}
