/// `c=<nettype> <addrtype> <address>[/ttl[/count]]`.
public struct SDPConnection: Sendable, Equatable, CustomStringConvertible {
    public var networkType: String
    public var addressType: String
    public var address: String

    public init(networkType: String = "IN", addressType: String, address: String) {
        self.networkType = networkType
        self.addressType = addressType
        self.address = address
    }

    public init(parsing value: String) throws(SIPParseError) {
        try SDPConnection.validate(value)
        let fields = value.split(separator: " ")
        self.init(networkType: String(fields[0]), addressType: String(fields[1]), address: String(fields[2]))
    }

    /// Checks the field count without building the fields (the parser checks every c= line).
    static func validate(_ value: String) throws(SIPParseError) {
        guard sdpFieldCount(value) == 3 else { throw SIPParseError(.invalidSDP, "c= needs 3 fields, got '\(value)'") }
    }

    public var description: String { "\(networkType) \(addressType) \(address)" }
}

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address>`.
public struct SDPOrigin: Sendable, Equatable, CustomStringConvertible {
    public var username: String
    public var sessionID: String
    public var sessionVersion: String
    public var networkType: String
    public var addressType: String
    public var address: String

    public init(parsing value: String) throws(SIPParseError) {
        try SDPOrigin.validate(value)
        let fields = value.split(separator: " ")
        username = String(fields[0])
        sessionID = String(fields[1])
        sessionVersion = String(fields[2])
        networkType = String(fields[3])
        addressType = String(fields[4])
        address = String(fields[5])
    }

    /// Checks the field count without building the fields (the parser checks every o= line).
    static func validate(_ value: String) throws(SIPParseError) {
        guard sdpFieldCount(value) == 6 else { throw SIPParseError(.invalidSDP, "o= needs 6 fields, got '\(value)'") }
    }

    public var description: String {
        "\(username) \(sessionID) \(sessionVersion) \(networkType) \(addressType) \(address)"
    }
}

/// `m=<media> <port>[/<count>] <proto> <fmt> ...`.
struct SDPMediaLine: Sendable, CustomStringConvertible {
    var media: String
    var port: Int
    var portCount: Int?
    var transportProtocol: String
    var formats: [String]

    init(parsing value: String) throws(SIPParseError) {
        let fields = value.split(separator: " ")
        guard fields.count >= 3 else { throw SIPParseError(.invalidSDP, "m= needs at least 3 fields") }
        let portField = fields[1].split(separator: "/", omittingEmptySubsequences: false)
        guard let port = Int(portField[0]), (0...65_535).contains(port), portField.count <= 2 else {
            throw SIPParseError(.invalidSDP, "bad media port in m=\(value)")
        }
        if portField.count == 2 {
            guard let count = Int(portField[1]), count > 0 else {
                throw SIPParseError(.invalidSDP, "bad port count in m=\(value)")
            }
            portCount = count
        }
        media = String(fields[0])
        self.port = port
        transportProtocol = String(fields[2])
        formats = fields.dropFirst(3).map(String.init)
    }

    var description: String {
        var text = media + " " + String(port)
        if let portCount { text += "/" + String(portCount) }
        text += " " + transportProtocol
        for format in formats { text += " " + format }
        return text
    }
}

/// The number of space-separated fields in an SDP value, counted as `split(separator: " ")`
/// would (runs of spaces separate, leading and trailing spaces make no empty field).
func sdpFieldCount(_ value: String) -> Int {
    var count = 0
    var inField = false
    for byte in value.utf8 {
        if byte == UInt8(ascii: " ") {
            inField = false
        } else if !inField {
            inField = true
            count += 1
        }
    }
    return count
}
