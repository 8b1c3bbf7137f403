/// A parsed or built SIP request or response.
///
/// Headers are an ordered list preserving the names and order they arrived in; typed accessors
/// (see `SIPMessage+Headers.swift`) decode values on demand, so a proxy that only looks at Via
/// and Route pays nothing for the rest.
public struct SIPMessage: Sendable, Equatable {
    public enum StartLine: Sendable, Equatable {
        case request(method: String, uri: SIPURI, version: String)
        case response(version: String, statusCode: Int, reasonPhrase: String)
    }

    public var startLine: StartLine
    public var headers: [SIPHeader]
    public var body: [UInt8]

    public init(startLine: StartLine, headers: [SIPHeader] = [], body: [UInt8] = []) {
        self.startLine = startLine
        self.headers = headers
        self.body = body
    }

    /// Parses one datagram (see `SIPMessageParser.parse`).
    public init(parsing bytes: [UInt8], limits: SIPParserLimits = .default) throws(SIPParseError) {
        self = try SIPMessageParser(limits: limits).parse(bytes)
    }

    public var isRequest: Bool {
        if case .request = startLine { return true }
        return false
    }

    public var method: String? {
        if case .request(let method, _, _) = startLine { return method }
        return nil
    }

    public var requestURI: SIPURI? {
        get {
            if case .request(_, let uri, _) = startLine { return uri }
            return nil
        }
        set {
            if case .request(let method, _, let version) = startLine, let newValue {
                startLine = .request(method: method, uri: newValue, version: version)
            }
        }
    }

    public var statusCode: Int? {
        if case .response(_, let code, _) = startLine { return code }
        return nil
    }

    public var reasonPhrase: String? {
        if case .response(_, _, let reason) = startLine { return reason }
        return nil
    }

    // MARK: Serialization

    /// The wire form: start line, headers as `Name: value`, blank line, body. Content-Length is
    /// written as stored; use `setBody` to keep it consistent.
    public func serialized() -> [UInt8] {
        var text = ""
        text.reserveCapacity(64 + headers.count * 48)
        switch startLine {
        case .request(let method, let uri, let version):
            text += method
            text += " "
            uri.write(to: &text)
            text += " "
            text += version
        case .response(let version, let code, let reason):
            text += version
            text += " "
            text += String(code)
            text += " "
            text += reason
        }
        text += "\r\n"
        for header in headers {
            text += header.name
            text += ": "
            text += header.value
            text += "\r\n"
        }
        text += "\r\n"
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + body.count)
        bytes.append(contentsOf: text.utf8)
        bytes.append(contentsOf: body)
        return bytes
    }
}
