/// One Via entry: `SIP/2.0/<transport> host[:port] *(;param)`.
public struct SIPVia: Sendable, Equatable, CustomStringConvertible {
    public var protocolName: String
    public var protocolVersion: String
    /// Transport token as written (UDP, TCP, TLS, SCTP, WS, or an unknown extension).
    public var transport: String
    /// sent-by host; an IPv6 reference keeps its brackets.
    public var host: String
    public var port: Int?
    public var parameters: SIPParameters

    public init(transport: String, host: String, port: Int? = nil, branch: String? = nil,
                parameters: SIPParameters = []) {
        self.protocolName = "SIP"
        self.protocolVersion = "2.0"
        self.transport = transport
        self.host = host
        self.port = port
        self.parameters = parameters
        if let branch { self.parameters.set("branch", branch) }
    }

    public var branch: String? { parameters["branch"] }
    public var received: String? {
        get { parameters["received"] }
        set {
            if let newValue { parameters.set("received", newValue) } else { parameters.remove("received") }
        }
    }
    public var maddr: String? { parameters["maddr"] }
    /// True when the client asked for symmetric response routing (RFC 3581), with or without a value.
    public var hasRport: Bool { parameters.contains("rport") }
    /// The rport value filled in by a server, if any.
    public var rport: Int? {
        get { parameters["rport"].flatMap { Int($0) } }
        set { parameters.set("rport", newValue.map(String.init)) }
    }
    /// RFC 3261 branches start with the magic cookie; older ones cannot identify a transaction.
    public var hasMagicCookieBranch: Bool { branch?.hasPrefix("z9hG4bK") ?? false }

    public var description: String {
        var output = ""
        write(to: &output)
        return output
    }

    func write(to output: inout String) {
        output += protocolName
        output += "/"
        output += protocolVersion
        output += "/"
        output += transport
        output += " "
        output += host
        if let port {
            output += ":"
            output += String(port)
        }
        parameters.write(to: &output)
    }

    public init(parsing text: String) throws(SIPParseError) {
        let all = try SIPVia.parseList(text, limit: 1)
        guard let first = all.first else { throw SIPParseError(.invalidHeader, header: "Via", "empty") }
        self = first
    }

    static func parseList(_ text: String, limit: Int) throws(SIPParseError) -> [SIPVia] {
        try withByteReader(text) { (reader: inout ByteReader) throws(SIPParseError) -> [SIPVia] in
            var result: [SIPVia] = []
            repeat {
                reader.skipWhitespace()
                result.append(try parseOne(&reader))
                guard result.count <= limit else {
                    throw SIPParseError(.invalidHeader, "more than \(limit) Via entries")
                }
                reader.skipWhitespace()
                if reader.isAtEnd { return result }
            } while reader.consume(ByteClass.comma)
            throw SIPParseError(.invalidHeader, "unexpected character after Via entry")
        }
    }

    private static func parseOne(_ reader: inout ByteReader) throws(SIPParseError) -> SIPVia {
        let name = reader.read(while: ByteClass.isToken)
        guard !name.isEmpty, reader.consumeSeparator(ByteClass.slash) else {
            throw SIPParseError(.invalidHeader, "malformed sent-protocol")
        }
        let version = reader.read(while: ByteClass.isToken)
        guard !version.isEmpty, reader.consumeSeparator(ByteClass.slash) else {
            throw SIPParseError(.invalidHeader, "malformed sent-protocol")
        }
        let transport = reader.read(while: ByteClass.isToken)
        guard !transport.isEmpty else { throw SIPParseError(.invalidHeader, "missing transport") }
        let protocolName = reader.string(name)
        let protocolVersion = reader.string(version)
        guard ByteClass.equalsIgnoringCase(protocolName, "SIP"), protocolVersion == "2.0" else {
            throw SIPParseError(.invalidHeader, "unsupported protocol \(protocolName)/\(protocolVersion)")
        }
        let beforeSpace = reader.position
        reader.skipWhitespace()
        guard reader.position > beforeSpace else {
            throw SIPParseError(.invalidHeader, "missing whitespace before sent-by")
        }
        let host: String
        do { host = try SIPURI.parseHost(&reader) } catch {
            throw SIPParseError(.invalidHeader, "malformed sent-by host")
        }
        var port: Int?
        if reader.consumeSeparator(ByteClass.colon) {
            do { port = try SIPURI.parsePort(&reader) } catch {
                throw SIPParseError(.invalidHeader, "malformed sent-by port")
            }
        }
        let parameters = try SIPNameAddress.parseHeaderParameters(&reader)
        var via = SIPVia(transport: reader.string(transport), host: host, port: port, parameters: parameters)
        via.protocolName = protocolName
        return via
    }
}
