/// A customer's way in (VOS3000 "mapping gateway", 对接网关): calls are accepted only from its
/// addresses and billed to its account.
public struct MappingGateway: Sendable, Hashable, Codable {
    public enum Authentication: String, Sendable, Codable, CaseIterable {
        /// Source IP alone identifies the gateway.
        case ip
        /// Source IP and source port together (several customers behind one IP).
        case ipPort = "ip-port"
    }

    public enum CallerSource: String, Sendable, Codable, CaseIterable {
        case from, remotePartyID = "remote-party-id", display
    }

    public var name: String
    public var ips: [IPAddress]
    /// The source port required when `authentication == .ipPort`; SIP port otherwise informational.
    public var port: Int = 5060
    public var authentication: Authentication = .ip
    public var account: String?
    /// Calls per second accepted from this gateway; 0 = no limit of its own.
    public var cpsLimit: Int = 0
    /// Concurrent calls; 0 = no limit of its own.
    public var concurrentLimit: Int = 0
    public var codecs = CodecSettings()
    public var dtmf = DTMFSettings()
    public var callerFilter = PrefixFilter()
    public var calleeFilter = PrefixFilter()
    public var callerRewrite = NumberRewrite()
    public var calleeRewrite = NumberRewrite()
    public var blacklistGroups: [String] = []
    public var whitelistGroups: [String] = []
    public var mediaProxy: MediaProxyMode?
    public var callerSource: CallerSource = .from
    public var supportPrivacy: Bool = false
    public var enabled: Bool = true
    /// The address vos advertises to this gateway in Via, Contact and SDP (the public address of
    /// a NAT in front of vos); nil: the source address of the route to the gateway, through
    /// `SS_ADVERTISED_ADDRESSES`.
    public var advertise: IPAddress?
    /// RFC 4028 session timers on this gateway's legs; nil is the default, on.
    public var sessionTimer: Bool?
    public var usesSessionTimer: Bool { sessionTimer ?? true }

    public init(name: String, ips: [IPAddress]) {
        self.name = name
        self.ips = ips
    }

    public func validate() throws(ModelError) {
        try GatewayName.validate(name)
        guard !ips.isEmpty else { throw ModelError.missing(field: "mapping gateway '\(name)' --ip") }
        guard Set(ips).count == ips.count else {
            throw ModelError.inconsistent("mapping gateway '\(name)' lists the same IP twice")
        }
        try Limits.validatePort(port, field: "port")
        try Limits.validateCount(cpsLimit, field: "cps", maximum: 100_000)
        try Limits.validateCount(concurrentLimit, field: "concurrent", maximum: 1_000_000)
        try dtmf.validate()
        try callerRewrite.validate(field: "caller rewrite")
        try calleeRewrite.validate(field: "callee rewrite")
        try AdvertisedAddress.validate(advertise, gateway: name, peers: ips)
    }
}

/// A vendor's termination (VOS3000 "routing gateway", 落地网关): where calls are sent.
public struct RoutingGateway: Sendable, Hashable, Codable {
    public enum IdentityHeaderMode: String, Sendable, Codable, CaseIterable { case none, passthrough, caller }
    public enum PrivacyMode: String, Sendable, Codable, CaseIterable { case none, passthrough, id }

    public var name: String
    public var address: SIPAddress
    public var prefixes: [String]
    /// 1 is the highest priority.
    public var priority: Int = 1
    /// Concurrent calls; 0 = unlimited.
    public var lineLimit: Int = 0
    /// Calls per second; 0 = unlimited.
    public var cpsLimit: Int = 0
    public var switchUntilConnect: Bool = true
    /// Final responses that end failover at once. `nil` means the default set (requirements §2:
    /// every 4xx except 408 and 480, and every 6xx).
    public var stopSwitchingCodes: [Int]?
    /// Used only while every non-protected gateway for the prefix is unusable.
    public var protectRoute: Bool = false
    public var optionsCheck: Bool = true
    public var codecs = CodecSettings()
    public var dtmf = DTMFSettings()
    public var calleeRewrite = NumberRewrite()
    public var callerRewrite = NumberRewrite()
    public var callerFilter = PrefixFilter()
    public var calleeFilter = PrefixFilter()
    public var mediaProxy: MediaProxyMode?
    /// Vendor account used for vendor-side rating and the clearing-customer balance check.
    public var clearingAccount: String?
    /// Longest call in seconds; 0 = none.
    public var conversationLimit: Int = 0
    public var pAssertedIdentity: IdentityHeaderMode = .passthrough
    public var pPreferredIdentity: IdentityHeaderMode = .none
    public var privacy: PrivacyMode = .passthrough
    public var enabled: Bool = true
    /// The address vos advertises to this gateway in Via, Contact and SDP (the public address of
    /// a NAT in front of vos); nil: the source address of the route to the gateway, through
    /// `SS_ADVERTISED_ADDRESSES`.
    public var advertise: IPAddress?
    /// RFC 4028 session timers on this gateway's legs; nil is the default, on.
    public var sessionTimer: Bool?
    public var usesSessionTimer: Bool { sessionTimer ?? true }

