/// DTMF carried in SIP INFO bodies: `application/dtmf-relay` (`Signal=5` / `Duration=160` lines,
/// the Cisco / de-facto format) and `application/dtmf` (the body is the digit alone).
///
/// Parsing is tolerant where real user agents differ and strict where ambiguity would relay a
/// wrong digit:
/// - keys are case-insensitive, whitespace around `=` and values is ignored, lines end in CRLF
///   or LF, blank lines are skipped, unknown keys are ignored;
/// - a signal is one of 0-9 * # A-D (lowercase a-d accepted), or the event codes 10-15 some
///   agents send for * # A-D;
/// - a missing Duration means 250 ms, the usual default for INFO-signalled digits;
/// - a missing or repeated Signal, a line without `=`, a non-numeric Duration, flash (16) or any
///   other signal, non-ASCII bytes and bodies over 1 KiB are refused with the reason.
public struct DTMFInfoDigit: Equatable, Sendable {
    /// The content type this module writes.
    public static let contentType = "application/dtmf-relay"
    /// The single-digit alternative some agents send.
    public static let plainContentType = "application/dtmf"
    /// Duration assumed when the body does not carry one.
    public static let defaultDurationMilliseconds = 250
    /// Largest Duration accepted; a longer "key press" is a broken sender.
    public static let maximumDurationMilliseconds = 60_000
    /// Largest body accepted; a real one is under 40 bytes.
    public static let maximumBodyLength = 1024

    /// "0"-"9", "*", "#", "A"-"D".
    public let digit: Character
    public let durationMilliseconds: Int

    public init(digit: Character, durationMilliseconds: Int = DTMFInfoDigit.defaultDurationMilliseconds)
        throws(DTMFInfoBodyError) {
        guard let ascii = digit.asciiValue, let normalized = Self.digitByte(ascii) else {
            throw DTMFInfoBodyError(.invalidSignal, "'\(digit)' is not a DTMF digit (0-9 * # A-D)")
        }
        guard (0...Self.maximumDurationMilliseconds).contains(durationMilliseconds) else {
            throw DTMFInfoBodyError(.invalidDuration,
                                    "duration \(durationMilliseconds) ms is outside 0...\(Self.maximumDurationMilliseconds)")
        }
        self.digit = Character(Unicode.Scalar(normalized))
        self.durationMilliseconds = durationMilliseconds
    }

    public init(contentType: String, body: String) throws(DTMFInfoBodyError) {
        try self.init(contentType: contentType, body: Array(body.utf8))
    }

    public init(contentType: String, body: [UInt8]) throws(DTMFInfoBodyError) {
        let mediaType = Self.mediaType(of: contentType)
        guard mediaType == Self.contentType || mediaType == Self.plainContentType else {
            throw DTMFInfoBodyError(.unsupportedContentType,
                                    "content type '\(contentType)' is neither \(Self.contentType) nor \(Self.plainContentType)")
        }
        guard body.count <= Self.maximumBodyLength else {
            throw DTMFInfoBodyError(.bodyTooLarge, "body is \(body.count) bytes; at most \(Self.maximumBodyLength) accepted")
        }
        guard body.allSatisfy({ $0 < 0x80 }) else {
            throw DTMFInfoBodyError(.invalidEncoding, "body contains non-ASCII bytes")
        }
        if mediaType == Self.plainContentType {
            let value = Self.trimmed(body[...])
            guard !value.isEmpty else { throw DTMFInfoBodyError(.missingSignal, "application/dtmf body is empty") }
            try self.init(digit: Self.signal(value), durationMilliseconds: Self.defaultDurationMilliseconds)
        } else {
            try self.init(relayBody: body)
        }
    }

    /// The `application/dtmf-relay` body, e.g. `Signal=5\r\nDuration=160\r\n`.
    public var body: String { "Signal=\(digit)\r\nDuration=\(durationMilliseconds)\r\n" }

