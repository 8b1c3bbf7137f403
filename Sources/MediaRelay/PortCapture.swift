import MediaControl

/// One leg port whose packets the kernel should hand to an I/O thread's capture socket.
public struct CaptureBinding: Sendable, Equatable {
    /// The leg's local address and port (RTP or RTCP): IPv4, a specific address or 0.0.0.0.
    public let local: MediaEndpoint
    /// The port of the capture socket of the I/O thread that owns the leg.
    public let capturePort: UInt16

    public init(local: MediaEndpoint, capturePort: UInt16) {
        self.local = local
        self.capturePort = capturePort
    }
}

/// The seam where port capture plugs in (vos-mediad's `NetfilterPortCapture`: nftables TPROXY
/// from a map of leg ports to capture sockets, table `ip vos_capture`).
///
/// Why: with one socket per leg, an I/O thread makes one receive call per leg per wakeup, and
/// at 50 packets/s per stream each call returns one packet. With capture, every packet for the
/// thread's legs lands on one socket and one recvmmsg takes up to 64 of them, whatever leg they
/// are for; the original destination (which leg) comes with each packet (IP_ORIGDSTADDR). The
/// legs' own sockets stay bound and polled: they keep the ports reserved, and they receive
/// whatever is not (or not yet, or no longer) captured, so nothing is lost while a binding is
/// added or removed.
///
/// The engine binds a session's ports after its I/O thread has the session, and unbinds them
/// before the thread forgets it. Calls come from the engine's capture queue and control threads,
/// one at a time, never from an I/O thread.
public protocol PortCapture: Sendable {
    /// False when this machine cannot capture (no CAP_NET_ADMIN, no nft_tproxy, switched off):
    /// every leg then receives on its own socket.
    var isAvailable: Bool { get }
    func bind(_ bindings: [CaptureBinding]) throws
    /// Removing a binding that is not there is not an error.
    func unbind(_ locals: [MediaEndpoint]) throws
}

/// No capture: every leg receives on its own socket.
public struct UnavailablePortCapture: PortCapture {
    public init() {}
    public var isAvailable: Bool { false }
    public func bind(_ bindings: [CaptureBinding]) throws {}
    public func unbind(_ locals: [MediaEndpoint]) throws {}
}
