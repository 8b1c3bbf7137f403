/// Header and body edits a proxy or B2BUA makes. All edits keep the order of the headers they
/// do not touch.
extension SIPMessage {
    public mutating func appendHeader(_ name: String, _ value: String) {
        headers.append(SIPHeader(name: name, value: value))
    }

    /// Inserts before the first header of the same kind, or after the start line if none.
    public mutating func prependHeader(_ name: String, _ value: String) {
        let key = SIPHeaderName.key(for: name)
        let index = headers.firstIndex { $0.key == key } ?? 0
        headers.insert(SIPHeader(name: name, value: value), at: index)
    }

    /// Replaces the first `name` header in place and drops the others; appends if absent.
    public mutating func setHeader(_ name: String, _ value: String) {
        let key = SIPHeaderName.key(for: name)
        guard let index = headers.firstIndex(where: { $0.key == key }) else {
            appendHeader(name, value)
            return
        }
        headers[index].value = value
        var position = index + 1
        while position < headers.count {
            if headers[position].key == key { headers.remove(at: position) } else { position += 1 }
        }
    }

    public mutating func removeHeaders(_ name: String) {
        let key = SIPHeaderName.key(for: name)
        headers.removeAll { $0.key == key }
    }

    public mutating func prependVia(_ via: SIPVia) {
        prependHeader("Via", via.description)
    }

    /// Removes the topmost Via entry, splitting a comma-separated Via line if needed.
    @discardableResult
    public mutating func removeTopVia() throws(SIPParseError) -> SIPVia {
        guard let index = headers.firstIndex(where: { $0.key == SIPHeaderName.via }) else {
            throw SIPParseError(.missingHeader, header: "Via", "no Via header")
        }
        var entries: [SIPVia]
        do throws(SIPParseError) {
            entries = try SIPVia.parseList(headers[index].value, limit: SIPParserLimits.default.maxListElements)
        } catch { throw error.withHeader("Via") }
        let top = entries.removeFirst()
        if entries.isEmpty {
            headers.remove(at: index)
        } else {
            headers[index].value = entries.map(\.description).joined(separator: ", ")
        }
        return top
    }

    /// Rewrites the top Via entry (e.g. to add received/rport on the way in).
    public mutating func replaceTopVia(_ via: SIPVia) throws(SIPParseError) {
        try removeTopVia()
        prependVia(via)
    }

    /// Sets the body and keeps Content-Length (and Content-Type when given) consistent.
    public mutating func setBody(_ bytes: [UInt8], contentType: String? = nil) {
        body = bytes
        setHeader("Content-Length", String(bytes.count))
        if let contentType {
            setHeader("Content-Type", contentType)
        } else if bytes.isEmpty {
            removeHeaders("Content-Type")
        }
    }
}