    private init(relayBody body: [UInt8]) throws(DTMFInfoBodyError) {
        var signal: Character?
        var duration: Int?
        for rawLine in body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            let line = Self.trimmed(rawLine)
            if line.isEmpty { continue }
            guard let equals = line.firstIndex(of: UInt8(ascii: "=")) else {
                throw DTMFInfoBodyError(.malformedLine, "line '\(Self.text(line))' has no '='")
            }
            let key = Self.text(Self.trimmed(line[..<equals])).lowercased()
            let value = Self.trimmed(line[line.index(after: equals)...])
            switch key {
            case "signal":
                guard signal == nil else { throw DTMFInfoBodyError(.duplicateField, "Signal appears more than once") }
                guard !value.isEmpty else { throw DTMFInfoBodyError(.missingSignal, "Signal has no value") }
                signal = try Self.signal(value)
            case "duration":
                guard duration == nil else { throw DTMFInfoBodyError(.duplicateField, "Duration appears more than once") }
                duration = try Self.duration(value)
            default:
                continue
            }
        }
        guard let signal else { throw DTMFInfoBodyError(.missingSignal, "body has no Signal line") }
        try self.init(digit: signal, durationMilliseconds: duration ?? Self.defaultDurationMilliseconds)
    }

    /// The media type, lowercased, without parameters or surrounding whitespace.
    private static func mediaType(of contentType: String) -> String {
        let bare = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return text(trimmed(Array(bare.utf8)[...])).lowercased()
    }

    private static func signal(_ value: ArraySlice<UInt8>) throws(DTMFInfoBodyError) -> Character {
        if value.count == 1, let first = value.first, let digit = digitByte(first) {
            return Character(Unicode.Scalar(digit))
        }
        // Event codes 10-15 (RFC 4733 numbering) stand for * # A-D in some agents.
        if value.count == 2, value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            let code = Int(value[value.startIndex] - 0x30) * 10 + Int(value[value.startIndex + 1] - 0x30)
            let symbols: [UInt8] = Array("*#ABCD".utf8)
            if (10...15).contains(code) { return Character(Unicode.Scalar(symbols[code - 10])) }
            if code == 16 {
                throw DTMFInfoBodyError(.invalidSignal, "Signal 16 is hook flash, not a DTMF digit")
            }
        }
        throw DTMFInfoBodyError(.invalidSignal, "Signal '\(text(value))' is not a DTMF digit (0-9 * # A-D or 10-15)")
    }

    private static func duration(_ value: ArraySlice<UInt8>) throws(DTMFInfoBodyError) -> Int {
        guard !value.isEmpty, value.count <= 9, value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw DTMFInfoBodyError(.invalidDuration, "Duration '\(text(value))' is not a number of milliseconds")
        }
        var number = 0
        for byte in value { number = number * 10 + Int(byte - 0x30) }
        guard number <= maximumDurationMilliseconds else {
            throw DTMFInfoBodyError(.invalidDuration,
                                    "Duration \(number) ms exceeds \(maximumDurationMilliseconds) ms")
        }
        return number
    }

    /// Uppercased digit byte, or nil when not a DTMF digit.
    private static func digitByte(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "*"), UInt8(ascii: "#"),
             UInt8(ascii: "A")...UInt8(ascii: "D"):
            return byte
        case UInt8(ascii: "a")...UInt8(ascii: "d"):
            return byte - 0x20
        default:
            return nil
        }
    }

    /// Without leading and trailing spaces, tabs and CR (LF was the line separator).
    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        func isBlank(_ byte: UInt8) -> Bool {
            byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
                || byte == UInt8(ascii: "\n")
        }
        var slice = bytes
        while let first = slice.first, isBlank(first) { slice.removeFirst() }
        while let last = slice.last, isBlank(last) { slice.removeLast() }
        return slice
    }

    /// Printable form for error messages; bodies are checked to be ASCII before this is used.
    private static func text(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.prefix(40).map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }
}

/// Why a SIP INFO DTMF body was refused.
///
/// `description` is meant for logs and the reason of a 415/400 answer, e.g.
/// `invalid DTMF INFO body: Signal '16' ...`.
public struct DTMFInfoBodyError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Not application/dtmf-relay or application/dtmf (answer 415).
        case unsupportedContentType
        case bodyTooLarge
        case invalidEncoding
        case malformedLine
        case missingSignal
        case invalidSignal
        case invalidDuration
        case duplicateField
    }

    public var kind: Kind
    public var detail: String

    public init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    public var description: String { "invalid DTMF INFO body: \(detail)" }

    /// 415 for a content type we do not understand, 400 for a malformed body.
    public var suggestedStatusCode: Int { kind == .unsupportedContentType ? 415 : 400 }
}
