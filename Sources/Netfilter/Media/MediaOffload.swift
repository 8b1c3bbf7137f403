import CMnl
import CNftnl
import Glibc
import Sockets
import VOSModel

/// One relayed call leg pair handed to the kernel: both directions of a plain (no transcoding,
/// no DTMF conversion) relay whose remote sources are latched.
public struct OffloadedCall: Hashable, Sendable {
    /// Where side A really sends from (latched) and the relay port A sends to.
    public var sideA: SocketAddress
    public var relayForA: SocketAddress
    /// Same for side B.
    public var sideB: SocketAddress
    public var relayForB: SocketAddress

    public init(sideA: SocketAddress, relayForA: SocketAddress, sideB: SocketAddress, relayForB: SocketAddress) {
        self.sideA = sideA
        self.relayForA = relayForA
        self.sideB = sideB
        self.relayForB = relayForB
    }

    /// The two directions: packets from `source` to `relay` leave via `egress` towards `destination`.
    var directions: [(source: SocketAddress, relay: SocketAddress, egress: SocketAddress, destination: SocketAddress)] {
        [(sideA, relayForA, relayForB, sideB), (sideB, relayForB, relayForA, sideA)]
    }
}

/// Packets and bytes the kernel relayed in one direction.
public struct OffloadedFlowCounters: Sendable, Equatable {
    public var source: SocketAddress
    public var destination: SocketAddress
    public var packets: UInt64
    public var bytes: UInt64
}

/// The `ip vos_media` table owned by vos-mediad (IPv4 only; IPv6 legs stay in userspace).
///
/// - `dnat_targets`: latched source . source port . relay port -> far end address . port.
/// - `snat_sources`: (after DNAT) source . sport . destination . dport -> relay address . port.
/// - `flows`: same key as `snat_sources`, with a counter per element; the forward chain counts
///   and DSCP-marks every relayed packet (the NAT chains only see a connection's first packet).
/// - `untracked` (prerouting, priority raw): media to a relay port that is not offloaded is not
///   tracked. An offloaded call then has exactly one conntrack entry, the NATed one vos-mediad
///   creates over ctnetlink before the call's keys enter `dnat_targets`: no entry of the
///   userspace path has to be deleted at the switch, and no first packet of either side can
///   race to create the entry (two such packets on two CPUs clash at confirmation, and the
///   second is dropped). Packets still queued for the userspace relay when the keys go in are
///   relayed from there, untracked. Sender and receiver reports multiplexed on an RTP port
///   (RFC 5761: UDP payload byte 1 = 200 or 201, types that RTP must not use when multiplexing)
///   are left untracked even for an offloaded call: untracked, they are not NATed and reach the
///   userspace relay, which reads them for loss, jitter and round trip and relays them itself
///   (RTCP on its own port, RTP + 1, is never offloaded).
/// - `output` (priority raw): packets the userspace relay sends (its sockets carry
///   `relayPacketMark`) are not tracked either: such an entry (`relay port -> far end`) would have
///   the very reply tuple an offloaded call's NATed entry needs. Nothing needs the state of
///   untracked media: the firewall admits the RTP range statelessly and the relay latches by itself.
public enum MediaOffloadTable {
    public static let name = "vos_media"
    /// SO_MARK of the relay's raw send sockets ("VOS" 0x01).
    public static let relayPacketMark: UInt32 = 0x564f_5301

    /// The media port range the table's `untracked` rule covers when none is given
    /// (`SS_MEDIAPROXYPORT_START`..`END` defaults).
    public static let defaultRelayPorts: ClosedRange<UInt16> = 10000...60000

