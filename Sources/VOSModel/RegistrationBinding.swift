/// Where a registered user (a mapping gateway with password authentication) can be reached
/// (RFC 3261 §10): the Contact it registered, and the address its REGISTER really came from.
/// A phone behind NAT registers a private Contact; requests to it go to `received` instead
/// (RFC 3581 rport), and NAT keep-alives go there too.
public struct RegistrationBinding: Sendable, Hashable, Codable {
    /// The mapping gateway the user authenticated as.
    public var gateway: String
    public var username: String
    /// The Contact URI as registered (the Request-URI of calls to the user).
    public var contact: String
    /// The REGISTER's source address: where requests and keep-alives are sent.
    public var receivedIP: IPAddress
    public var receivedPort: Int
    /// "udp" or "tcp".
    public var transport: String
    /// Wall-clock milliseconds.
    public var registeredAt: Int64
    public var expiresAt: Int64
    public var callID: String
    public var cseq: UInt32
    public var userAgent: String?
    /// The Contact's host:port differs from the source: the phone is behind NAT and gets keep-alives.
    public var behindNAT: Bool

    public init(gateway: String, username: String, contact: String, receivedIP: IPAddress, receivedPort: Int, transport: String,
                registeredAt: Int64, expiresAt: Int64, callID: String, cseq: UInt32, userAgent: String?, behindNAT: Bool) {
        self.gateway = gateway
        self.username = username
        self.contact = contact
        self.receivedIP = receivedIP
        self.receivedPort = receivedPort
        self.transport = transport
        self.registeredAt = registeredAt
        self.expiresAt = expiresAt
        self.callID = callID
        self.cseq = cseq
        self.userAgent = userAgent
        self.behindNAT = behindNAT
    }

    public var received: String { !receivedIP.isIPv4 ? "[\(receivedIP)]:\(receivedPort)" : "\(receivedIP):\(receivedPort)" }
}
