/// Values that start with delta-seconds and may carry a comment or parameters after it
/// (Retry-After, Session-Expires). Values above 2^32-1 are rejected (RFC 4475 §3.1.2.5).
public struct SIPDeltaSeconds: Sendable, Equatable {
    public var seconds: UInt32
    public var parameters: SIPParameters

    public static func parseLeading(_ text: String) throws(SIPParseError) -> SIPDeltaSeconds {
        try withByteReader(text) { (reader: inout ByteReader) throws(SIPParseError) -> SIPDeltaSeconds in
            reader.skipWhitespace()
            let seconds = try reader.readNumber(maximum: 0xFFFF_FFFF, what: "delta-seconds")
            reader.skipWhitespace()
            if reader.current == 0x28 { // '(' comment, as in Retry-After
                _ = reader.read(while: { $0 != 0x29 })
                guard reader.consume(0x29) else { throw SIPParseError(.invalidHeader, "unterminated comment") }
            }
            let parameters = try SIPNameAddress.parseHeaderParameters(&reader)
            reader.skipWhitespace()
            guard reader.isAtEnd else { throw SIPParseError(.invalidHeader, "unexpected text after delta-seconds") }
            return SIPDeltaSeconds(seconds: UInt32(seconds), parameters: parameters)
        }
    }
}