    public init(name: String, address: SIPAddress, prefixes: [String]) {
        self.name = name
        self.address = address
        self.prefixes = prefixes
    }

    /// Whether a final response `code` stops failover for this gateway.
    public func stopsSwitching(on code: Int) -> Bool {
        if let explicit = stopSwitchingCodes { return explicit.contains(code) }
        return RoutingGateway.defaultStopsSwitching(code)
    }

    public static func defaultStopsSwitching(_ code: Int) -> Bool {
        (400...499).contains(code) && code != 408 && code != 480 || (600...699).contains(code)
    }

    public func validate() throws(ModelError) {
        try GatewayName.validate(name)
        guard !prefixes.isEmpty else { throw ModelError.missing(field: "routing gateway '\(name)' --prefix") }
        for prefix in prefixes { try NumberPrefix.validate(prefix, field: "prefix") }
        guard (1...100).contains(priority) else {
            throw ModelError.outOfRange(field: "priority", value: String(priority), range: "1-100 (1 is highest)")
        }
        try Limits.validateCount(lineLimit, field: "line-limit", maximum: 1_000_000)
        try Limits.validateCount(cpsLimit, field: "cps", maximum: 100_000)
        try Limits.validateCount(conversationLimit, field: "conversation-limit", maximum: 86_400 * 7)
        for code in stopSwitchingCodes ?? [] where !(300...699).contains(code) {
            throw ModelError.outOfRange(field: "stop-switching code", value: String(code), range: "300-699")
        }
        try dtmf.validate()
        try calleeRewrite.validate(field: "callee rewrite")
        try callerRewrite.validate(field: "caller rewrite")
        try AdvertisedAddress.validate(advertise, gateway: name, peers: [try? IPAddress(parsing: address.host)].compactMap { $0 })
    }
}

/// The rule every advertised address follows: a peer must be able to reach it.
public enum AdvertisedAddress {
    /// Refuses an address no peer can use (0.0.0.0) and a loopback address for a peer that is
    /// not on loopback: the peer would send its ACK, BYE and media to itself.
    public static func validate(_ advertise: IPAddress?, gateway: String, peers: [IPAddress]) throws(ModelError) {
        guard let advertise else { return }
        guard !advertise.isUnspecified else {
            throw ModelError.invalid(field: "gateway '\(gateway)' --advertise", value: advertise.description,
                                     expected: "an address the gateway can reach, not the wildcard")
        }
        if advertise.isLoopback, let remote = peers.first(where: { !$0.isLoopback }) {
            throw ModelError.inconsistent("gateway '\(gateway)' --advertise \(advertise) is a loopback address, but the gateway is at \(remote): it would send its ACK, BYE and media to itself")
        }
    }
}

public enum GatewayName {
    /// Names appear in CLI arguments, CDR exports and logs: keep them plain.
    public static func validate(_ name: String, field: String = "name") throws(ModelError) {
        guard !name.isEmpty, name.count <= 64,
              name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }),
              name.first?.isLetter == true || name.first?.isNumber == true else {
            throw ModelError.invalid(field: field, value: name, expected: "1-64 characters of letters, digits, '-', '_', '.', starting with a letter or digit")
        }
    }
}

enum Limits {
    static func validatePort(_ port: Int, field: String) throws(ModelError) {
        guard (1...65535).contains(port) else {
            throw ModelError.outOfRange(field: field, value: String(port), range: "1-65535")
        }
    }

    static func validateCount(_ value: Int, field: String, maximum: Int) throws(ModelError) {
        guard (0...maximum).contains(value) else {
            throw ModelError.outOfRange(field: field, value: String(value), range: "0-\(maximum) (0 = unlimited)")
        }
    }
}