    public static func model(dscp: UInt8 = 46, relayPorts: ClosedRange<UInt16> = defaultRelayPorts) -> Table {
        let fourTuple: [PacketField] = [.ipSource, .udpSourcePort, .ipDestination, .udpDestinationPort]
        let endpointValue: [SetFieldType] = [.ipv4Address, .inetService]
        return Table(
            family: .ip, name: name,
            sets: [
                NamedSet(name: "dnat_targets", keyFields: [.ipv4Address, .inetService, .inetService], valueFields: endpointValue,
                         size: 65535, keepsLiveElements: true),
                NamedSet(name: "snat_sources", keyFields: fourTuple.map(\.setFieldType), valueFields: endpointValue,
                         size: 65535, keepsLiveElements: true),
                NamedSet(name: "flows", keyFields: fourTuple.map(\.setFieldType), size: 65535, elementCounters: true,
                         keepsLiveElements: true),
            ],
            chains: [
                Chain(name: "untracked", hook: .init(kind: .filter, hook: .prerouting, priority: -300), rules: [
                    Rule([.destinationPortRange(.udp, relayPorts), .transportPayloadPrefix(bitOffset: 72, bytes: [200]), .noConntrack],
                         comment: "RTCP sender reports multiplexed on an RTP port stay in userspace, where vos-mediad reads them"),
                    Rule([.destinationPortRange(.udp, relayPorts), .transportPayloadPrefix(bitOffset: 72, bytes: [201]), .noConntrack],
                         comment: "RTCP receiver reports multiplexed on an RTP port stay in userspace, where vos-mediad reads them"),
                    Rule([.destinationPortRange(.udp, relayPorts),
                          .concatenationNotInSet([.ipSource, .udpSourcePort, .udpDestinationPort], set: "dnat_targets"), .noConntrack],
                         comment: "media not offloaded stays untracked: an offloaded call's only conntrack entry is the one vos-mediad creates"),
                ]),
                Chain(name: "prerouting", hook: .init(kind: .nat, hook: .prerouting, priority: -100), rules: [
                    Rule([.destinationNATMap([.ipSource, .udpSourcePort, .udpDestinationPort], map: "dnat_targets")],
                         comment: "offloaded media: latched source to relay port goes to the far end"),
                ]),
                Chain(name: "postrouting", hook: .init(kind: .nat, hook: .postrouting, priority: 100), rules: [
                    Rule([.sourceNATMap(fourTuple, map: "snat_sources")],
                         comment: "offloaded media leaves from the relay port the far end knows"),
                ]),
                Chain(name: "output", hook: .init(kind: .filter, hook: .output, priority: -300), rules: [
                    Rule([.packetMark(relayPacketMark), .noConntrack],
                         comment: "the relay's own sends leave no conntrack entry to clash with an offloaded call's NAT"),
                ]),
                Chain(name: "forward", hook: .init(kind: .filter, hook: .forward, priority: 0), rules: [
                    Rule([.concatenationInSet(fourTuple, set: "flows"), .setDSCP(dscp), .verdict(.accept)],
                         comment: "offloaded media: count per flow and mark DSCP \(dscp)"),
                ]),
            ])
    }
}

extension NftablesClient {
    /// Creates `ip vos_media` unless it already matches the model (then flows are kept).
    @discardableResult
    public func ensureMediaTable(dscp: UInt8 = 46, relayPorts: ClosedRange<UInt16> = MediaOffloadTable.defaultRelayPorts) throws -> Bool {
        try ensure(MediaOffloadTable.model(dscp: dscp, relayPorts: relayPorts))
    }

    /// Offloads calls (both directions each): first each call's NATed conntrack entry is created
    /// (`MediaConntrack.bind`), then all their elements go in as one atomic batch. Until a call's
    /// keys are in `dnat_targets` its packets are untracked and reach the userspace relay, so the
    /// entry waits unused; from the batch on, every packet finds it. Entries a relay without the
    /// `untracked` rule's coverage left (a port outside the range, an unmarked send) are deleted
    /// first. If the batch fails, the entries are deleted again.
    public func offload(_ calls: [OffloadedCall]) throws {
        try Self.requireRealIPv4(calls)
        let conntrack = try MediaConntrack()
        try conntrack.forget(calls)
        conntrack.bind(calls)
        do {
            try sendFlowElements(calls, adding: true)
        } catch {
            _ = try? conntrack.forget(calls)
            throw error
        }
    }

    /// Stops offloading calls in one batch, then deletes their conntrack entries so packets
    /// already in flight fall back to the userspace relay instead of a stale NAT binding.
    public func stopOffloading(_ calls: [OffloadedCall]) throws {
        try sendFlowElements(calls, adding: false)
        try MediaConntrack().forget(calls)
    }

