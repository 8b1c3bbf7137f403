import Foundation
import Logging
import MediaRelay
import struct MediaControl.MediaEndpoint
import struct MediaControl.TrafficCounters
import Netfilter
import Sockets
import VOSModel

/// `KernelOffload` on the Netfilter module: a latched session becomes elements of the
/// `ip vos_media` maps (DNAT to the far end, SNAT from the other leg's relay port, a counted
/// `flows` entry per direction, DSCP marked in the forward hook), programmed in netlink batches.
/// RTP only: RTCP (port + 1) stays on the userspace path, where it is rare and cheap. A leg bound
/// to the wildcard is NATed with the source address of the route to its latched far end
/// (`WildcardLegAddress`); a session without one stays in userspace with a warning.
///
/// Lives in vos-mediad, not MediaRelay, so the relay engine keeps no kernel policy. Errors the
/// kernel answers for lack of privilege or support (`NetfilterError.unavailable`) switch offload
/// off for the life of the process, logged once; the engine then keeps every session in userspace.
final class NetfilterKernelOffload: KernelOffload, @unchecked Sendable {
    // @unchecked: every stored var and the (not thread-safe) NftablesClient are used under `lock`.
    // The engine calls in from its event queue and control threads; nothing here runs per packet.
    private let lock = NSLock()
    private let logger: Logger
    private var client: NftablesClient?
    private var available = true
    /// The DSCP the table's forward rule marks; nil until the table was created by this process.
    private var tableDSCP: Int?
    /// The port range the table's `untracked` rule covers: a session on ports outside it would
    /// have tracked userspace packets that could clash with its NATed entry.
    private var tableRelayPorts: ClosedRange<UInt16> = MediaOffloadTable.defaultRelayPorts
    private var calls: [UInt64: OffloadedCall] = [:]
    /// Which session and leg each direction's `flows` counter belongs to (keyed as the kernel reports it).
    private var directions: [FlowKey: (session: UInt64, leg: Int)] = [:]

    /// Why a session stays in userspace. `level` says how loud: expected cases (IPv6, loopback,
    /// another DSCP) are debug; an address the kernel cannot NAT with is worth a warning.
    struct Refused: Error, CustomStringConvertible {
        let description: String
        var level: Logger.Level = .debug
    }

    private init(logger: Logger) {
        self.logger = logger
    }

    /// Sets the kernel side up for a daemon start: flows a crashed predecessor left behind are
    /// removed (with their NAT bindings) whatever the setting, since they would hijack reused
    /// ports; with offload on (and IPv4 forwarding on), the table is created.
    static func start(enabled: Bool, dscp: Int, relayPorts: ClosedRange<Int>, logger: Logger) -> NetfilterKernelOffload {
        let offload = NetfilterKernelOffload(logger: logger)
        offload.lock.withLock {
            do {
                let client = try NftablesClient()
                offload.client = client
                try client.removeMediaTable(relayPorts: udpPortRange(relayPorts))
                if enabled { try offload.prepareTable(dscp: dscp, relayPorts: relayPorts) }
            } catch {
                if enabled {
                    offload.disable(because: error)
                } else {
                    offload.logger.debug("no kernel offload state to clean up: \(error)")
                }
            }
        }
        if enabled && offload.isAvailable {
            logger.notice("kernel offload on (SS_MEDIA_KERNEL_OFFLOAD): latched RTP is forwarded by table ip vos_media")
        }
        return offload
    }

    var isAvailable: Bool { lock.withLock { available } }

    func addFlow(_ flow: OffloadFlow) throws {
        try lock.withLock {
            let call = try admit(flow)
            try offload([flow.sessionID: call])
        }
    }

    func addFlows(_ flows: [OffloadFlow]) -> Set<UInt64> {
        lock.withLock {
            var admitted: [UInt64: OffloadedCall] = [:]
            for flow in flows {
                do { admitted[flow.sessionID] = try admit(flow) } catch {
                    logger.log(level: (error as? Refused)?.level ?? .debug, "\(error)")
                }
            }
            guard !admitted.isEmpty else { return [] }
            do {
                try offload(admitted)
                return Set(admitted.keys)
            } catch {
                guard available else { return [] }
                // One transaction is all or nothing: find out which call the kernel refused.
                var accepted: Set<UInt64> = []
                for (id, call) in admitted where (try? offload([id: call])) != nil { accepted.insert(id) }
                return accepted
            }
        }
    }

