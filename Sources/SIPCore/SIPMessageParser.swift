/// Turns bytes into a validated `SIPMessage`.
///
/// Two stages: `frame` splits the start line, unfolds headers and enforces the size limits;
/// `validate` checks the start line and the headers every element depends on and cuts the body
/// by Content-Length. `SIPBadRequest` reuses the first stage on its own to answer requests the
/// second stage rejects.
public struct SIPMessageParser: Sendable {
    public var limits: SIPParserLimits

    public init(limits: SIPParserLimits = .default) {
        self.limits = limits
    }

    /// Parses one UDP datagram. Bytes beyond Content-Length are ignored (RFC 3261 §18.3);
    /// without Content-Length the body is the rest of the datagram.
    public func parse(_ bytes: [UInt8]) throws(SIPParseError) -> SIPMessage {
        try parsePrefix(bytes).message
    }

    public func parse(_ buffer: UnsafeRawBufferPointer) throws(SIPParseError) -> SIPMessage {
        try parsePrefix(buffer).message
    }

    /// Parses a message at the start of `bytes` and says how many bytes it used, for callers
    /// that frame a stream themselves.
    public func parsePrefix(_ bytes: [UInt8]) throws(SIPParseError) -> (message: SIPMessage, consumed: Int) {
        let result: Result<(message: SIPMessage, consumed: Int), SIPParseError> = bytes.withUnsafeBufferPointer { buffer in
            do throws(SIPParseError) { return .success(try parseBuffer(buffer)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    public func parsePrefix(_ buffer: UnsafeRawBufferPointer) throws(SIPParseError) -> (message: SIPMessage, consumed: Int) {
        try parseBuffer(buffer.bindMemory(to: UInt8.self))
    }

    func parseBuffer(_ bytes: UnsafeBufferPointer<UInt8>) throws(SIPParseError) -> (message: SIPMessage, consumed: Int) {
        let frame = try SIPFrame.frame(bytes, limits: limits)
        return try validate(frame, bytes)
    }

    // MARK: Validation

    private func validate(_ frame: SIPFrame, _ bytes: UnsafeBufferPointer<UInt8>) throws(SIPParseError) -> (message: SIPMessage, consumed: Int) {
        let startLine = try SIPStartLineParser.parse(frame.startLine)
        var requestMethod: String?
        if case .request(let method, _, _) = startLine { requestMethod = method }

        var viaCount = 0
        var seen = Set<String>()
        var contentLength: Int?
        for header in frame.headers {
            let key = header.key
            do throws(SIPParseError) {
                switch key {
                case SIPHeaderName.via:
                    viaCount += try SIPVia.parseList(header.value, limit: limits.maxListElements).count
                case SIPHeaderName.from, SIPHeaderName.to:
                    try requireSingle(key, &seen)
                    _ = try SIPNameAddress(parsing: header.value)
                case SIPHeaderName.callID:
                    try requireSingle(key, &seen)
                    try validateCallID(header.value)
                case SIPHeaderName.cseq:
                    try requireSingle(key, &seen)
                    let cseq = try SIPCSeq(parsing: header.value)
                    if let requestMethod, cseq.method != requestMethod {
                        throw SIPParseError(.invalidHeader,
                            "method '\(cseq.method)' does not match request method '\(requestMethod)'")
                    }
                case SIPHeaderName.maxForwards:
                    _ = try parseUnsigned(header.value, maximum: 255, what: "Max-Forwards")
                case SIPHeaderName.contentLength:
                    try requireSingle(key, &seen)
                    contentLength = Int(try parseUnsigned(header.value, maximum: 0xFFFF_FFFF, what: "Content-Length"))
                case SIPHeaderName.contact:
                    if header.value != "*" {
                        let contacts = try SIPNameAddress.parseList(header.value, limit: limits.maxListElements)
                        for contact in contacts {
                            if let expires = contact.parameters["expires"] {
                                _ = try parseUnsigned(expires, maximum: 0xFFFF_FFFF, what: "expires parameter")
                            }
                        }
                    }
                case SIPHeaderName.route, SIPHeaderName.recordRoute:
                    _ = try SIPNameAddress.parseList(header.value, limit: limits.maxListElements)
                case SIPHeaderName.expires, SIPHeaderName.minSE:
                    _ = try parseUnsigned(header.value, maximum: 0xFFFF_FFFF, what: "delta-seconds")
                case SIPHeaderName.retryAfter, SIPHeaderName.sessionExpires:
                    _ = try SIPDeltaSeconds.parseLeading(header.value)
                case SIPHeaderName.date:
                    try SIPDate.validate(header.value)
                case SIPHeaderName.contentType:
                    try validateMediaType(header.value)
                default:
                    break
                }
            } catch {
                throw error.withHeader(SIPMessageParser.displayName(forKey: key))
            }
        }
        if viaCount == 0 { throw SIPParseError(.missingHeader, header: "Via", "no Via header") }
        for (key, name) in [(SIPHeaderName.from, "From"), (SIPHeaderName.to, "To"),
                            (SIPHeaderName.callID, "Call-ID"), (SIPHeaderName.cseq, "CSeq")]
        where !seen.contains(key) {
            throw SIPParseError(.missingHeader, header: name, "header is required")
        }

        let available = bytes.count - frame.bodyStart
        let bodyLength: Int
        if let contentLength {
            guard contentLength <= available else {
                throw SIPParseError(.bodyLengthMismatch, header: "Content-Length",
                    "Content-Length \(contentLength) exceeds the \(available) body bytes received")
            }
            bodyLength = contentLength
        } else {
            bodyLength = available
        }
        let body = Array(bytes[frame.bodyStart..<(frame.bodyStart + bodyLength)])
        let message = SIPMessage(startLine: startLine, headers: frame.headers, body: body)
        return (message, frame.bodyStart + bodyLength)
    }

    private func requireSingle(_ key: String, _ seen: inout Set<String>) throws(SIPParseError) {
        guard seen.insert(key).inserted else {
            throw SIPParseError(.duplicateHeader, "header appears more than once")
        }
    }

    private func validateCallID(_ value: String) throws(SIPParseError) {
        guard !value.isEmpty else { throw SIPParseError(.invalidHeader, "empty Call-ID") }
        for byte in value.utf8 where byte <= ByteClass.space || byte == 0x7F {
            throw SIPParseError(.invalidHeader, "Call-ID contains whitespace or control characters")
        }
    }

    private func validateMediaType(_ value: String) throws(SIPParseError) {
        try withByteReader(value) { (reader: inout ByteReader) throws(SIPParseError) in
            let type = reader.read(while: ByteClass.isToken)
            guard !type.isEmpty, reader.consumeSeparator(ByteClass.slash),
                  !reader.read(while: ByteClass.isToken).isEmpty else {
                throw SIPParseError(.invalidHeader, "expected type/subtype")
            }
            _ = try SIPNameAddress.parseHeaderParameters(&reader)
            reader.skipWhitespace()
            guard reader.isAtEnd else { throw SIPParseError(.invalidHeader, "unexpected text after media type") }
        }
    }

    static func displayName(forKey key: String) -> String {
        switch key {
        case SIPHeaderName.via: return "Via"
        case SIPHeaderName.from: return "From"
        case SIPHeaderName.to: return "To"
        case SIPHeaderName.callID: return "Call-ID"
        case SIPHeaderName.cseq: return "CSeq"
        case SIPHeaderName.maxForwards: return "Max-Forwards"
        case SIPHeaderName.contentLength: return "Content-Length"
        case SIPHeaderName.contentType: return "Content-Type"
        case SIPHeaderName.contact: return "Contact"
        case SIPHeaderName.route: return "Route"
        case SIPHeaderName.recordRoute: return "Record-Route"
        case SIPHeaderName.expires: return "Expires"
        case SIPHeaderName.retryAfter: return "Retry-After"
        case SIPHeaderName.date: return "Date"
        case SIPHeaderName.minSE: return "Min-SE"
        case SIPHeaderName.sessionExpires: return "Session-Expires"
        default: return key
        }
    }
}
