import VOSModel

/// Turns a `FirewallPolicy` into the `inet vos_filter` table.
///
/// One `inet` table covers IPv4 and IPv6 with a single input chain; address sets are split per
/// family because a set key has one type. Order (see docs/Netfilter.md):
/// loopback, ban sets, management ports, trusted sources, SIP (jump to `sip_guard`),
/// established/related, RTP range. SIP is checked before the established accept so an answered
/// UDP flow cannot skip the scanner and flood rules.
public enum FirewallCompiler {
    public static let tableName = "vos_filter"
    public static let guardChain = "sip_guard"

    public static func banSetName(_ family: AddressFamily) -> String { family == .ipv4 ? "ban_v4" : "ban_v6" }

    public static func compile(_ policy: FirewallPolicy) -> Table {
        let families: [AddressFamily] = [.ipv4, .ipv6]
        let trusted = IPPrefix.normalized(policy.trustedSources + policy.managementSubnets)
        let management = IPPrefix.normalized(policy.managementSubnets)
        var sets: [NamedSet] = []

        for family in families {
            sets.append(NamedSet(
                name: banSetName(family), keyFields: [addressType(family)], flags: [.dynamic, .timeout],
                size: 65535, timeoutSeconds: policy.banSeconds, keepsLiveElements: true))
        }
        for family in families {
            sets.append(prefixSet("trusted_\(suffix(family))", family, trusted))
        }
        for family in families {
            sets.append(prefixSet("mgmt_\(suffix(family))", family, management))
        }
        sets.append(portSet("sip_udp_ports", policy.sipUDPPorts))
        sets.append(portSet("sip_tcp_ports", policy.sipTCPPorts))
        sets.append(portSet("mgmt_tcp_ports", policy.managementTCPPorts))
        for limit in policy.methodLimits {
            for family in families {
                sets.append(NamedSet(
                    name: meterSetName(limit, family), keyFields: [addressType(family)],
                    flags: [.dynamic, .timeout], size: 65535, timeoutSeconds: policy.meterIdleSeconds))
            }
        }
        for family in families {
            for scope in ["src", "net"] {
                sets.append(NamedSet(
                    name: "conn_\(scope)_\(suffix(family))", keyFields: [addressType(family)],
                    flags: [.dynamic], size: 65535))
            }
        }

        let input = Chain(
            name: "input", hook: .init(kind: .filter, hook: .input, priority: 0),
            rules: inputRules(policy, families))
        let sipGuard = Chain(name: guardChain, rules: guardRules(policy, families))
        return Table(family: .inet, name: tableName, sets: sets, chains: [input, sipGuard])
    }

    static func inputRules(_ policy: FirewallPolicy, _ families: [AddressFamily]) -> [Rule] {
        var rules = [Rule([.inputInterface("lo"), .verdict(.accept)], comment: "loopback: local services talk freely")]
        for family in families {
            rules.append(Rule(
                [.sourceInSet(family, set: banSetName(family)), .counter, .verdict(.drop)],
                comment: "banned \(family.rawValue) sources (floods, controller bans) dropped before anything else"))
        }
        for family in families {
            rules.append(Rule(
                [.destinationPortInSet(.tcp, set: "mgmt_tcp_ports"), .sourceInSet(family, set: "mgmt_\(suffix(family))"),
                 .verdict(.accept)],
                comment: "management ports from \(family.rawValue) management subnets"))
        }
        rules.append(Rule(
            [.destinationPortInSet(.tcp, set: "mgmt_tcp_ports"), .counter, .verdict(.drop)],
            comment: "management ports closed to everyone else"))
        for family in families {
            rules.append(Rule(
                [.sourceInSet(family, set: "trusted_\(suffix(family))"), .verdict(.accept)],
                comment: "trusted \(family.rawValue) peers (gateways, management) skip every limit"))
        }
        rules.append(Rule(
            [.destinationPortInSet(.udp, set: "sip_udp_ports"), .verdict(.jump(guardChain))],
            comment: "untrusted SIP over UDP goes through the scanner and flood checks"))
        rules.append(Rule(
            [.destinationPortInSet(.tcp, set: "sip_tcp_ports"), .verdict(.jump(guardChain))],
            comment: "untrusted SIP over TCP goes through the scanner and flood checks"))
        rules.append(Rule(
            [.conntrackState([.established, .related]), .verdict(.accept)],
            comment: "replies to our own traffic (after the SIP checks, so answered flows are still inspected)"))
        rules.append(Rule(
            [.destinationPortRange(.udp, policy.rtpPorts), .counter, .verdict(.accept)],
            comment: "RTP/RTCP relay port range"))
        return rules
    }

