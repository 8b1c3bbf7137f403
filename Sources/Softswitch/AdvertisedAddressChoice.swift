import VOSModel

/// Which address of ours a call leg shows its peer (Via, Contact, From host, SDP `c=`/`o=`): the
/// one the peer can reach. A multi-homed appliance has a customer side and a vendor side, often
/// behind NAT, so the answer depends on the peer.
///
/// Precedence, first that applies:
/// 1. the gateway's own `--advertise` (the public address a NAT shows that gateway);
/// 2. the controller's `--sip-advertise` (one address for every peer);
/// 3. the local address: the listen address when SIP is bound to one, else the source address of
///    the kernel's route to the peer; then `SS_ADVERTISED_ADDRESSES` maps it to its public address.
///
/// A loopback address is never shown to a peer that is not on loopback: such an override is
/// skipped (configuration checks refuse it before a call ever gets here).
public struct AdvertisedAddressChoice: Sendable, Equatable {
    public var gateway: IPAddress?
    public var fixed: IPAddress?
    /// The SIP listen address when it is not the wildcard.
    public var listen: IPAddress?
    public var map: AddressMap

    public init(gateway: IPAddress? = nil, fixed: IPAddress? = nil, listen: IPAddress? = nil, map: AddressMap = AddressMap()) {
        self.gateway = gateway
        self.fixed = fixed
        self.listen = listen
        self.map = map
    }

    /// The address to advertise to `peer`. `routeSource` answers the kernel's route source for
    /// the peer; it is asked only when no override applies (nil: no route).
    public func address(for peer: IPAddress, routeSource: (IPAddress) -> IPAddress?) -> IPAddress? {
        for candidate in [gateway, fixed].compactMap({ $0 }) where Self.reaches(candidate, peer) {
            return candidate
        }
        if let listen, Self.reaches(listen, peer) { return map.advertised(for: listen) }
        guard let local = routeSource(peer) else { return nil }
        return map.advertised(for: local)
    }

    /// The address media legs on `local` are reached at by `peer`: a leg bound to the wildcard
    /// is reached wherever signalling is; a leg bound to one address through its public mapping,
    /// unless the gateway names its own address.
    public func mediaAddress(local: IPAddress, for peer: IPAddress, routeSource: (IPAddress) -> IPAddress?) -> IPAddress? {
        if local.isUnspecified { return address(for: peer, routeSource: routeSource) }
        if let gateway, Self.reaches(gateway, peer) { return gateway }
        return map.advertised(for: local)
    }

    /// Whether `address` is usable by `peer`: anything but a loopback address for a remote peer.
    public static func reaches(_ address: IPAddress, _ peer: IPAddress) -> Bool {
        !address.isUnspecified && (!address.isLoopback || peer.isLoopback)
    }

    /// Why this configuration would show a loopback address to one of `peers`, or nil when it
    /// would not: for the controller's start-up check.
    public func loopbackProblem(peers: [(gateway: String, address: IPAddress)]) -> String? {
        for (name, peer) in peers where !peer.isLoopback {
            if let fixed, fixed.isLoopback {
                return "--sip-advertise \(fixed) is a loopback address, but gateway \(name) is at \(peer): it would send its ACK, BYE and media to itself; remove --sip-advertise (each leg then advertises the address its route leaves from) or give a reachable address"
            }
            if let listen, listen.isLoopback {
                return "--sip-listen \(listen) is a loopback address, but gateway \(name) is at \(peer): it cannot reach this controller; listen on 0.0.0.0 or on an address of the interface facing it"
            }
        }
        return nil
    }
}