    func removeFlow(sessionID: UInt64) throws {
        try lock.withLock {
            guard let client, let call = calls.removeValue(forKey: sessionID) else { return }
            directions[FlowKey(source: call.sideA, destination: call.sideB)] = nil
            directions[FlowKey(source: call.sideB, destination: call.sideA)] = nil
            do {
                try client.stopOffloading([call])
            } catch {
                logger.error("session \(sessionID): withdrawing its kernel flows failed: \(error)")
                throw error
            }
        }
    }

    func removeFlows(sessionIDs: [UInt64]) throws {
        try lock.withLock {
            guard let client else { return }
            let withdrawn = sessionIDs.compactMap { calls.removeValue(forKey: $0) }
            for call in withdrawn {
                directions[FlowKey(source: call.sideA, destination: call.sideB)] = nil
                directions[FlowKey(source: call.sideB, destination: call.sideA)] = nil
            }
            guard !withdrawn.isEmpty else { return }
            do {
                try client.stopOffloading(withdrawn)
            } catch {
                logger.error("withdrawing the kernel flows of \(withdrawn.count) sessions failed: \(error)")
                throw error
            }
        }
    }

    func readCounters(sessionID: UInt64) throws -> OffloadCounters {
        try lock.withLock {
            guard let client, let call = calls[sessionID] else { throw Refused(description: "session \(sessionID) is not offloaded") }
            var received = [TrafficCounters(packets: 0, bytes: 0), TrafficCounters(packets: 0, bytes: 0)]
            for flow in try client.offloadedFlowCounters(for: [call]) {
                let leg = flow.source == call.sideA ? 0 : 1
                received[leg] = Self.payload(packets: flow.packets, bytes: flow.bytes)
            }
            return OffloadCounters(received: received)
        }
    }

    func readAllCounters() throws -> [UInt64: OffloadCounters] {
        try lock.withLock {
            guard let client, !calls.isEmpty else { return [:] }
            var result: [UInt64: OffloadCounters] = [:]
            result.reserveCapacity(calls.count)
            try client.forEachFlowCounter { key, packets, bytes in
                guard let owner = directions[key] else { return }
                let counted = Self.payload(packets: packets, bytes: bytes)
                if result[owner.session] == nil {
                    result[owner.session] = OffloadCounters(received: [TrafficCounters(packets: 0, bytes: 0), TrafficCounters(packets: 0, bytes: 0)])
                }
                result[owner.session]?.received[owner.leg] = counted
            }
            return result
        }
    }

    /// nft counters count whole IPv4 packets; the userspace path counts UDP payload. Offloaded
    /// packets carry a 20-byte IP header (the relay's far ends send no IP options in practice)
    /// and an 8-byte UDP header.
    private static func payload(packets: UInt64, bytes: UInt64) -> TrafficCounters {
        TrafficCounters(packets: packets, bytes: bytes &- min(bytes, packets &* 28))
    }

    /// After the engine withdrew its flows: removes the (empty) table so a stopped relay leaves no
    /// kernel state behind.
    func stop(relayPorts: ClosedRange<Int>) {
        lock.withLock {
            guard let client, tableDSCP != nil else { return }
            do { try client.removeMediaTable(relayPorts: udpPortRange(relayPorts)) } catch {
                logger.warning("could not remove table ip vos_media on stop: \(error)")
            }
        }
    }

    // MARK: - Under `lock`