    /// Removes `ip vos_media` with every flow in it (no error when it does not exist) and the
    /// NAT bindings it created: conntrack entries towards a port in `relayPorts` whose reply
    /// comes from somewhere else than the original destination. For daemon start (a crashed
    /// predecessor's flows would hijack reused ports) and for offload switched off.
    public func removeMediaTable(relayPorts: ClosedRange<UInt16>) throws {
        try delete(.ip, MediaOffloadTable.name)
        let conntrack = try ConntrackClient()
        for entry in try conntrack.list(matching: ConntrackFilter(transport: 17))
        where entry.source.isIPv4 && relayPorts.contains(entry.destinationPort)
            && (entry.replySource != entry.destination || entry.replySourcePort != entry.destinationPort) {
            try conntrack.delete(matching: ConntrackFilter(transport: 17, source: entry.source, destination: entry.destination,
                                                           sourcePort: entry.sourcePort, destinationPort: entry.destinationPort))
        }
    }

    /// Per-direction counters of every offloaded flow.
    public func offloadedFlowCounters() throws -> [OffloadedFlowCounters] {
        try listElements(.ip, MediaOffloadTable.name, set: "flows").compactMap { element in
            guard element.key.count == 16 else { return nil }
            let key = element.key
            guard let sourceIP = IPAddress(bytes: key[0..<4]), let destinationIP = IPAddress(bytes: key[8..<12]) else { return nil }
            let source = SocketAddress(sourceIP, port: UInt16(key[4]) << 8 | UInt16(key[5]))
            let destination = SocketAddress(destinationIP, port: UInt16(key[12]) << 8 | UInt16(key[13]))
            return OffloadedFlowCounters(source: source, destination: destination, packets: element.packets ?? 0, bytes: element.bytes ?? 0)
        }
    }

    /// Counters of these calls' flows only (both directions each), asked for by key: a keyed
    /// GETSETELEM costs the same whatever the number of offloaded calls, where a dump grows with it.
    /// Directions missing from the set are left out.
    public func offloadedFlowCounters(for calls: [OffloadedCall]) throws -> [OffloadedFlowCounters] {
        var found: [OffloadedFlowCounters] = []
        for call in calls {
            for direction in call.directions {
                let key = direction.source.concatenationBytes + direction.destination.concatenationBytes
                let elements: [LiveSetElement]
                do {
                    elements = try setElements(.ip, MediaOffloadTable.name, set: "flows", key: key,
                                               purpose: "read counters of flow \(direction.source) -> \(direction.destination)")
                } catch let NetfilterError.kernel(_, code, _) where code == ENOENT {
                    continue
                }
                if let element = elements.first {
                    found.append(OffloadedFlowCounters(source: direction.source, destination: direction.destination,
                                                       packets: element.packets ?? 0, bytes: element.bytes ?? 0))
                }
            }
        }
        return found
    }

    /// Every endpoint of an offloaded call is a real IPv4 address: 0.0.0.0 (a leg bound to the
    /// wildcard whose address was not resolved) in a NAT target or the conntrack entry would
    /// silence the call after its first packet.
    private static func requireRealIPv4(_ calls: [OffloadedCall]) throws {
        for call in calls {
            for endpoint in [call.sideA, call.sideB, call.relayForA, call.relayForB]
            where !endpoint.address.isIPv4 || endpoint.address.isUnspecified {
                throw NetfilterError.invalidInput("media offload needs real IPv4 addresses, not \(endpoint)")
            }
        }
    }

    private func sendFlowElements(_ calls: [OffloadedCall], adding: Bool) throws {
        let table = MediaOffloadTable.model()
        guard let dnat = table.set(named: "dnat_targets"), let snat = table.set(named: "snat_sources"),
              let flows = table.set(named: "flows") else { return }
        try Self.requireRealIPv4(calls)
        var dnatElements: [ElementSpec] = [], snatElements: [ElementSpec] = [], flowElements: [ElementSpec] = []
        for call in calls {
            for direction in call.directions {
                let relayPort = [UInt8(direction.relay.port >> 8), UInt8(direction.relay.port & 0xff), 0, 0]
                let postDNAT = direction.source.concatenationBytes + direction.destination.concatenationBytes
                dnatElements.append(ElementSpec(
                    key: direction.source.concatenationBytes + relayPort,
                    value: adding ? direction.destination.concatenationBytes : nil))
                snatElements.append(ElementSpec(key: postDNAT, value: adding ? direction.egress.concatenationBytes : nil))
                flowElements.append(ElementSpec(key: postDNAT))
            }
        }
        let batch = NetlinkBatch(socket: socket)
        addElementMessages(table, dnat, dnatElements, to: batch, adding: adding)
        addElementMessages(table, snat, snatElements, to: batch, adding: adding)
        addElementMessages(table, flows, flowElements, to: batch, adding: adding)
        try socket.send(batch)
    }
}
