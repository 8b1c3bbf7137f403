/// Request-Line and Status-Line grammar (RFC 3261 §7.1, §7.2): single SP separators, no LWS.
enum SIPStartLineParser {
    static func parse(_ line: String) throws(SIPParseError) -> SIPMessage.StartLine {
        try withByteReader(line) { (reader: inout ByteReader) throws(SIPParseError) -> SIPMessage.StartLine in
            let first = reader.read(while: { $0 != ByteClass.space })
            let firstText = reader.string(first)
            if firstText.utf8.count >= 4, ByteClass.equalsIgnoringCase(String(firstText.prefix(4)), "SIP/") {
                return try parseStatusLine(&reader, version: firstText)
            }
            guard ByteClass.isTokenString(firstText) else {
                throw SIPParseError(.invalidStartLine, "method '\(firstText)' is not a token")
            }
            guard reader.consume(ByteClass.space) else {
                throw SIPParseError(.invalidStartLine, "request line has no Request-URI")
            }
            let uriRange = reader.read(while: { $0 != ByteClass.space })
            guard !uriRange.isEmpty, reader.consume(ByteClass.space) else {
                throw SIPParseError(.invalidStartLine, "request line must be 'Method SP Request-URI SP SIP-Version'")
            }
            let versionRange = reader.read(while: { $0 != ByteClass.space })
            guard reader.isAtEnd else {
                throw SIPParseError(.invalidStartLine, "unexpected whitespace in request line")
            }
            let version = try checkVersion(reader.string(versionRange))
            let uri: SIPURI
            do throws(SIPParseError) { uri = try SIPURI.parse(UnsafeBufferPointer(rebasing: reader.bytes[uriRange])) } catch {
                throw SIPParseError(.invalidURI, "Request-URI: \(error.detail)")
            }
            guard uri.headers == nil else {
                // RFC 3261 §19.1.1 Table 1: headers are not allowed in a Request-URI.
                throw SIPParseError(.invalidURI, "Request-URI must not contain headers")
            }
            return .request(method: firstText, uri: uri, version: version)
        }
    }

    private static func parseStatusLine(_ reader: inout ByteReader, version: String) throws(SIPParseError) -> SIPMessage.StartLine {
        let checkedVersion = try checkVersion(version)
        guard reader.consume(ByteClass.space) else {
            throw SIPParseError(.invalidStartLine, "status line has no status code")
        }
        let code = reader.read(while: ByteClass.isDigit)
        guard code.count == 3 else {
            throw SIPParseError(.invalidStartLine, "status code must be three digits")
        }
        let value = code.reduce(0) { $0 * 10 + Int(reader.bytes[$1] - 0x30) }
        guard (100...699).contains(value) else {
            throw SIPParseError(.invalidStartLine, "status code \(value) out of range")
        }
        var reason = ""
        if !reader.isAtEnd {
            guard reader.consume(ByteClass.space) else {
                throw SIPParseError(.invalidStartLine, "status code must be followed by SP")
            }
            reason = reader.string(reader.position..<reader.bytes.count)
        }
        return .response(version: checkedVersion, statusCode: value, reasonPhrase: reason)
    }

    private static func checkVersion(_ version: String) throws(SIPParseError) -> String {
        if ByteClass.equalsIgnoringCase(version, "SIP/2.0") { return version }
        let utf8 = Array(version.utf8)
        let looksLikeVersion = utf8.count > 4 && ByteClass.equalsIgnoringCase(String(version.prefix(4)), "SIP/")
            && utf8[4...].allSatisfy { ByteClass.isDigit($0) || $0 == 0x2E }
        if looksLikeVersion {
            throw SIPParseError(.unsupportedVersion, "SIP version '\(version)' is not supported")
        }
        throw SIPParseError(.invalidStartLine, "malformed SIP version '\(version)'")
    }
}
