import VOSModel

/// The firewall's inputs as the operator configured them, in plain values: gateway addresses as
/// written in the store and the `SS_FIREWALL_*` / `SS_MEDIAPROXYPORT_*` parameters. The
/// `FirewallConfiguration` target fills this from the store; `FirewallSettings.compile` turns it
/// into a `FirewallPolicy`. Netfilter itself never reads the store.
public struct FirewallSettings: Sendable, Equatable {
    /// Mapping gateway IPs and routing gateway hosts (IP literals or DNS names).
    public var gatewayHosts: [String]
    public var managementSubnets: [String]
    public var managementTCPPorts: [Int]
    /// Protected for both UDP and TCP.
    public var sipPorts: [Int]
    public var rtpPortStart: Int
    public var rtpPortEnd: Int
    public var optionsRate: Int
    public var optionsBurst: Int
    public var registerRate: Int
    public var registerBurst: Int
    public var inviteRate: Int
    public var inviteBurst: Int
    public var banSeconds: Int
    public var concurrentPerSource: Int
    public var concurrentPerNetwork: Int
    public var scannerUserAgents: [String]

    /// The shipped defaults, equal to the `SS_FIREWALL_*` parameter defaults (a test checks it).
    public init(
        gatewayHosts: [String] = [],
        managementSubnets: [String] = ["127.0.0.0/8", "::1/128"],
        managementTCPPorts: [Int] = [22, 9464, 9465],
        sipPorts: [Int] = [5060],
        rtpPortStart: Int = 10000, rtpPortEnd: Int = 60000,
        optionsRate: Int = 5, optionsBurst: Int = 10,
        registerRate: Int = 5, registerBurst: Int = 10,
        inviteRate: Int = 10, inviteBurst: Int = 20,
        banSeconds: Int = 600,
        concurrentPerSource: Int = 10, concurrentPerNetwork: Int = 30,
        scannerUserAgents: [String] = FirewallPolicy.knownScannerUserAgents
    ) {
        self.gatewayHosts = gatewayHosts
        self.managementSubnets = managementSubnets
        self.managementTCPPorts = managementTCPPorts
        self.sipPorts = sipPorts
        self.rtpPortStart = rtpPortStart
        self.rtpPortEnd = rtpPortEnd
        self.optionsRate = optionsRate
        self.optionsBurst = optionsBurst
        self.registerRate = registerRate
        self.registerBurst = registerBurst
        self.inviteRate = inviteRate
        self.inviteBurst = inviteBurst
        self.banSeconds = banSeconds
        self.concurrentPerSource = concurrentPerSource
        self.concurrentPerNetwork = concurrentPerNetwork
        self.scannerUserAgents = scannerUserAgents
    }

    /// A policy plus what could not be taken over literally, for the operator to read.
    public struct Compiled: Sendable, Equatable {
        public var policy: FirewallPolicy
        /// Gateway hosts that are DNS names: they are *not* trusted (see docs/FIREWALL.md).
        public var untrustedGatewayNames: [String]
        /// Values that were skipped, each saying which and why.
        public var warnings: [String]
    }

    /// Pure: the same settings always give the same policy (no DNS, no clock), so `render` is
    /// reproducible and `diff` compares like with like.
    ///
    /// Gateway DNS names are deliberately not resolved: a name's addresses can change (or be
    /// spoofed) between two applies, and a stale or forged trust entry would let its owner skip
    /// every limit. Such gateways go through the untrusted checks like any other peer; their
    /// replies and calls stay well under the limits.
    public func compile() -> Compiled {
        var warnings: [String] = []
        var trusted: [IPPrefix] = []
        var names: [String] = []
        for host in gatewayHosts {
            let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
            if let address = IPAddress(bare) {
                trusted.append(IPPrefix(address: address, length: address.bitWidth))
            } else {
                names.append(host)
            }
        }
        var management: [IPPrefix] = []
        for text in managementSubnets {
            if let prefix = try? IPPrefix(parsing: text) { management.append(prefix) } else {
                warnings.append("management subnet \"\(text)\" is not an IP prefix; skipped")
            }
        }
        func ports(_ values: [Int], _ what: String) -> [UInt16] {
            values.compactMap { value in
                guard let port = UInt16(exactly: value), port != 0 else {
                    warnings.append("\(what) port \(value) is outside 1-65535; skipped")
                    return nil
                }
                return port
            }
        }
        let sip = ports(sipPorts, "SIP")
        let low = UInt16(clamping: max(1, rtpPortStart))
        let high = max(low, UInt16(clamping: rtpPortEnd))
        let policy = FirewallPolicy(
            trustedSources: IPPrefix.normalized(trusted),
            managementSubnets: IPPrefix.normalized(management),
            managementTCPPorts: ports(managementTCPPorts, "management"),
            sipUDPPorts: sip, sipTCPPorts: sip,
            rtpPorts: low...high,
            methodLimits: [
                .init(method: "OPTIONS ", packetsPerSecond: max(1, optionsRate), burst: max(1, optionsBurst)),
                .init(method: "REGISTER ", packetsPerSecond: max(1, registerRate), burst: max(1, registerBurst)),
                .init(method: "INVITE ", packetsPerSecond: max(1, inviteRate), burst: max(1, inviteBurst)),
            ],
            banSeconds: max(1, banSeconds),
            maxFlowsPerSource: max(1, concurrentPerSource),
            maxFlowsPerNetwork: max(1, concurrentPerNetwork),
            scannerUserAgents: scannerUserAgents.filter { !$0.isEmpty })
        return Compiled(policy: policy, untrustedGatewayNames: names.sorted(), warnings: warnings)
    }
}
