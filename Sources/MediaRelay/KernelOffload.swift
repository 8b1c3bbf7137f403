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
    }

    public let sessionID: UInt64
    public let legs: [Leg]
    public let dscp: Int
}

/// Per-leg counters the kernel kept for an offloaded flow (packets and bytes *from* each leg's far end).
public struct OffloadCounters: Sendable, Equatable {
    public var received: [TrafficCounters]

    public init(received: [TrafficCounters]) { self.received = received }
}

/// The seam where kernel forwarding (the Netfilter module: nftables maps + conntrack) plugs in.
/// The engine offers a flow once both legs have latched and offload is enabled; it removes the
/// flow when the session ends or a leg's address changes, and reads counters for statistics.
/// Implementations are called from the engine's event queue and control threads, never from an
/// I/O thread.
public protocol KernelOffload: Sendable {
    /// False when this machine cannot offload (module missing, no CAP_NET_ADMIN): the engine then
    /// keeps every leg in userspace without asking again.
    var isAvailable: Bool { get }
    func addFlow(_ flow: OffloadFlow) throws
    func removeFlow(sessionID: UInt64) throws
    func readCounters(sessionID: UInt64) throws -> OffloadCounters
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
}