    static func guardRules(_ policy: FirewallPolicy, _ families: [AddressFamily]) -> [Rule] {
        var rules: [Rule] = []
        for pattern in policy.scannerUserAgents {
            rules.append(Rule(
                [.stringMatch(pattern), .counter, .verdict(.drop)],
                comment: "scanner User-Agent: \(pattern)"))
        }
        for limit in policy.methodLimits {
            let method = limit.method.trimmingSpaces()
            for family in families {
                rules.append(Rule(
                    [.explicitTransport(.udp),
                     .transportPayloadPrefix(bitOffset: 64, bytes: Array(limit.method.utf8)),
                     .meterOver(family, set: meterSetName(limit, family), perSecond: limit.packetsPerSecond, burst: limit.burst),
                     .addSourceToSet(family, set: banSetName(family), timeoutSeconds: policy.banSeconds),
                     .counter, .verdict(.drop)],
                    comment: "\(method) flood over \(limit.packetsPerSecond)/s burst \(limit.burst) per \(family.rawValue) source: ban"))
            }
        }
        for family in families {
            rules.append(Rule(
                [.conntrackState([.new]),
                 .conntrackCountOver(family, set: "conn_src_\(suffix(family))", prefixLength: nil, count: policy.maxFlowsPerSource),
                 .counter, .verdict(.drop)],
                comment: "more than \(policy.maxFlowsPerSource) concurrent SIP flows from one \(family.rawValue) source"))
            let network = family == .ipv4 ? 24 : 64
            rules.append(Rule(
                [.conntrackState([.new]),
                 .conntrackCountOver(family, set: "conn_net_\(suffix(family))", prefixLength: network, count: policy.maxFlowsPerNetwork),
                 .counter, .verdict(.drop)],
                comment: "more than \(policy.maxFlowsPerNetwork) concurrent SIP flows from one /\(network)"))
        }
        if policy.acceptUntrustedSIP {
            rules.append(Rule([.counter, .verdict(.accept)], comment: "untrusted SIP within limits reaches the SIP stack, which authenticates"))
        } else {
            rules.append(Rule([.counter, .verdict(.drop)], comment: "untrusted SIP refused (peering-only policy)"))
        }
        return rules
    }

    static func meterSetName(_ limit: FirewallPolicy.MethodLimit, _ family: AddressFamily) -> String {
        "\(limit.method.trimmingSpaces().lowercased())_meter_\(suffix(family))"
    }

    static func suffix(_ family: AddressFamily) -> String { family == .ipv4 ? "v4" : "v6" }

    static func addressType(_ family: AddressFamily) -> SetFieldType {
        family == .ipv4 ? .ipv4Address : .ipv6Address
    }

    static func prefixSet(_ name: String, _ family: AddressFamily, _ prefixes: [IPPrefix]) -> NamedSet {
        NamedSet(
            name: name, keyFields: [addressType(family)], flags: [.interval],
            elements: prefixes.filter { $0.isIPv4 == (family == .ipv4) }.map { .prefix($0) })
    }

    static func portSet(_ name: String, _ ports: [UInt16]) -> NamedSet {
        NamedSet(name: name, keyFields: [.inetService], elements: Set(ports).sorted().map { .port($0) })
    }
}

extension String {
    func trimmingSpaces() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
