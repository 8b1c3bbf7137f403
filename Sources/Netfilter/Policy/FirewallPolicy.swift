import VOSModel

/// What the host firewall must enforce, handed in by the caller (vos-mediad builds it from the
/// store). Netfilter never reads configuration or SIP state itself.
public struct FirewallPolicy: Sendable, Equatable {
    /// Per-source packet rate for one SIP method, matched by the request line's first bytes.
    public struct MethodLimit: Sendable, Equatable {
        /// Request-line prefix including the trailing space, e.g. "OPTIONS ".
        public var method: String
        public var packetsPerSecond: Int
        public var burst: Int
        public init(method: String, packetsPerSecond: Int, burst: Int) {
            self.method = method
            self.packetsPerSecond = packetsPerSecond
            self.burst = burst
        }
    }

    /// Gateway addresses and other peers accepted before any limit (management subnets are added
    /// to the trusted set automatically).
    public var trustedSources: [IPPrefix]
    /// Only these may reach `managementTCPPorts`.
    public var managementSubnets: [IPPrefix]
    public var managementTCPPorts: [UInt16]
    public var sipUDPPorts: [UInt16]
    public var sipTCPPorts: [UInt16]
    /// `SS_MEDIAPROXYPORT_START`..`END`: the relay's RTP/RTCP ports.
    public var rtpPorts: ClosedRange<UInt16>
    /// Method flood limits for untrusted sources; offenders go to the ban set.
    public var methodLimits: [MethodLimit]
    /// How long a flood offender stays banned.
    public var banSeconds: Int
    /// How long an idle source stays in a method meter before its token bucket is forgotten.
    public var meterIdleSeconds: Int
    /// New SIP flows allowed concurrently (conntrack entries) per untrusted source address.
    public var maxFlowsPerSource: Int
    /// Same, per IPv4 /24 (and per IPv6 /64).
    public var maxFlowsPerNetwork: Int
    /// Substrings that identify SIP scanners (usually in User-Agent); dropped in the kernel.
    public var scannerUserAgents: [String]
    /// When false, untrusted SIP that passes every check is still dropped (peering-only box).
    public var acceptUntrustedSIP: Bool

    public init(
        trustedSources: [IPPrefix] = [],
        managementSubnets: [IPPrefix] = FirewallPolicy.loopbackManagementSubnets,
        managementTCPPorts: [UInt16] = [22, 9464, 9465],
        sipUDPPorts: [UInt16] = [5060],
        sipTCPPorts: [UInt16] = [5060],
        rtpPorts: ClosedRange<UInt16> = 10000...60000,
        methodLimits: [MethodLimit] = FirewallPolicy.defaultMethodLimits,
        banSeconds: Int = 600,
        meterIdleSeconds: Int = 60,
        maxFlowsPerSource: Int = 10,
        maxFlowsPerNetwork: Int = 30,
        scannerUserAgents: [String] = FirewallPolicy.knownScannerUserAgents,
        acceptUntrustedSIP: Bool = true
    ) {
        self.trustedSources = trustedSources
        self.managementSubnets = managementSubnets
        self.managementTCPPorts = managementTCPPorts
        self.sipUDPPorts = sipUDPPorts
        self.sipTCPPorts = sipTCPPorts
        self.rtpPorts = rtpPorts
        self.methodLimits = methodLimits
        self.banSeconds = banSeconds
        self.meterIdleSeconds = meterIdleSeconds
        self.maxFlowsPerSource = maxFlowsPerSource
        self.maxFlowsPerNetwork = maxFlowsPerNetwork
        self.scannerUserAgents = scannerUserAgents
        self.acceptUntrustedSIP = acceptUntrustedSIP
    }

    /// What a fresh store programs: the `SS_FIREWALL_*` parameter defaults with no gateways.
    public static let defaults = FirewallSettings().compile().policy

    public static let knownScannerUserAgents = [
        "friendly-scanner", "sipvicious", "sipcli", "sip-scan", "VaxSIPUserAgent",
        "iWar", "sipsak", "SIPScan", "pplsip", "sundayddr",
    ]

    public static let defaultMethodLimits = [
        MethodLimit(method: "OPTIONS ", packetsPerSecond: 5, burst: 10),
        MethodLimit(method: "REGISTER ", packetsPerSecond: 5, burst: 10),
        MethodLimit(method: "INVITE ", packetsPerSecond: 10, burst: 20),
    ]

    /// The `SS_FIREWALL_MANAGEMENT_SUBNETS` default: management only from the box itself until
    /// the operator names an admin LAN (opening RFC 1918 by default would trust any NATed peer).
    public static let loopbackManagementSubnets: [IPPrefix] = ["127.0.0.0/8", "::1/128"].compactMap { try? IPPrefix(parsing: $0) }
}
