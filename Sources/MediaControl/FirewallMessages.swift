/// Firewall payloads of the control protocol (`firewallApply`, `firewallAudit`, `ban`, `unban`,
/// `bans`). vos-mediad owns the host firewall because it already holds the netlink privileges and
/// lives as long as the box; the controller and vosctl reach it over the same socket as media.
/// Plain text and numbers only, so MediaControl stays free of the Netfilter module.

/// One live rule as the kernel reports it.
public struct FirewallRuleInfo: Sendable, Codable, Equatable {
    public var chain: String
    public var handle: UInt64
    public var comment: String?
    /// The decoded kernel expressions; string matches show their pattern.
    public var expression: String
    public var packets: UInt64
    public var bytes: UInt64

    public init(chain: String, handle: UInt64, comment: String?, expression: String, packets: UInt64, bytes: UInt64) {
        self.chain = chain
        self.handle = handle
        self.comment = comment
        self.expression = expression
        self.packets = packets
        self.bytes = bytes
    }
}

/// One banned address with why and for how long.
public struct FirewallBanInfo: Sendable, Codable, Equatable {
    public var address: String
    /// What the banning side wrote (e.g. "scanner User-Agent friendly-scanner"); absent for
    /// flood bans added by the kernel rules themselves.
    public var reason: String?
    public var timeoutSeconds: Int?
    public var expiresInSeconds: Int?

    public init(address: String, reason: String?, timeoutSeconds: Int?, expiresInSeconds: Int?) {
        self.address = address
        self.reason = reason
        self.timeoutSeconds = timeoutSeconds
        self.expiresInSeconds = expiresInSeconds
    }
}

/// The reply payload of every firewall operation; members a given operation does not fill are
/// absent.
public struct FirewallReport: Sendable, Codable, Equatable {
    /// `family name` of the table the report is about, e.g. "inet vos_filter".
    public var table: String
    /// `SS_FIREWALL_ENABLE` at the time of the request.
    public var enabled: Bool
    /// Differences between the kernel and the policy rendered from the store, one per line
    /// (`firewallAudit`: now; `firewallApply`: what the apply repaired). Empty = in sync.
    public var drift: [String]
    /// `firewallApply`: whether the kernel was changed.
    public var changed: Bool?
    public var rules: [FirewallRuleInfo]?
    public var bans: [FirewallBanInfo]?
    /// Routing gateways given by DNS name: not trusted by the firewall (docs/FIREWALL.md).
    public var untrustedGatewayNames: [String]?
    /// Configuration values that were skipped, each saying why.
    public var warnings: [String]?

    public init(table: String, enabled: Bool, drift: [String] = [], changed: Bool? = nil, rules: [FirewallRuleInfo]? = nil,
                bans: [FirewallBanInfo]? = nil, untrustedGatewayNames: [String]? = nil, warnings: [String]? = nil) {
        self.table = table
        self.enabled = enabled
        self.drift = drift
        self.changed = changed
        self.rules = rules
        self.bans = bans
        self.untrustedGatewayNames = untrustedGatewayNames
        self.warnings = warnings
    }
}

/// Who carries out firewall requests in the daemon (vos-mediad's firewall service). Called from
/// the connection threads, concurrently.
public protocol FirewallControlHandler: Sendable {
    func handleFirewall(_ request: MediaRequest) throws(MediaControlFailure) -> FirewallReport
}

extension MediaOperation {
    /// Operations served by the `FirewallControlHandler` rather than the media handler.
    public var isFirewall: Bool {
        switch self {
        case .firewallApply, .firewallAudit, .ban, .unban, .bans: return true
        case .create, .update, .delete, .stats, .subscribe, .ping, .dtmf: return false
        }
    }
}
