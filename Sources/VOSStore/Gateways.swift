import VOSModel

/// Gateway records. Names are unique across mapping and routing gateways, because operators
/// address a gateway by name alone (`vosctl gateway show NAME`).
extension Transaction {
    public func mappingGateways() throws -> [MappingGateway] {
        try records(MappingGateway.self, in: .mappingGateways)
    }

    public func routingGateways() throws -> [RoutingGateway] {
        try records(RoutingGateway.self, in: .routingGateways)
    }

    public func mappingGateway(named name: String) throws -> MappingGateway? {
        try record(MappingGateway.self, in: .mappingGateways, key: name)
    }

    public func routingGateway(named name: String) throws -> RoutingGateway? {
        try record(RoutingGateway.self, in: .routingGateways, key: name)
    }

    public func addMappingGateway(_ gateway: MappingGateway) throws {
        try requireUnusedGatewayName(gateway.name)
        try saveMappingGateway(gateway)
    }

    public func addRoutingGateway(_ gateway: RoutingGateway) throws {
        try requireUnusedGatewayName(gateway.name)
        try saveRoutingGateway(gateway)
    }

    /// Validates and writes (insert or replace) a mapping gateway.
    public func saveMappingGateway(_ gateway: MappingGateway) throws {
        do { try gateway.validate() } catch { throw StoreError.invalid(error) }
        if let account = gateway.account { try requireAccount(account, for: "mapping gateway '\(gateway.name)'") }
        try requireScreeningReferences(listGroups: gateway.listGroups, filters: [gateway.callerFilter, gateway.calleeFilter],
                                       owner: "mapping gateway '\(gateway.name)'")
        try requireUniqueSources(gateway)
        try putRecord(gateway, in: .mappingGateways, key: gateway.name)
    }

    /// Validates and writes (insert or replace) a routing gateway.
    public func saveRoutingGateway(_ gateway: RoutingGateway) throws {
        do { try gateway.validate() } catch { throw StoreError.invalid(error) }
        if let account = gateway.clearingAccount {
            try requireAccount(account, for: "routing gateway '\(gateway.name)'")
        }
        try requireScreeningReferences(listGroups: gateway.listGroups, filters: [gateway.callerFilter, gateway.calleeFilter],
                                       owner: "routing gateway '\(gateway.name)'")
        try requireScheduleAndGroup(of: gateway)
        try putRecord(gateway, in: .routingGateways, key: gateway.name)
    }

    public func removeGateway(named name: String) throws {
        try requireNoDynamicBlacklistRule(naming: name)
        if try delete(.mappingGateways, Array(name.utf8)) { return }
        if try delete(.routingGateways, Array(name.utf8)) { return }
        throw StoreError.notFound(kind: "gateway", name: name)
    }

    private func requireUnusedGatewayName(_ name: String) throws {
        if try mappingGateway(named: name) != nil { throw StoreError.duplicate(kind: "mapping gateway", name: name) }
        if try routingGateway(named: name) != nil { throw StoreError.duplicate(kind: "routing gateway", name: name) }
    }

    private func requireAccount(_ name: String, for owner: String) throws {
        guard try account(named: name) != nil else {
            throw StoreError.conflict("account '\(name)' given for \(owner) does not exist (create it with `vosctl account add \(name) --type prepaid|postpaid`)")
        }
    }

    /// Two customers must never be identified by the same source, or calls would be billed to
    /// whichever gateway the lookup happened to find first.
    private func requireUniqueSources(_ gateway: MappingGateway) throws {
        for other in try mappingGateways() where other.name != gateway.name {
            if let username = gateway.credential?.username, other.credential?.username == username {
                throw StoreError.conflict("username '\(username)' already authenticates mapping gateway '\(other.name)'")
            }
            // A password gateway's --ip only narrows where its user may come from; it identifies nobody.
            if gateway.authentication == .password || other.authentication == .password { continue }
            for ip in gateway.ips where other.ips.contains(ip) {
                let samePort = gateway.port == other.port
                if gateway.authentication == .ip || other.authentication == .ip || samePort {
                    throw StoreError.conflict("IP \(ip) already identifies mapping gateway '\(other.name)' (auth \(other.authentication.rawValue), port \(other.port)); use --auth ip-port with distinct ports to share an address")
                }
            }
        }
    }
}
