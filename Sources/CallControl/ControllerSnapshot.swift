import SIPStack
import Softswitch
import VOSModel
import VOSStore
#if canImport(Glibc)
import Glibc
#endif

/// The configuration a call is handled with: read from the store once per generation, so the
/// per-INVITE path reads no store and takes no lock.
public struct ControllerSnapshot: Sendable {
    public let generation: UInt64
    public let parameters: ParameterSet
    public let callers: CallerIdentification
    public let routingGateways: [RoutingGateway]
    /// The same, by name: asked per candidate per call.
    public let routingGatewaysByName: [String: RoutingGateway]
    /// Vendor addresses resolved to sockets (DNS names resolved at load, not per call).
    public let vendorAddresses: [String: SocketAddress]
    public let mappingGateways: [String: MappingGateway]
    public let accounts: [String: Account]
    /// Every gateway's prefix filters, number groups and number lists, lookup-ready (built here,
    /// once per generation): `Admission` and `RoutePlanner` ask it per call.
    public let numberScreening: NumberScreening
    /// Geofence ranges, sorted for lookup (empty: geofencing off).
    public let geofence: Geofence
    /// Names that could not be resolved, reported once per load.
    public let unresolvedVendors: [String]
    /// Mapping gateways with password authentication, by digest username.
    public let passwordGateways: [String: MappingGateway]
    /// Mapping gateways suspended after failed authentications, by name (may have expired).
    public let suspensions: [String: GatewaySuspension]
    /// Dynamic blacklist rules (their entries are the B2BUA's own, see B2BUA+DynamicBlacklist).
    public let dynamicBlacklistRules: [DynamicBlacklistRule]
    /// Wholesale routing (docs/ROUTING.md): the prefix index with each vendor's rates and the
    /// route sort rules, built here once per generation so a call scans no prefix list.
    public let routing: RoutingConfiguration

    public static func load(from store: Store) throws -> ControllerSnapshot {
        try store.read { transaction in
            // A cluster node enforces its share of each gateway limit (docs/CLUSTER.md).
            let share = ClusterShare(nodes: try transaction.clusterActiveNodes())
            return ControllerSnapshot(
                generation: try transaction.generation(), parameters: try transaction.parameters(),
                mapping: try transaction.mappingGateways().map(share.applied(to:)),
                routing: try transaction.routingGateways().map(share.applied(to:)),
                accounts: try transaction.accounts(), numberLists: try transaction.numberLists(),
                numberGroups: try transaction.numberGroups(),
                suspensions: try transaction.gatewaySuspensions(), geofence: try transaction.geofenceRanges(),
                dynamicBlacklistRules: try transaction.dynamicBlacklistRules(),
                wholesale: try RoutingConfiguration.load(transaction, share: share))
        }
    }

    /// A configuration from model values: what the store holds, or what a test sets up.
    /// Routing gateways' addresses are resolved here (DNS names too), never per call.
    public init(generation: UInt64 = 0, parameters: ParameterSet = ParameterSet(), mapping: [MappingGateway],
                routing: [RoutingGateway], accounts: [Account] = [], numberLists: [NumberList] = [],
                numberGroups: [NumberGroup] = [],
                suspensions: [GatewaySuspension] = [], geofence: [GeofenceRange] = [],
                dynamicBlacklistRules: [DynamicBlacklistRule] = [], wholesale: RoutingConfiguration? = nil) {
        var addresses: [String: SocketAddress] = [:]
        var unresolved: [String] = []
        for gateway in routing {
            if let address = Self.resolve(gateway.address) { addresses[gateway.name] = address } else { unresolved.append(gateway.name) }
        }
        self.generation = generation
        self.parameters = parameters
        self.callers = CallerIdentification(gateways: mapping)
        self.routingGateways = routing
        self.routingGatewaysByName = Dictionary(routing.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.vendorAddresses = addresses
        self.mappingGateways = Dictionary(mapping.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.accounts = Dictionary(accounts.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.numberScreening = NumberScreening(mapping: mapping, routing: routing, lists: numberLists, groups: numberGroups)
        self.unresolvedVendors = unresolved
        self.geofence = Geofence(geofence)
        self.passwordGateways = Dictionary(mapping.compactMap { gateway in
            gateway.authentication == .password ? gateway.credential.map { ($0.username, gateway) } : nil
        }, uniquingKeysWith: { first, _ in first })
        self.suspensions = Dictionary(suspensions.map { ($0.gateway, $0) }, uniquingKeysWith: { first, _ in first })
        self.dynamicBlacklistRules = dynamicBlacklistRules
        self.routing = wholesale ?? RoutingConfiguration(parameters: parameters, gateways: routing, accounts: accounts)
    }

    static func resolve(_ address: SIPAddress) -> SocketAddress? {
        if let direct = try? SocketAddress(ip: address.host, port: address.port) { return direct }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(address.host, nil, &hints, &result) == 0, let first = result else { return nil }
        defer { freeaddrinfo(result) }
        var storage = sockaddr_storage()
        memcpy(&storage, first.pointee.ai_addr, Int(first.pointee.ai_addrlen))
        guard let resolved = withUnsafePointer(to: &storage, { SocketAddress(storage: $0) }) else { return nil }
        return UInt16(exactly: address.port).map { SocketAddress(resolved.address, port: $0) }
    }
}

extension ControllerSnapshot {
    /// Every gateway's address by name: mapping gateways' sources and routing gateways' resolved
    /// addresses, for the start-up check that no peer is shown a loopback address.
    public var gatewayPeers: [(gateway: String, address: IPAddress)] {
        let sources = mappingGateways.values.sorted { $0.name < $1.name }.flatMap { gateway in gateway.ips.map { (gateway.name, $0) } }
        let vendors = vendorAddresses.sorted { $0.key < $1.key }.map { name, address in (name, address.address) }
        return sources + vendors
    }
}
