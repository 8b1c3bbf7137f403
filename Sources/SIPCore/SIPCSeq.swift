/// `CSeq: <sequence> <method>`. Sequence numbers must be below 2^31 (RFC 3261 §8.1.1.5).
public struct SIPCSeq: Sendable, Equatable, CustomStringConvertible {
    public var sequence: UInt32
    public var method: String

    public init(sequence: UInt32, method: String) {
        self.sequence = sequence
        self.method = method
    }

    public init(parsing text: String) throws(SIPParseError) {
        self = try withByteReader(text) { (reader: inout ByteReader) throws(SIPParseError) -> SIPCSeq in
            reader.skipWhitespace()
            let number = try reader.readNumber(maximum: 0x7FFF_FFFF, what: "sequence number")
            let beforeSpace = reader.position
            reader.skipWhitespace()
            guard reader.position > beforeSpace else {
                throw SIPParseError(.invalidHeader, "missing whitespace before method")
            }
            let method = reader.read(while: ByteClass.isToken)
            guard !method.isEmpty else { throw SIPParseError(.invalidHeader, "missing method") }
            reader.skipWhitespace()
            guard reader.isAtEnd else { throw SIPParseError(.invalidHeader, "unexpected text after method") }
            return SIPCSeq(sequence: UInt32(number), method: reader.string(method))
        }
    }

    public var description: String { "\(sequence) \(method)" }
}
