/// A mapping gateway switched off by too many failed authentications, until `until`.
public struct GatewaySuspension: Sendable, Hashable, Codable {
    public var gateway: String
    /// Wall-clock milliseconds.
    public var since: Int64
    public var until: Int64
    public var reason: String
    /// The addresses the failures came from (each was also put in the firewall's ban set).
    public var sources: [String]

    public init(gateway: String, since: Int64, until: Int64, reason: String, sources: [String]) {
        self.gateway = gateway
        self.since = since
        self.until = until
        self.reason = reason
        self.sources = sources
    }
}
