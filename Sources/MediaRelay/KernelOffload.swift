import MediaControl

/// One latched session as the kernel needs it to forward both directions without vos-mediad:
/// for each leg, packets from `remote` to `local` are rewritten to go from the other leg's
/// `local` to the other leg's `remote`, marked with `dscp`.
public struct OffloadFlow: Sendable, Equatable {
    public struct Leg: Sendable, Equatable {
        /// The relay's RTP address for this leg (RTCP is port + 1).
        public let local: MediaEndpoint
        /// The latched source of this leg's far end.
        public let remote: MediaEndpoint

        public init(local: MediaEndpoint, remote: MediaEndpoint) {
            self.local = local
            self.remote = remote
        }
    }

    public let sessionID: UInt64
    public let legs: [Leg]
    public let dscp: Int
    /// The relay's configured port range when the flow was offered (`SS_MEDIAPROXYPORT_*`).
    public let relayPorts: ClosedRange<Int>

    public init(sessionID: UInt64, legs: [Leg], dscp: Int, relayPorts: ClosedRange<Int>) {
        self.sessionID = sessionID
        self.legs = legs
        self.dscp = dscp
        self.relayPorts = relayPorts
    }
}

/// Per-leg counters the kernel kept for an offloaded flow (packets and bytes *from* each leg's
/// far end, relayed to the other leg's far end). RTP only: RTCP stays on the userspace path.
public struct OffloadCounters: Sendable, Equatable {
    public var received: [TrafficCounters]

    public init(received: [TrafficCounters]) { self.received = received }
}

/// The seam where kernel forwarding (the Netfilter module: nftables maps + conntrack) plugs in;
/// vos-mediad's `NetfilterKernelOffload` implements it, so this module holds no kernel policy.
/// The engine offers a flow once both legs have latched and offload is enabled; it removes the
/// flow when the session ends, a leg's address changes or offload is switched off, and reads
/// counters for statistics and the RTP timeout. Implementations are called from the engine's
/// event queue and control threads (one call at a time), never from an I/O thread.
public protocol KernelOffload: Sendable {
    /// False when this machine cannot offload (module missing, no CAP_NET_ADMIN, the kernel
    /// refused once): the engine then keeps every leg in userspace without asking again.
    var isAvailable: Bool { get }
    func addFlow(_ flow: OffloadFlow) throws
    func removeFlow(sessionID: UInt64) throws
    /// Withdraws many sessions at once (daemon stop): one kernel transaction instead of one each.
    func removeFlows(sessionIDs: [UInt64]) throws
    /// Offloads many sessions, in as few kernel transactions as it can; returns the ones now in
    /// the kernel (a refused one stays in userspace).
    func addFlows(_ flows: [OffloadFlow]) -> Set<UInt64>
    func readCounters(sessionID: UInt64) throws -> OffloadCounters
    /// Counters of every offloaded session in one read (one netlink dump), for the periodic
    /// activity check that keeps the RTP timeout working for offloaded legs.
    func readAllCounters() throws -> [UInt64: OffloadCounters]
}

extension KernelOffload {
    public func removeFlows(sessionIDs: [UInt64]) throws {
        for id in sessionIDs { try removeFlow(sessionID: id) }
    }

    public func addFlows(_ flows: [OffloadFlow]) -> Set<UInt64> {
        Set(flows.compactMap { flow in (try? addFlow(flow)).map { flow.sessionID } })
    }
}

/// The offload used until the Netfilter module is wired in: never available, so all media stays
/// on the userspace path.
public struct UnavailableKernelOffload: KernelOffload {
    public struct NotAvailable: Error, CustomStringConvertible {
        public var description: String { "kernel offload is not available in this build" }
    }

    public init() {}
    public var isAvailable: Bool { false }
    public func addFlow(_ flow: OffloadFlow) throws { throw NotAvailable() }
    public func removeFlow(sessionID: UInt64) throws {}
    public func readCounters(sessionID: UInt64) throws -> OffloadCounters { throw NotAvailable() }
    public func readAllCounters() throws -> [UInt64: OffloadCounters] { [:] }
}
