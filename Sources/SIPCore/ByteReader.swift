/// A forward cursor over the UTF-8 bytes of one header value (already unfolded), used by every
/// typed-header decoder. It never reads past `bytes.count`.
struct ByteReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var position: Int = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    var isAtEnd: Bool { position >= bytes.count }
    var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    mutating func skipWhitespace() {
        while position < bytes.count, ByteClass.isWhitespace(bytes[position]) { position += 1 }
    }

    mutating func consume(_ byte: UInt8) -> Bool {
        guard position < bytes.count, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    /// Consumes `byte` surrounded by optional whitespace (the grammar's SWS-wrapped separators).
    mutating func consumeSeparator(_ byte: UInt8) -> Bool {
        let start = position
        skipWhitespace()
        if consume(byte) {
            skipWhitespace()
            return true
        }
        position = start
        return false
    }

    mutating func read(while predicate: (UInt8) -> Bool) -> Range<Int> {
        let start = position
        while position < bytes.count, predicate(bytes[position]) { position += 1 }
        return start..<position
    }

    func string(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    func contains(_ byte: UInt8, in range: Range<Int>) -> Bool {
        bytes[range].contains(byte)
    }

    /// Reads a quoted-string starting at the opening quote and returns its raw text including
    /// the quotes. quoted-pair may escape any byte except CR and LF.
    mutating func readQuotedString() throws(SIPParseError) -> Range<Int> {
        let start = position
        guard consume(ByteClass.quote) else {
            throw SIPParseError(.invalidHeader, "expected '\"'")
        }
        while position < bytes.count {
            let byte = bytes[position]
            if byte == ByteClass.quote {
                position += 1
                return start..<position
            }
            if byte == ByteClass.backslash {
                guard position + 1 < bytes.count else { break }
                let escaped = bytes[position + 1]
                if escaped == ByteClass.cr || escaped == ByteClass.lf {
                    throw SIPParseError(.invalidHeader, "quoted-pair cannot escape CR or LF")
                }
                position += 2
                continue
            }
            if byte < 0x20 && byte != ByteClass.tab || byte == 0x7F {
                throw SIPParseError(.invalidHeader, "control character inside quoted string")
            }
            position += 1
        }
        throw SIPParseError(.invalidHeader, "unterminated quoted string")
    }

    /// Parses an unsigned decimal, rejecting empty input and anything above `maximum`
    /// (overflow-safe: the torture tests feed 20+ digit numbers).
    mutating func readNumber(maximum: UInt64, what: String) throws(SIPParseError) -> UInt64 {
        let range = read(while: ByteClass.isDigit)
        guard !range.isEmpty else { throw SIPParseError(.invalidHeader, "\(what) is not a number") }
        var value: UInt64 = 0
        for index in range {
            let digit = UInt64(bytes[index] - 0x30)
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(digit)
            guard !overflow1, !overflow2, sum <= maximum else {
                throw SIPParseError(.invalidHeader, "\(what) \(string(range)) exceeds \(maximum)")
            }
            value = sum
        }
        return value
    }
}

/// Runs `body` over the contiguous UTF-8 of `string` without copying it, keeping typed throws.
func withByteReader<T>(
    _ string: String, _ body: (inout ByteReader) throws(SIPParseError) -> T
) throws(SIPParseError) -> T {
    var copy = string
    let result: Result<T, SIPParseError> = copy.withUTF8 { buffer in
        var reader = ByteReader(buffer)
        do throws(SIPParseError) { return .success(try body(&reader)) } catch { return .failure(error) }
    }
    return try result.get()
}

/// Parses a whole string as a bounded unsigned decimal (Max-Forwards, Expires, ...).
func parseUnsigned(_ text: String, maximum: UInt64, what: String) throws(SIPParseError) -> UInt64 {
    try withByteReader(text) { (reader: inout ByteReader) throws(SIPParseError) -> UInt64 in
        reader.skipWhitespace()
        let value = try reader.readNumber(maximum: maximum, what: what)
        reader.skipWhitespace()
        guard reader.isAtEnd else {
            throw SIPParseError(.invalidHeader, "unexpected text after \(what)")
        }
        return value
    }
}
