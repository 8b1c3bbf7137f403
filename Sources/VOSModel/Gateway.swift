/// A customer's way in (VOS3000 "mapping gateway", 对接网关): calls are accepted only from its
/// addresses and billed to its account.
public struct MappingGateway: Sendable, Hashable, Codable {
    public enum Authentication: String, Sendable, Codable, CaseIterable {
        /// Source IP alone identifies the gateway.
        case ip
        /// Source IP and source port together (several customers behind one IP).
        case ipPort = "ip-port"
        /// SIP digest (RFC 3261, RFC 8760) with `credential`: INVITE and REGISTER from any
        /// address, or only from `ips` when some are listed. Softphones and dynamic-IP customers.
        case password
    }

    /// Where the caller number is read from (VOS3000 "Caller" / "Peer number information").
    public enum CallerNumberSource: String, Sendable, Codable, CaseIterable {
        /// The From URI's user part.
        case from
        /// The Remote-Party-ID URI's user part; From when the header is absent.
        case rpid
        /// The From display name when it is a number; the From user part otherwise.
        case display
        /// The first P-Asserted-Identity URI's user part; From when the header is absent.
        case pai

        /// Accepts the names records written before `pai` existed used too.
        public init(from decoder: any Decoder) throws {
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let source = text == "remote-party-id" ? .rpid : CallerNumberSource(rawValue: text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown caller source '\(text)'"))
            }
            self = source
        }
    }

    public var name: String
    public var ips: [IPAddress]
    /// The source port required when `authentication == .ipPort`; SIP port otherwise informational.
    public var port: Int = 5060
    public var authentication: Authentication = .ip
    /// The digest username and password hashes; set with `authentication == .password` only.
    public var credential: DigestCredential?
    public var account: String?
    /// Calls per second accepted from this gateway; 0 = no limit of its own.
    public var cpsLimit: Int = 0
    /// Concurrent calls; 0 = no limit of its own.
    public var concurrentLimit: Int = 0
    /// Caller and callee prefixes (and number groups) the customer may use; refused calls get
    /// 403 (Blacklisted). The caller as received, the callee after `calleeRewrite`.
    public var callerFilter = PrefixFilter()
    public var calleeFilter = PrefixFilter()
    /// Applied to the numbers as received, before routing (the callee plan's result is routed on).
    public var callerRewrite = DialPlan()
    public var calleeRewrite = DialPlan()
    /// Black and white number lists (`NumberList`) judging the caller and callee, each as
    /// received and after this gateway's dial plans; refused calls get 403 (Blacklisted).
    /// Stored before white lists as `blacklistGroups`.
    public var listGroups: [String] = []
    public var mediaProxy: MediaProxyMode?
    public var callerNumberSource: CallerNumberSource = .from
    /// Whether the customer's Privacy header is honoured (passed on by a routing gateway with
    /// `privacy == .passthrough`); off: it is dropped.
    public var supportPrivacy: Bool = false
    /// Whether the customer is trusted to assert identities (RFC 3325 trust domain): only then
    /// are its own P-Asserted-Identity and P-Preferred-Identity passed on by a routing gateway
    /// set to `passthrough`. Off (the default): they are dropped.
    public var trustedIdentity: Bool = false
    /// Longest call in seconds for this customer; 0 = none. With a routing gateway's limit, the
    /// smaller one applies.
    public var conversationLimit: Int = 0
    public var enabled: Bool = true
    /// The address vos advertises to this gateway in Via, Contact and SDP (the public address of
    /// a NAT in front of vos); nil: the source address of the route to the gateway, through
    /// `SS_ADVERTISED_ADDRESSES`.
    public var advertise: IPAddress?
    /// RFC 4028 session timers on this gateway's legs; nil is the default, on.
    public var sessionTimer: Bool?
    public var usesSessionTimer: Bool { sessionTimer ?? true }
    /// RFC 3262 on this gateway's legs; nil is the default, `supported`.
    public var reliableProvisional: ReliableProvisionalMode?
    public var reliableProvisionalMode: ReliableProvisionalMode { reliableProvisional ?? .supported }
    /// Codecs this customer's legs may use and whether they may be transcoded (requirements §6).
    public var codecs = CodecSettings()
    public var dtmf = DTMFSettings()

