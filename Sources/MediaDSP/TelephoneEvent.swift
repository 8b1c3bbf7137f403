/// The RFC 4733 (formerly RFC 2833) telephone-event RTP payload: one 4-byte event report.
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// |     event     |E|R| volume    |          duration             |
/// ```
///
/// Choices:
/// - Only the single-event 4-byte form is accepted. The multi-event packing of RFC 4733 §2.5.1.5
///   is refused: no DTMF source we interwork with sends it, and accepting it would make "which
///   event is this" ambiguous for the relay.
/// - The reserved R bit is ignored on parse and written as 0 (RFC 4733 §2.3).
/// - Volume is 6 bits (0 to -63 dBm0). A larger value is written as 63, the quietest level,
///   rather than wrapping into a louder one.
/// - Digits are the 16 DTMF events 0-15. Event 16 (flash) and anything above have no digit:
///   `digit(forEvent:)` returns nil and callers relay such events untouched.
public struct TelephoneEvent: Equatable, Sendable {
    /// Bytes in one event report.
    public static let payloadLength = 4
    /// Hook flash (RFC 4733 §3.2); not a DTMF digit.
    public static let flash: UInt8 = 16
    /// Largest volume value; the field is 6 bits.
    public static let maximumVolume: UInt8 = 63

    public var event: UInt8
    /// E bit: this report ends the event.
    public var end: Bool
    /// Power level in -dBm0 (0 loudest, 63 quietest).
    public var volume: UInt8
    /// Duration so far in timestamp units (samples at 8 kHz).
    public var duration: UInt16

    public init(event: UInt8, end: Bool, volume: UInt8, duration: UInt16) {
        self.event = event
        self.end = end
        self.volume = volume
        self.duration = duration
    }

    /// Parses an RTP payload; typed throws so a malformed packet costs no allocation.
    public init(parsing payload: UnsafeRawBufferPointer) throws(TelephoneEventError) {
        guard payload.count == Self.payloadLength else {
            throw .invalidPayloadLength(payload.count)
        }
        self.init(payload[0], payload[1], payload[2], payload[3])
    }

    /// Control-path and test convenience over `init(parsing: UnsafeRawBufferPointer)`.
    public init(parsing bytes: [UInt8]) throws(TelephoneEventError) {
        guard bytes.count == Self.payloadLength else {
            throw .invalidPayloadLength(bytes.count)
        }
        self.init(bytes[0], bytes[1], bytes[2], bytes[3])
    }

    private init(_ byte0: UInt8, _ byte1: UInt8, _ byte2: UInt8, _ byte3: UInt8) {
        event = byte0
        end = byte1 & 0x80 != 0
        volume = byte1 & 0x3F
        duration = UInt16(byte2) << 8 | UInt16(byte3)
    }

    /// Writes the 4-byte payload at the start of `buffer` and returns the bytes written.
    @discardableResult
    public func write(to buffer: UnsafeMutableRawBufferPointer) throws(TelephoneEventError) -> Int {
        guard buffer.count >= Self.payloadLength else {
            throw .bufferTooSmall(buffer.count)
        }
        buffer[0] = event
        buffer[1] = (end ? 0x80 : 0) | min(volume, Self.maximumVolume)
        buffer[2] = UInt8(truncatingIfNeeded: duration >> 8)
        buffer[3] = UInt8(truncatingIfNeeded: duration)
        return Self.payloadLength
    }

    /// The payload as a new array (control path and tests).
    public var bytes: [UInt8] {
        [event, (end ? 0x80 : 0) | min(volume, Self.maximumVolume),
         UInt8(truncatingIfNeeded: duration >> 8), UInt8(truncatingIfNeeded: duration)]
    }

    /// The event code for a DTMF digit: "0"-"9" → 0-9, "*" → 10, "#" → 11, "A"-"D" → 12-15.
    /// Lowercase "a"-"d" are accepted because some SIP INFO senders use them.
    public static func event(forDigit digit: Character) -> UInt8? {
        guard let ascii = digit.asciiValue else { return nil }
        return event(forASCII: ascii)
    }

    /// The digit for a DTMF event code (uppercase letters), or nil for flash and other events.
    public static func digit(forEvent event: UInt8) -> Character? {
        guard let ascii = ascii(forEvent: event) else { return nil }
        return Character(Unicode.Scalar(ascii))
    }

    /// Same mapping as `event(forDigit:)` on an ASCII byte, for code that avoids `Character`.
    public static func event(forASCII ascii: UInt8) -> UInt8? {
        switch ascii {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return ascii - UInt8(ascii: "0")
        case UInt8(ascii: "*"): return 10
        case UInt8(ascii: "#"): return 11
        case UInt8(ascii: "A")...UInt8(ascii: "D"): return ascii - UInt8(ascii: "A") + 12
        case UInt8(ascii: "a")...UInt8(ascii: "d"): return ascii - UInt8(ascii: "a") + 12
        default: return nil
        }
    }

    /// Same mapping as `digit(forEvent:)` returning the ASCII byte.
    public static func ascii(forEvent event: UInt8) -> UInt8? {
        switch event {
        case 0...9: return UInt8(ascii: "0") + event
        case 10: return UInt8(ascii: "*")
        case 11: return UInt8(ascii: "#")
        case 12...15: return UInt8(ascii: "A") + event - 12
        default: return nil
        }
    }
}

/// Why a telephone-event payload or digit was refused.
public enum TelephoneEventError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The RTP payload was not exactly 4 bytes (value: its length).
    case invalidPayloadLength(Int)
    /// The output buffer was shorter than 4 bytes (value: its length).
    case bufferTooSmall(Int)
    /// The character is not a DTMF digit (0-9 * # A-D).
    case invalidDigit(Character)
    /// The pending-digit queue already holds `capacity` digits.
    case queueFull(capacity: Int)

    public var description: String {
        switch self {
        case .invalidPayloadLength(let length):
            return "telephone-event payload is \(length) bytes; expected exactly 4 (one event report)"
        case .bufferTooSmall(let length):
            return "telephone-event output buffer is \(length) bytes; need 4"
        case .invalidDigit(let digit):
            return "'\(digit)' is not a DTMF digit (expected 0-9, *, #, A-D)"
        case .queueFull(let capacity):
            return "DTMF digit queue is full (\(capacity) digits pending)"
        }
    }
}
