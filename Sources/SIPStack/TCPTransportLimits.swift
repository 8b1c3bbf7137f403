#if canImport(Glibc)
import Glibc
#endif

/// Bounds on what SIP over TCP may consume, so a flood of connections or a slow reader cannot
/// exhaust descriptors or memory of the process that also carries every call.
public struct TCPTransportLimits: Sendable {
    /// Open connections in total (incoming and outgoing). Clamped at start to the descriptor
    /// limit minus a reserve for UDP, media control, the store and the status socket.
    public var maximumConnections = 4096
    /// Incoming connections from one IP address: a single host (or NAT) cannot take them all.
    public var maximumConnectionsPerSource = 64
    /// A connection with no traffic for this long, and no transaction or call using its peer,
    /// is closed.
    public var idleTimeout: Duration = .seconds(300)
    /// How long an outgoing connect may take before queued messages are dropped.
    public var connectTimeout: Duration = .seconds(5)
    /// Bytes waiting for a slow peer to read; beyond this the peer is not keeping up and the
    /// connection is closed rather than buffering without end.
    public var maximumQueuedBytes = 1 << 20
    /// Largest SIP message on a stream, as for datagrams.
    public var maximumMessageSize = 65_536
    /// After a framing error and its 400, how long to wait for the peer to read before closing.
    public var closeLinger: Duration = .seconds(2)
    /// Descriptors kept free for everything that is not a SIP connection.
    public static let descriptorReserve = 256

    public init() {}

    /// `maximumConnections` lowered to what RLIMIT_NOFILE allows.
    public var clampedToDescriptorLimit: TCPTransportLimits {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return self }
        var clamped = self
        let available = Int(clamping: limit.rlim_cur) - TCPTransportLimits.descriptorReserve
        clamped.maximumConnections = max(16, min(maximumConnections, available))
        return clamped
    }
}
