/// A sip:, sips: or tel: URI. Text fields keep the escaped form they had on the wire so that
/// re-serialization is exact; use `decodedUser` for the percent-decoded user part.
public struct SIPURI: Sendable, Equatable, CustomStringConvertible {
    public enum Scheme: String, Sendable, Equatable {
        case sip, sips, tel
    }

    public var scheme: Scheme
    /// User part (for tel: the subscriber number), escaped as on the wire.
    public var user: String?
    public var password: String?
    /// Host name, IPv4 address, or IPv6 reference including its brackets. Empty for tel:.
    public var host: String
    public var port: Int?
    public var parameters: SIPParameters
    /// Raw `hname=hvalue&...` text after '?', if any.
    public var headers: String?

    public init(scheme: Scheme = .sip, user: String? = nil, password: String? = nil,
                host: String, port: Int? = nil, parameters: SIPParameters = [],
                headers: String? = nil) {
        self.scheme = scheme
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.parameters = parameters
        self.headers = headers
    }

    /// Parses a URI; the whole string must be the URI (no surrounding whitespace or '<>').
    public init(parsing text: String) throws(SIPParseError) {
        self = try withByteReader(text) { (reader: inout ByteReader) throws(SIPParseError) -> SIPURI in
            try SIPURI.parse(reader.bytes)
        }
    }

    public var decodedUser: String? { user.map(SIPURI.percentDecoded) }

    /// Host without IPv6 brackets, as a socket API wants it.
    public var hostWithoutBrackets: String {
        if host.utf8.first == ByteClass.openBracket, host.utf8.last == ByteClass.closeBracket {
            return String(host.dropFirst().dropLast())
        }
        return host
    }

    public var description: String {
        var output = ""
        write(to: &output)
        return output
    }

    func write(to output: inout String) {
        output += scheme.rawValue
        output += ":"
        if let user {
            output += user
            if scheme != .tel {
                if let password {
                    output += ":"
                    output += password
                }
                output += "@"
            }
        }
        output += host
        if let port {
            output += ":"
            output += String(port)
        }
        parameters.write(to: &output)
        if let headers {
            output += "?"
            output += headers
        }
    }

