import HostNetwork
import VOSModel

/// The real local address of a media leg bound to the wildcard (0.0.0.0, the appliance's default
/// when SS_MEDIA_IP is empty), for kernel offload. The leg's socket receives on every address, but
/// the kernel's NAT for an offloaded call names one address per side: the address the far end
/// sends to (the conntrack entry's original destination) and the address replies leave from
/// (SNAT). Both are the source address of this host's route to the latched far end: vos-controller
/// advertises that address to the peer (a NAT in front maps its public address back to it), and
/// the userspace relay sends from it.
///
/// Asked of the kernel on the control path when a session is offered for offload, never per packet.
enum WildcardLegAddress {
    struct Unresolved: Error, CustomStringConvertible {
        let description: String
    }

    /// `bound` itself when the leg is bound to a real address; for the wildcard, the source
    /// address of the route to `peer`, or why there is none the kernel could NAT with.
    static func resolve(bound: String, toward peer: String) throws(Unresolved) -> String {
        let local: IPAddress, remote: IPAddress
        do {
            local = try IPAddress(parsing: bound, field: "leg address")
            remote = try IPAddress(parsing: peer, field: "latched far end")
        } catch {
            throw Unresolved(description: error.description)
        }
        guard local.isUnspecified else { return bound }
        let source: IPAddress
        do { source = try HostRoutes.sourceAddress(toward: remote) } catch {
            throw Unresolved(description: "bound to \(bound), and the route lookup toward \(peer) failed: \(error)")
        }
        guard source.isIPv4 else {
            throw Unresolved(description: "bound to \(bound), and the route toward \(peer) leaves from \(source), not an IPv4 address")
        }
        guard !source.isUnspecified else {
            throw Unresolved(description: "bound to \(bound), and the route toward \(peer) names no source address")
        }
        // A far end that is not on this host cannot reach a loopback address: NAT with it would
        // blackhole the call.
        guard !source.isLoopback || remote.isLoopback else {
            throw Unresolved(description: "bound to \(bound), and the route toward \(peer) leaves from loopback address \(source)")
        }
        return source.description
    }
}
