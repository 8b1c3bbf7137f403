import VOSModel

/// Gateway groups (configuration, written by vosctl): stored with their reserved accounts
/// checked; membership is the routing gateways that name the group.
extension Transaction {
    public func gatewayGroups() throws -> [GatewayGroup] {
        try records(GatewayGroup.self, in: .gatewayGroups)
    }

    public func gatewayGroup(named name: String) throws -> GatewayGroup? {
        try record(GatewayGroup.self, in: .gatewayGroups, key: name)
    }

    public func requireGatewayGroup(named name: String) throws -> GatewayGroup {
        guard let group = try gatewayGroup(named: name) else { throw StoreError.notFound(kind: "group", name: name) }
        return group
    }

    public func addGatewayGroup(_ group: GatewayGroup) throws {
        if try gatewayGroup(named: group.name) != nil { throw StoreError.duplicate(kind: "group", name: group.name) }
        try saveGatewayGroup(group)
    }

    /// Validates (lines, reservations within them) and writes; every reserved account must exist.
    public func saveGatewayGroup(_ group: GatewayGroup) throws {
        do { try group.validate() } catch { throw StoreError.invalid(error) }
        for reservation in group.reservations where try account(named: reservation.account) == nil {
            throw StoreError.conflict("account '\(reservation.account)' given in --reserve for group '\(group.name)' does not exist (create it with `vosctl account add \(reservation.account) --type prepaid|postpaid`)")
        }
        try putRecord(group, in: .gatewayGroups, key: group.name)
    }

    /// The routing gateways in a group, by name.
    public func gatewayGroupMembers(named name: String) throws -> [String] {
        try routingGateways().filter { $0.group == name }.map(\.name)
    }

    /// Refused while a routing gateway is in the group.
    public func removeGatewayGroup(named name: String) throws {
        _ = try requireGatewayGroup(named: name)
        let members = try gatewayGroupMembers(named: name)
        guard members.isEmpty else {
            throw StoreError.conflict("group '\(name)' has member gateway\(members.count == 1 ? "" : "s") \(members.map { "'\($0)'" }.joined(separator: ", ")): take \(members.count == 1 ? "it" : "them") out first (`vosctl gateway set \(members[0]) --no-group`)")
        }
        try delete(.gatewayGroups, Array(name.utf8))
    }

    /// An account a group reserves lines for may not disappear under it; `removeAccount` should
    /// ask (see the integration notes).
    public func requireNoGatewayGroupReservation(for account: String) throws {
        if let group = try gatewayGroups().first(where: { $0.reservation(for: account) > 0 }) {
            throw StoreError.conflict("account '\(account)' has lines reserved in group '\(group.name)': drop them first (`vosctl group set \(group.name) --reserve \(account)=0`)")
        }
    }
}
