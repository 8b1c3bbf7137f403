/// `[display-name] <URI> *(;param)` or `addr-spec *(;param)`: the value shape of From, To,
/// Contact, Route, Record-Route, Refer-To and friends.
public struct SIPNameAddress: Sendable, Equatable, CustomStringConvertible {
    /// Display name with quoting and quoted-pairs removed.
    public var displayName: String?
    public var uri: SIPURI
    /// Header parameters (after '>' or after an addr-spec), e.g. tag, expires, q.
    public var parameters: SIPParameters

    public init(displayName: String? = nil, uri: SIPURI, parameters: SIPParameters = []) {
        self.displayName = displayName
        self.uri = uri
        self.parameters = parameters
    }

    public var tag: String? {
        get { parameters["tag"] }
        set {
            if let newValue { parameters.set("tag", newValue) } else { parameters.remove("tag") }
        }
    }

    /// Parses a single value (From, To, one Route entry...).
    public init(parsing text: String) throws(SIPParseError) {
        self = try withByteReader(text) { (reader: inout ByteReader) throws(SIPParseError) -> SIPNameAddress in
            reader.skipWhitespace()
            let value = try SIPNameAddress.parse(&reader, inList: false)
            reader.skipWhitespace()
            guard reader.isAtEnd else {
                throw SIPParseError(.invalidHeader, "unexpected text after address")
            }
            return value
        }
    }

    /// Always writes the `<URI>` form, which is valid for every URI (RFC 3261 §20.10).
    public var description: String {
        var output = ""
        if let displayName, !displayName.isEmpty {
            SIPNameAddress.writeQuoted(displayName, to: &output)
            output += " "
        }
        output += "<"
        uri.write(to: &output)
        output += ">"
        parameters.write(to: &output)
        return output
    }

    public static func writeQuoted(_ text: String, to output: inout String) {
        output += "\""
        var plain = true
        for byte in text.utf8 where byte == ByteClass.quote || byte == ByteClass.backslash
            || (byte < 0x20 && byte != ByteClass.tab) || byte == 0x7F {
            plain = false
            break
        }
        if plain {
            output += text
        } else {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(text.utf8.count + 8)
            for byte in text.utf8 {
                if byte == ByteClass.quote || byte == ByteClass.backslash
                    || (byte < 0x20 && byte != ByteClass.tab) || byte == 0x7F {
                    bytes.append(ByteClass.backslash)
                }
                bytes.append(byte)
            }
            output += String(decoding: bytes, as: UTF8.self)
        }
        output += "\""
    }

    static func unquote(_ reader: ByteReader, _ range: Range<Int>) -> String {
        let inner = (range.lowerBound + 1)..<(range.upperBound - 1)
        guard reader.contains(ByteClass.backslash, in: inner) else { return reader.string(inner) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(inner.count)
        var index = inner.lowerBound
        while index < inner.upperBound {
            if reader.bytes[index] == ByteClass.backslash, index + 1 < inner.upperBound { index += 1 }
            bytes.append(reader.bytes[index])
            index += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses one element starting at a non-whitespace byte; stops before ',' or the end.
    static func parse(_ reader: inout ByteReader, inList: Bool) throws(SIPParseError) -> SIPNameAddress {
        var displayName: String?
        if reader.current == ByteClass.quote {
            let quoted = try reader.readQuotedString()
            displayName = unquote(reader, quoted)
            reader.skipWhitespace()
            guard reader.current == ByteClass.lessThan else {
                throw SIPParseError(.invalidHeader, "display name must be followed by '<'")
            }
        } else if reader.current != ByteClass.lessThan {
            // Either `*(token LWS) <URI>` or a bare addr-spec; only a '<' after the tokens says which.
            let start = reader.position
            var lastTokenEnd = start
            while true {
                let token = reader.read(while: ByteClass.isToken)
                if token.isEmpty { break }
                lastTokenEnd = token.upperBound
                reader.skipWhitespace()
            }
            if reader.current == ByteClass.lessThan, lastTokenEnd > start {
                displayName = reader.string(start..<lastTokenEnd)
            } else {
                reader.position = start
                return try parseAddrSpec(&reader, inList: inList)
            }
        }
        guard reader.consume(ByteClass.lessThan) else {
            throw SIPParseError(.invalidHeader, "expected '<'")
        }
        let uriRange = reader.read(while: { $0 != ByteClass.greaterThan })
        guard reader.consume(ByteClass.greaterThan) else {
            throw SIPParseError(.invalidHeader, "missing '>'")
        }
        if let first = reader.bytes[uriRange].first, ByteClass.isWhitespace(first) {
            throw SIPParseError(.invalidHeader, "whitespace after '<'")
        }
        if let last = reader.bytes[uriRange].last, ByteClass.isWhitespace(last) {
            throw SIPParseError(.invalidHeader, "whitespace before '>'")
        }
        let uri = try SIPURI.parse(UnsafeBufferPointer(rebasing: reader.bytes[uriRange]))
        let parameters = try parseHeaderParameters(&reader)
        return SIPNameAddress(displayName: displayName, uri: uri, parameters: parameters)
    }

    private static func parseAddrSpec(_ reader: inout ByteReader, inList: Bool) throws(SIPParseError) -> SIPNameAddress {
        let uriRange = reader.read(while: { byte in
            byte != ByteClass.semicolon && !ByteClass.isWhitespace(byte) && !(inList && byte == ByteClass.comma)
        })
        guard !uriRange.isEmpty else { throw SIPParseError(.invalidHeader, "missing URI") }
        let uri = try SIPURI.parse(UnsafeBufferPointer(rebasing: reader.bytes[uriRange]))
        if uri.headers != nil {
            // RFC 3261 §20: a URI with '?', ',' or ';' must be written inside '<>'.
            throw SIPParseError(.invalidHeader, "URI with headers must be enclosed in '<>'")
        }
        let parameters = try parseHeaderParameters(&reader)
        return SIPNameAddress(uri: uri, parameters: parameters)
    }

    static func parseHeaderParameters(_ reader: inout ByteReader) throws(SIPParseError) -> SIPParameters {
        try SIPParameters.parse(
            &reader, allowWhitespace: true, nameClass: ByteClass.isToken,
            valueClass: ByteClass.isParamValueChar)
    }

    /// Parses a comma-separated list (Route, Record-Route, Contact).
    static func parseList(_ text: String, limit: Int) throws(SIPParseError) -> [SIPNameAddress] {
        try withByteReader(text) { (reader: inout ByteReader) throws(SIPParseError) -> [SIPNameAddress] in
            var result: [SIPNameAddress] = []
            repeat {
                reader.skipWhitespace()
                result.append(try parse(&reader, inList: true))
                guard result.count <= limit else {
                    throw SIPParseError(.invalidHeader, "more than \(limit) list elements")
                }
                reader.skipWhitespace()
                if reader.isAtEnd { return result }
            } while reader.consume(ByteClass.comma)
            throw SIPParseError(.invalidHeader, "unexpected character after address")
        }
    }
}
