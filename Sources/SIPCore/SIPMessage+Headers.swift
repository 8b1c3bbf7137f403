/// Header lookup and typed, lazily decoded accessors. Lookups are case-insensitive and treat
/// compact forms as their long names (`v` is Via). Accessors for headers the parser already
/// validated cannot fail on a parsed message, but still throw for hand-built ones.
extension SIPMessage {
    /// Values of every header named `name`, in order.
    public func headerValues(_ name: String) -> [String] {
        let key = SIPHeaderName.key(for: name)
        return headers.compactMap { $0.key == key ? $0.value : nil }
    }

    public func firstHeaderValue(_ name: String) -> String? {
        let key = SIPHeaderName.key(for: name)
        return headers.first { $0.key == key }?.value
    }

    public func hasHeader(_ name: String) -> Bool { firstHeaderValue(name) != nil }

    // MARK: Routing headers

    /// Every Via entry, top first, across all Via header lines.
    public func vias() throws(SIPParseError) -> [SIPVia] {
        var result: [SIPVia] = []
        for value in headerValues("Via") {
            do throws(SIPParseError) {
                result += try SIPVia.parseList(value, limit: SIPParserLimits.default.maxListElements)
            } catch { throw error.withHeader("Via") }
        }
        return result
    }

    public func topVia() throws(SIPParseError) -> SIPVia {
        guard let value = firstHeaderValue("Via") else {
            throw SIPParseError(.missingHeader, header: "Via", "no Via header")
        }
        do throws(SIPParseError) {
            guard let first = try SIPVia.parseList(value, limit: SIPParserLimits.default.maxListElements).first else {
                throw SIPParseError(.invalidHeader, "empty")
            }
            return first
        } catch { throw error.withHeader("Via") }
    }

    public func from() throws(SIPParseError) -> SIPNameAddress { try nameAddress("From") }
    public func to() throws(SIPParseError) -> SIPNameAddress { try nameAddress("To") }

    public var callID: String? { firstHeaderValue("Call-ID") }

    public func cseq() throws(SIPParseError) -> SIPCSeq {
        guard let value = firstHeaderValue("CSeq") else {
            throw SIPParseError(.missingHeader, header: "CSeq", "no CSeq header")
        }
        do throws(SIPParseError) { return try SIPCSeq(parsing: value) } catch { throw error.withHeader("CSeq") }
    }

    public var maxForwards: Int? { unsigned("Max-Forwards", maximum: 255) }

    /// True for `Contact: *` (REGISTER removing all bindings).
    public var isWildcardContact: Bool { headerValues("Contact").contains("*") }

    public func contacts() throws(SIPParseError) -> [SIPNameAddress] {
        try nameAddressList("Contact", skippingWildcard: true)
    }

    public func routes() throws(SIPParseError) -> [SIPNameAddress] { try nameAddressList("Route") }
    public func recordRoutes() throws(SIPParseError) -> [SIPNameAddress] { try nameAddressList("Record-Route") }

    // MARK: Simple headers

    public var contentLength: Int? { unsigned("Content-Length", maximum: 0xFFFF_FFFF) }
    public var contentType: String? { firstHeaderValue("Content-Type") }
    public var userAgent: String? { firstHeaderValue("User-Agent") }
    public var reason: String? { firstHeaderValue("Reason") }
    public var expires: Int? { unsigned("Expires", maximum: 0xFFFF_FFFF) }
    public var minSE: Int? { unsigned("Min-SE", maximum: 0xFFFF_FFFF) }

    public var retryAfter: Int? {
        firstHeaderValue("Retry-After").flatMap { try? Int(SIPDeltaSeconds.parseLeading($0).seconds) }
    }

    /// Session-Expires seconds and its parameters (e.g. `refresher=uac`).
    public var sessionExpires: SIPDeltaSeconds? {
        firstHeaderValue("Session-Expires").flatMap { try? SIPDeltaSeconds.parseLeading($0) }
    }

    /// Option tags from every Supported header line.
    public var supported: [String] { tokens("Supported") }
    public var require: [String] { tokens("Require") }

    // MARK: Helpers

    private func nameAddress(_ name: String) throws(SIPParseError) -> SIPNameAddress {
        guard let value = firstHeaderValue(name) else {
            throw SIPParseError(.missingHeader, header: name, "no \(name) header")
        }
        do throws(SIPParseError) { return try SIPNameAddress(parsing: value) } catch { throw error.withHeader(name) }
    }

    private func nameAddressList(_ name: String, skippingWildcard: Bool = false) throws(SIPParseError) -> [SIPNameAddress] {
        var result: [SIPNameAddress] = []
        for value in headerValues(name) where !(skippingWildcard && value == "*") {
            do throws(SIPParseError) {
                result += try SIPNameAddress.parseList(value, limit: SIPParserLimits.default.maxListElements)
            } catch { throw error.withHeader(name) }
        }
        return result
    }

    private func unsigned(_ name: String, maximum: UInt64) -> Int? {
        firstHeaderValue(name).flatMap { try? Int(parseUnsigned($0, maximum: maximum, what: name)) }
    }

    private func tokens(_ name: String) -> [String] {
        headerValues(name).flatMap { value in
            value.split(separator: ",").map { String($0.trimmingSIPWhitespace()) }.filter { !$0.isEmpty }
        }
    }
}

extension Substring {
    func trimmingSIPWhitespace() -> Substring {
        var result = self
        while let first = result.utf8.first, ByteClass.isWhitespace(first) { result = result.dropFirst() }
        while let last = result.utf8.last, ByteClass.isWhitespace(last) { result = result.dropLast() }
        return result
    }
}