    public init(name: String, ips: [IPAddress]) {
        self.name = name
        self.ips = ips
    }

    public func validate() throws(ModelError) {
        try GatewayName.validate(name)
        if authentication == .password {
            guard let credential else { throw ModelError.missing(field: "mapping gateway '\(name)' --username and --password (--auth password)") }
            try credential.validate()
        } else {
            guard !ips.isEmpty else { throw ModelError.missing(field: "mapping gateway '\(name)' --ip") }
            guard credential == nil else {
                throw ModelError.inconsistent("mapping gateway '\(name)' has a password but authenticates by \(authentication.rawValue); use --auth password")
            }
        }
        guard Set(ips).count == ips.count else {
            throw ModelError.inconsistent("mapping gateway '\(name)' lists the same IP twice")
        }
        try Limits.validatePort(port, field: "port")
        try Limits.validateCount(cpsLimit, field: "cps", maximum: 100_000)
        try Limits.validateCount(concurrentLimit, field: "concurrent", maximum: 1_000_000)
        try Limits.validateCount(conversationLimit, field: "conversation-limit", maximum: Limits.longestCall)
        try callerFilter.validate(field: "caller filter")
        try calleeFilter.validate(field: "callee filter")
        try callerRewrite.validate(field: "--caller-rewrite")
        try calleeRewrite.validate(field: "--callee-rewrite")
        try NumberList.validateAssignment(listGroups, gateway: name)
        try AdvertisedAddress.validate(advertise, gateway: name, peers: ips)
        try codecs.validate()
        try dtmf.validate()
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
    /// Applied to what the mapping gateway's plans made of the numbers, for this vendor only: a
    /// callee plan that denies makes this gateway no candidate for the number.
    public var calleeRewrite = DialPlan()
    public var callerRewrite = DialPlan()
    /// Numbers that replace the caller in From and P-Asserted-Identity; nil: no pool.
    public var callerPool: CallerNumberPool?
    /// Caller and callee prefixes (and number groups) this vendor takes, matched on the numbers
    /// routed (those `prefixes` match): a refused number makes the gateway no candidate.
    public var callerFilter = PrefixFilter()
    public var calleeFilter = PrefixFilter()
    /// Black and white number lists judging the routed caller and callee, each also after this
    /// gateway's dial plans: a refused number makes the gateway no candidate.
    public var listGroups: [String] = []
    public var mediaProxy: MediaProxyMode?
    /// Vendor account used for vendor-side rating and the clearing-customer balance check.
    public var clearingAccount: String?
    /// Longest call in seconds; 0 = none.
    public var conversationLimit: Int = 0
    /// RFC 3325 headers to this vendor. `passthrough` copies the customer's own headers only
    /// from a mapping gateway with `trustedIdentity` (Privacy: with `supportPrivacy`); `caller`
    /// builds them from the caller number after the caller dial plan and pool.
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
    /// RFC 3262 on this gateway's legs; nil is the default, `supported`.
    public var reliableProvisional: ReliableProvisionalMode?
    public var reliableProvisionalMode: ReliableProvisionalMode { reliableProvisional ?? .supported }
    /// user=phone, extra and forwarded headers, 3xx handling.
    public var signalling = VendorSignalling()
    /// Codecs this vendor's legs may use and whether they may be transcoded (requirements §6).
    public var codecs = CodecSettings()
    public var dtmf = DTMFSettings()
    /// A `RouteSchedule` by name: the gateway is tried only while it is active; nil: always.
    public var schedule: String?
    /// A `GatewayGroup` by name whose line limit (and reserved lines) this gateway shares.
    public var group: String?

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
        try Limits.validateCount(conversationLimit, field: "conversation-limit", maximum: Limits.longestCall)
        for code in stopSwitchingCodes ?? [] where !(300...699).contains(code) {
            throw ModelError.outOfRange(field: "stop-switching code", value: String(code), range: "300-699")
        }
        try calleeRewrite.validate(field: "--callee-rewrite")
        try callerRewrite.validate(field: "--caller-rewrite")
        try callerPool?.validate()
        try callerFilter.validate(field: "caller filter")
        try calleeFilter.validate(field: "callee filter")
        try NumberList.validateAssignment(listGroups, gateway: name)
        try signalling.validate()
        try codecs.validate()
        try dtmf.validate()
        try AdvertisedAddress.validate(advertise, gateway: name, peers: [try? IPAddress(parsing: address.host)].compactMap { $0 })
        if let schedule { try GatewayName.validate(schedule, field: "routing gateway '\(name)' --schedule") }
        if let group { try GatewayName.validate(group, field: "routing gateway '\(name)' --group") }
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
    /// A week: the longest conversation limit.
    static let longestCall = 86_400 * 7

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

/// A routing gateway's caller number pool (VOS3000 "Enable caller number pool"): each call sent
/// to the gateway takes a number that replaces its caller in From and P-Asserted-Identity, in
/// the order `FORWARD_SIGNAL_REWRITE_SEQUENCE` sets (0 random, 1 round robin).
public struct CallerNumberPool: Sendable, Hashable, Codable {
    public static let maximumNumbers = 10_000

    public var numbers: [String]
    /// Concurrent calls one number may carry (VOS3000 "Multiplexes"); 0 = unlimited.
    public var multiplexes: Int

    public init(numbers: [String], multiplexes: Int = 1) {
        self.numbers = numbers
        self.multiplexes = multiplexes
    }

    public func validate() throws(ModelError) {
        guard !numbers.isEmpty else { throw ModelError.missing(field: "--caller-pool number") }
        guard numbers.count <= CallerNumberPool.maximumNumbers else {
            throw ModelError.outOfRange(field: "--caller-pool size", value: String(numbers.count), range: "1-\(CallerNumberPool.maximumNumbers)")
        }
        for number in numbers { try NumberPrefix.validate(number, field: "--caller-pool number") }
        var seen = Set<String>()
        for number in numbers where !seen.insert(number).inserted {
            throw ModelError.inconsistent("--caller-pool lists \(number) twice: use --pool-multiplexes for more calls per number")
        }
        try Limits.validateCount(multiplexes, field: "--pool-multiplexes", maximum: 100_000)
    }
}

// MARK: Decoding

/// Gateways are stored as JSON. A record written by an older vos lacks the fields added since, and
/// the synthesized decoder would refuse it (it ignores property defaults), so each field is read
/// here with its default as the fallback. `whitelistGroups` (never settable) is ignored; a mapping
/// gateway's `blacklistGroups` loads as `listGroups`; a routing gateway's `callerFilter`/
/// `calleeFilter`, dropped once while nothing read them, are back with the shape they had. `codecs` and `dtmf`, dropped once while
/// nothing read them, are back with the shape they had, so records that kept them load as written.
/// `GatewayDecodingTests` fails when a stored property is missing here.
extension MappingGateway {
    private enum LegacyKeys: String, CodingKey { case callerSource, blacklistGroups }

    public init(from decoder: any Decoder) throws {
        let stored = try decoder.container(keyedBy: CodingKeys.self)
        self.init(name: try stored.decode(String.self, forKey: .name), ips: try stored.decode([IPAddress].self, forKey: .ips))
        func field<Value: Decodable>(_ key: CodingKeys, _ fallback: Value) throws -> Value {
            try stored.decodeIfPresent(Value.self, forKey: key) ?? fallback
        }
        port = try field(.port, port)
        authentication = try field(.authentication, authentication)
        credential = try stored.decodeIfPresent(DigestCredential.self, forKey: .credential)
        account = try stored.decodeIfPresent(String.self, forKey: .account)
        cpsLimit = try field(.cpsLimit, cpsLimit)
        concurrentLimit = try field(.concurrentLimit, concurrentLimit)
        callerFilter = try field(.callerFilter, callerFilter)
        calleeFilter = try field(.calleeFilter, calleeFilter)
        callerRewrite = try field(.callerRewrite, callerRewrite)
        calleeRewrite = try field(.calleeRewrite, calleeRewrite)
        mediaProxy = try stored.decodeIfPresent(MediaProxyMode.self, forKey: .mediaProxy)
        let legacy = try decoder.container(keyedBy: LegacyKeys.self)
        listGroups = try stored.decodeIfPresent([String].self, forKey: .listGroups)
            ?? legacy.decodeIfPresent([String].self, forKey: .blacklistGroups) ?? listGroups
        callerNumberSource = try stored.decodeIfPresent(CallerNumberSource.self, forKey: .callerNumberSource)
            ?? legacy.decodeIfPresent(CallerNumberSource.self, forKey: .callerSource) ?? callerNumberSource
        supportPrivacy = try field(.supportPrivacy, supportPrivacy)
        trustedIdentity = try field(.trustedIdentity, trustedIdentity)
        conversationLimit = try field(.conversationLimit, conversationLimit)
        enabled = try field(.enabled, enabled)
        advertise = try stored.decodeIfPresent(IPAddress.self, forKey: .advertise)
        sessionTimer = try stored.decodeIfPresent(Bool.self, forKey: .sessionTimer)
        reliableProvisional = try stored.decodeIfPresent(ReliableProvisionalMode.self, forKey: .reliableProvisional)
        codecs = try field(.codecs, codecs)
        dtmf = try field(.dtmf, dtmf)
    }
}

extension RoutingGateway {
    public init(from decoder: any Decoder) throws {
        let stored = try decoder.container(keyedBy: CodingKeys.self)
        self.init(name: try stored.decode(String.self, forKey: .name), address: try stored.decode(SIPAddress.self, forKey: .address),
                  prefixes: try stored.decode([String].self, forKey: .prefixes))
        func field<Value: Decodable>(_ key: CodingKeys, _ fallback: Value) throws -> Value {
            try stored.decodeIfPresent(Value.self, forKey: key) ?? fallback
        }
        priority = try field(.priority, priority)
        lineLimit = try field(.lineLimit, lineLimit)
        cpsLimit = try field(.cpsLimit, cpsLimit)
        switchUntilConnect = try field(.switchUntilConnect, switchUntilConnect)
        stopSwitchingCodes = try stored.decodeIfPresent([Int].self, forKey: .stopSwitchingCodes)
        protectRoute = try field(.protectRoute, protectRoute)
        optionsCheck = try field(.optionsCheck, optionsCheck)
        calleeRewrite = try field(.calleeRewrite, calleeRewrite)
        callerRewrite = try field(.callerRewrite, callerRewrite)
        callerPool = try stored.decodeIfPresent(CallerNumberPool.self, forKey: .callerPool)
        callerFilter = try field(.callerFilter, callerFilter)
        calleeFilter = try field(.calleeFilter, calleeFilter)
        listGroups = try field(.listGroups, listGroups)
        mediaProxy = try stored.decodeIfPresent(MediaProxyMode.self, forKey: .mediaProxy)
        clearingAccount = try stored.decodeIfPresent(String.self, forKey: .clearingAccount)
        conversationLimit = try field(.conversationLimit, conversationLimit)
        pAssertedIdentity = try field(.pAssertedIdentity, pAssertedIdentity)
        pPreferredIdentity = try field(.pPreferredIdentity, pPreferredIdentity)
        privacy = try field(.privacy, privacy)
        enabled = try field(.enabled, enabled)
        advertise = try stored.decodeIfPresent(IPAddress.self, forKey: .advertise)
        sessionTimer = try stored.decodeIfPresent(Bool.self, forKey: .sessionTimer)
        reliableProvisional = try stored.decodeIfPresent(ReliableProvisionalMode.self, forKey: .reliableProvisional)
        signalling = try field(.signalling, signalling)
        codecs = try field(.codecs, codecs)
        dtmf = try field(.dtmf, dtmf)
        schedule = try stored.decodeIfPresent(String.self, forKey: .schedule)
        group = try stored.decodeIfPresent(String.self, forKey: .group)
    }
}