    /// The call to program for `flow`, or why it stays in userspace. Prepares the table first if
    /// this is the first flow since offload was switched on.
    private func admit(_ flow: OffloadFlow) throws -> OffloadedCall {
        guard available, client != nil else { throw Refused(description: "kernel offload is unavailable") }
        // Loopback traffic never passes prerouting NAT (its conntrack entry is made on output), so
        // the kernel cannot relay it: such sessions stay in userspace.
        guard flow.legs.allSatisfy({ !$0.local.ip.hasPrefix("127.") && !$0.remote.ip.hasPrefix("127.") }) else {
            throw Refused(description: "session \(flow.sessionID) stays in userspace: loopback legs cannot be forwarded by the kernel")
        }
        guard flow.legs.count == 2,
              flow.legs.allSatisfy({ IPAddress($0.local.ip)?.isIPv4 == true && IPAddress($0.remote.ip)?.isIPv4 == true }) else {
            throw Refused(description: "session \(flow.sessionID) stays in userspace: kernel offload is IPv4 only")
        }
        // NAT needs the address each far end really uses: a leg on 0.0.0.0 takes the source
        // address of the route to its latched far end; 0.0.0.0 itself never reaches the kernel.
        var locals: [String] = []
        for (index, leg) in flow.legs.enumerated() {
            do { locals.append(try WildcardLegAddress.resolve(bound: leg.local.ip, toward: leg.remote.ip)) } catch {
                throw Refused(description: "session \(flow.sessionID) stays in userspace: leg \(index) has no address the kernel can NAT with: \(error)",
                              level: .warning)
            }
        }
        guard let sideA = SocketAddress(ipv4: flow.legs[0].remote),
              let relayForA = SocketAddress(ipv4: MediaEndpoint(ip: locals[0], port: flow.legs[0].local.port)),
              let sideB = SocketAddress(ipv4: flow.legs[1].remote),
              let relayForB = SocketAddress(ipv4: MediaEndpoint(ip: locals[1], port: flow.legs[1].local.port)) else {
            throw Refused(description: "session \(flow.sessionID) stays in userspace: kernel offload is IPv4 only")
        }
        let covered = flow.legs.allSatisfy { tableRelayPorts.contains(UInt16(clamping: $0.local.port)) }
        if tableDSCP != flow.dscp || !covered {
            // One forward rule marks every flow and one rule untracks the port range; either can
            // only change while no flow uses the table.
            guard calls.isEmpty else {
                throw Refused(description: covered
                    ? "session \(flow.sessionID) stays in userspace: its DSCP \(flow.dscp) differs from the \(tableDSCP.map(String.init) ?? "-") marked by offloaded sessions"
                    : "session \(flow.sessionID) stays in userspace: its ports are outside \(tableRelayPorts), the range offloaded sessions were set up with")
            }
            try guarded { try prepareTable(dscp: flow.dscp, relayPorts: flow.relayPorts) }
        }
        return OffloadedCall(sideA: sideA, relayForA: relayForA, sideB: sideB, relayForB: relayForB)
    }

    /// One kernel transaction for all of `admitted`, then the bookkeeping for their counters.
    private func offload(_ admitted: [UInt64: OffloadedCall]) throws {
        guard let client else { throw Refused(description: "kernel offload is unavailable") }
        try guarded { try client.offload(Array(admitted.values)) }
        for (id, call) in admitted {
            calls[id] = call
            directions[FlowKey(source: call.sideA, destination: call.sideB)] = (id, 0)
            directions[FlowKey(source: call.sideB, destination: call.sideA)] = (id, 1)
        }
    }

    /// Forwarding must be on or DNATed packets are dropped in routing: offloading without it would
    /// silence every offloaded call. It is a host-wide setting, so vos-mediad does not change it:
    /// the appliance's unit sets it as root before the daemon starts (`vosctl media forwarding`,
    /// only while offload is on); elsewhere offload stays off and the
    /// log says why.
    private func prepareTable(dscp: Int, relayPorts: ClosedRange<Int>) throws {
        guard let client else { throw Refused(description: "no netfilter connection") }
        try requireForwarding()
        let ports = udpPortRange(relayPorts)
        try client.ensureMediaTable(dscp: UInt8(clamping: dscp & 0x3F), relayPorts: ports)
        tableDSCP = dscp
        tableRelayPorts = ports
    }


    private func requireForwarding() throws {
        let path = "/proc/sys/net/ipv4/ip_forward"
        let current = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        guard current == "1" else {
            throw NetfilterError.unavailable(operation: "check net.ipv4.ip_forward", errno: 0,
                                             reason: "it is \(current ?? "unreadable"), offloaded media would be dropped; `vosctl media forwarding` (run as root by vos-mediad.service) sets it to 1")
        }
    }

    /// Runs a kernel change; a refusal for privilege or support turns offload off for good.
    private func guarded(_ body: () throws -> Void) throws {
        do { try body() } catch {
            if let failure = error as? NetfilterError, failure.isUnavailable { disable(because: error) }
            throw error
        }
    }

    private func disable(because error: any Error) {
        guard available else { return }
        available = false
        logger.warning("kernel offload unavailable, media stays in userspace: \(error)")
    }
}