    public static func percentDecoded(_ text: String) -> String {
        guard text.utf8.contains(ByteClass.percent) else { return text }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == ByteClass.percent, iterator.count >= 2,
               let high = iterator.first, ByteClass.isHexDigit(high),
               ByteClass.isHexDigit(iterator[iterator.startIndex + 1]) {
                let low = iterator[iterator.startIndex + 1]
                bytes.append(ByteClass.hexValue(high) << 4 | ByteClass.hexValue(low))
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: Parsing

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(SIPParseError) -> SIPURI {
        var reader = ByteReader(bytes)
        let schemeRange = reader.read(while: { $0 != ByteClass.colon })
        guard reader.consume(ByteClass.colon) else {
            throw SIPParseError(.invalidURI, "URI '\(reader.string(0..<bytes.count))' has no scheme")
        }
        let schemeText = ByteClass.asciiLowercased(reader.string(schemeRange))
        guard let scheme = Scheme(rawValue: schemeText) else {
            throw SIPParseError(.invalidURI, "unsupported URI scheme '\(reader.string(schemeRange))'")
        }
        if scheme == .tel { return try parseTel(&reader) }

        var uri = SIPURI(scheme: scheme, host: "")
        if let at = bytes[reader.position...].firstIndex(of: ByteClass.at) {
            let userInfo = reader.position..<at
            let colon = bytes[userInfo].firstIndex(of: ByteClass.colon)
            let userRange = userInfo.lowerBound..<(colon ?? at)
            guard !userRange.isEmpty else { throw SIPParseError(.invalidURI, "empty user part") }
            try validate(reader, userRange, ByteClass.isUserChar, what: "user")
            uri.user = reader.string(userRange)
            if let colon {
                let passwordRange = (colon + 1)..<at
                try validate(reader, passwordRange, ByteClass.isPasswordChar, what: "password")
                uri.password = reader.string(passwordRange)
            }
            reader.position = at + 1
        }
        uri.host = try parseHost(&reader)
        if reader.consume(ByteClass.colon) {
            uri.port = try parsePort(&reader)
        }
        let paramStart = reader.position
        uri.parameters = try SIPParameters.parse(
            &reader, allowWhitespace: false, nameClass: ByteClass.isParamChar,
            valueClass: ByteClass.isParamChar)
        try validateEscapes(reader, paramStart..<reader.position)
        if reader.consume(ByteClass.question) {
            let headerRange = reader.read(while: ByteClass.isURIHeaderChar)
            guard !headerRange.isEmpty else { throw SIPParseError(.invalidURI, "empty URI headers") }
            try validateEscapes(reader, headerRange)
            uri.headers = reader.string(headerRange)
        }
        guard reader.isAtEnd else {
            throw SIPParseError(.invalidURI, "unexpected character in URI '\(reader.string(0..<bytes.count))'")
        }
        return uri
    }

    private static func parseTel(_ reader: inout ByteReader) throws(SIPParseError) -> SIPURI {
        let numberRange = reader.read(while: { ByteClass.isTelChar($0) && $0 != ByteClass.semicolon })
        guard !numberRange.isEmpty else { throw SIPParseError(.invalidURI, "empty tel: number") }
        var uri = SIPURI(scheme: .tel, user: reader.string(numberRange), host: "")
        uri.parameters = try SIPParameters.parse(
            &reader, allowWhitespace: false, nameClass: ByteClass.isParamChar,
            valueClass: ByteClass.isParamChar)
        guard reader.isAtEnd else { throw SIPParseError(.invalidURI, "unexpected character in tel: URI") }
        return uri
    }

    static func parseHost(_ reader: inout ByteReader) throws(SIPParseError) -> String {
        if reader.current == ByteClass.openBracket {
            let start = reader.position
            reader.position += 1
            let inner = reader.read(while: { ByteClass.isHexDigit($0) || $0 == ByteClass.colon || $0 == 0x2E })
            guard !inner.isEmpty, reader.contains(ByteClass.colon, in: inner),
                  reader.consume(ByteClass.closeBracket) else {
                throw SIPParseError(.invalidURI, "malformed IPv6 reference")
            }
            return reader.string(start..<reader.position)
        }
        let hostRange = reader.read(while: ByteClass.isHostChar)
        guard !hostRange.isEmpty else { throw SIPParseError(.invalidURI, "missing host") }
        return reader.string(hostRange)
    }

    static func parsePort(_ reader: inout ByteReader) throws(SIPParseError) -> Int {
        let digits = reader.read(while: ByteClass.isDigit)
        guard !digits.isEmpty, digits.count <= 5 else { throw SIPParseError(.invalidURI, "bad port") }
        var port = 0
        for index in digits { port = port * 10 + Int(reader.bytes[index] - 0x30) }
        guard port <= 65_535 else { throw SIPParseError(.invalidURI, "port \(port) out of range") }
        return port
    }

    private static func validate(
        _ reader: ByteReader, _ range: Range<Int>, _ allowed: (UInt8) -> Bool, what: String
    ) throws(SIPParseError) {
        for index in range where !allowed(reader.bytes[index]) {
            throw SIPParseError(.invalidURI, "invalid character in URI \(what)")
        }
        try validateEscapes(reader, range)
    }

    /// '%' must introduce two hex digits wherever the grammar uses `escaped`.
    private static func validateEscapes(_ reader: ByteReader, _ range: Range<Int>) throws(SIPParseError) {
        var index = range.lowerBound
        while index < range.upperBound {
            if reader.bytes[index] == ByteClass.percent {
                guard index + 2 < range.upperBound,
                      ByteClass.isHexDigit(reader.bytes[index + 1]),
                      ByteClass.isHexDigit(reader.bytes[index + 2]) else {
                    throw SIPParseError(.invalidURI, "invalid %-escape")
                }
                index += 3
            } else {
                index += 1
            }
        }
    }
}
