import MediaControl
import SIPStack
import Softswitch
import VOSModel

/// The addresses the B2BUA shows each peer (Via, Contact, From host, SDP), per
/// `AdvertisedAddressChoice`, with the kernel's route answers cached: a route lookup is a
/// syscall, and a call needs the same answer several times. The cache is dropped on every
/// configuration change and once a minute, so a new interface or route is picked up.
///
/// Loop-confined, like the B2BUA that owns it. The route lookup itself is injected, so this
/// type opens no socket.
struct LegAddressBook {
    typealias RouteSource = @Sendable (IPAddress) -> IPAddress?

    var choice: AdvertisedAddressChoice
    private let routeSource: RouteSource
    private var routes: [IPAddress: IPAddress?] = [:]
    private var routesTakenAt: UInt64 = 0
    private static let routeLifetime: UInt64 = 60_000_000_000

    init(choice: AdvertisedAddressChoice, routeSource: @escaping RouteSource) {
        self.choice = choice
        self.routeSource = routeSource
    }

    /// A new `SS_ADVERTISED_ADDRESSES`; routes are asked again.
    mutating func reload(map: AddressMap) {
        choice.map = map
        routes.removeAll(keepingCapacity: true)
    }

    /// The SIP host (IPv6 in brackets) to show `peer`, the owner gateway's `--advertise` first.
    mutating func sipHost(for peer: SocketAddress, gateway: IPAddress?, now: UInt64) -> String {
        var gatewayChoice = choice
        gatewayChoice.gateway = gateway
        // No route to the peer: nothing sent to it can arrive anyway, so the wildcard says so.
        let address = gatewayChoice.address(for: peer.address) { self.route($0, now: now) }
        return (address ?? (peer.family == .v4 ? .v4(0) : .v6(high: 0, low: 0))).uriHost
    }

    /// Where `peer` sends media for a relay leg listening on `local`.
    mutating func mediaEndpoint(_ local: MediaEndpoint, for peer: SocketAddress, gateway: IPAddress?, now: UInt64) -> MediaEndpoint {
        guard let bound = try? IPAddress(parsing: local.ip) else { return local }
        var gatewayChoice = choice
        gatewayChoice.gateway = gateway
        let reached = gatewayChoice.mediaAddress(local: bound, for: peer.address) { self.route($0, now: now) }
        return reached.map { MediaEndpoint(ip: $0.description, port: local.port) } ?? local
    }

    private mutating func route(_ peer: IPAddress, now: UInt64) -> IPAddress? {
        if now &- routesTakenAt > Self.routeLifetime {
            routes.removeAll(keepingCapacity: true)
            routesTakenAt = now
        }
        if let known = routes[peer] { return known }
        // Peers are gateways (and OPTIONS senders): bounded, but never let the cache grow without limit.
        if routes.count >= 4096 { routes.removeAll(keepingCapacity: true) }
        let found = routeSource(peer)
        routes[peer] = found
        return found
    }
}
