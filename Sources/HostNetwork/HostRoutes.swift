/// What this host's network stack says about addresses: which local address the kernel's route to
/// a peer leaves from, and whether an address belongs to this host. Used by vos-controller (the
/// address each leg advertises), vos-mediad (the real local address of a leg bound to the
/// wildcard, for kernel offload) and vosctl (checking `SS_MEDIA_IP`).
///
/// Owns only these questions, asked of the kernel with throwaway UDP sockets (connect(2) and
/// bind(2) send no packet). Must not hold policy: which address to advertise is the caller's.
import Sockets
import VOSModel
#if canImport(Glibc)
import Glibc
#endif

public struct HostNetworkError: Error, CustomStringConvertible {
    public let description: String
}

public enum HostRoutes {
    /// The source address the kernel would use to send to `peer`: the address on the interface
    /// the route leaves from, or the route's `src`.
    public static func sourceAddress(toward peer: IPAddress) throws(HostNetworkError) -> IPAddress {
        let target = SocketAddress(peer, port: 9)
        let descriptor = socket(target.domain, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw HostNetworkError(description: "no UDP socket to look up the route to \(peer): \(errorText())") }
        defer { close(descriptor) }
        guard target.withSockaddr({ connect(descriptor, $0, $1) }) == 0 else {
            throw HostNetworkError(description: "no route to \(peer): \(errorText())")
        }
        guard let local = SocketAddress(boundTo: descriptor) else {
            throw HostNetworkError(description: "cannot read the source address of the route to \(peer): \(errorText())")
        }
        return local.address
    }

    /// Whether `address` is one of this host's addresses (a socket can bind to it). The
    /// wildcard counts as local.
    public static func isLocal(_ address: IPAddress) -> Bool {
        let candidate = SocketAddress(address, port: 0)
        let descriptor = socket(candidate.domain, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        return candidate.withSockaddr { bind(descriptor, $0, $1) } == 0
    }

    private static func errorText() -> String { String(cString: strerror(errno)) }
}
