/// Transport protocols the rules match on.
public enum TransportProtocol: String, Sendable, Hashable {
    case udp, tcp
    var number: UInt8 { self == .udp ? 17 : 6 }
}

public enum AddressFamily: String, Sendable, Hashable {
    case ipv4, ipv6
    /// Keyword nft uses for the header: `ip saddr` / `ip6 saddr`.
    var headerKeyword: String { self == .ipv4 ? "ip" : "ip6" }
    var nfproto: UInt8 { self == .ipv4 ? 2 : 10 }
    var addressLength: UInt32 { self == .ipv4 ? 4 : 16 }
    var sourceOffset: UInt32 { self == .ipv4 ? 12 : 8 }
}

public enum ConntrackState: String, Sendable, Hashable {
    case invalid, established, related, new
    /// Bit in the kernel's ct state mask (NF_CT_STATE_BIT).
    var bit: UInt32 {
        switch self {
        case .invalid: return 1
        case .established: return 2
        case .related: return 4
        case .new: return 8
        }
    }
}

/// Packet fields used as (parts of) set and map keys.
public enum PacketField: String, Sendable, Hashable {
    case ipSource = "ip saddr"
    case ipDestination = "ip daddr"
    case udpSourcePort = "udp sport"
    case udpDestinationPort = "udp dport"

    var setFieldType: SetFieldType {
        switch self {
        case .ipSource, .ipDestination: return .ipv4Address
        case .udpSourcePort, .udpDestinationPort: return .inetService
        }
    }
}

public enum Verdict: Sendable, Hashable {
    case accept, drop
    case jump(String)
}

/// One match or statement, in the order nft prints it.
public enum RuleTerm: Sendable, Hashable {
    case inputInterface(String)
    case explicitTransport(TransportProtocol)
    case sourceInSet(AddressFamily, set: String)
    case destinationPortInSet(TransportProtocol, set: String)
    case destinationPortRange(TransportProtocol, ClosedRange<UInt16>)
    case conntrackState([ConntrackState])
    /// Raw transport payload compare (`@th,OFFSET,LEN 0x..`); the caller adds the transport match.
    case transportPayloadPrefix(bitOffset: Int, bytes: [UInt8])
    /// xtables `string` match (Boyer-Moore over the whole packet), kernel-only.
    case stringMatch(String)
    /// `update @set { SADDR limit rate over N/second burst B packets }`: true when over the rate.
    case meterOver(AddressFamily, set: String, perSecond: Int, burst: Int)
    /// `add @set { SADDR timeout T }`.
    case addSourceToSet(AddressFamily, set: String, timeoutSeconds: Int?)
    /// `add @set { SADDR [& mask] ct count over N }`: true when the source (or its network) has more flows.
    case conntrackCountOver(AddressFamily, set: String, prefixLength: Int?, count: Int)
    case concatenationInSet([PacketField], set: String)
    /// `FIELDS != @SET`: the key is not in the set (or map; only the keys are looked at).
    case concatenationNotInSet([PacketField], set: String)
    case destinationNATMap([PacketField], map: String)
    case sourceNATMap([PacketField], map: String)
    /// `tproxy to : FIELDS map @MAP` (IPv4, UDP): delivers the packet to the local socket bound to
    /// the port the map gives for its key, whatever socket its own destination port belongs to.
    /// nft refuses tproxy without a transport match, so the rule needs `explicitTransport(.udp)` first.
    case transparentProxyMap([PacketField], map: String)
    /// `fib daddr type local`: the destination is one of this host's addresses.
    case destinationIsLocal
    case setDSCP(UInt8)
    /// `meta mark 0x...`: the packet (or its socket, SO_MARK) carries this mark.
    case packetMark(UInt32)
    /// `notrack`: conntrack leaves the packet alone (only in chains of priority raw).
    case noConntrack
    case counter
    case verdict(Verdict)
}
