import VOSModel

/// Number groups (`NumberGroup`, JSON in `number_groups`): named prefix sets that gateways'
/// prefix filters refer to. A group named by a gateway cannot be deleted.
extension Transaction {
    public func numberGroups() throws -> [NumberGroup] {
        try records(NumberGroup.self, in: .numberGroups)
    }

    public func numberGroup(named name: String) throws -> NumberGroup? {
        try record(NumberGroup.self, in: .numberGroups, key: name)
    }

    public func saveNumberGroup(_ group: NumberGroup) throws {
        do { try group.validate() } catch { throw StoreError.invalid(error) }
        try putRecord(group, in: .numberGroups, key: group.name)
    }

    /// Adds prefixes to a group, creating it; returns how many were new and the group.
    public func addPrefixes(_ prefixes: [String], toGroup name: String) throws -> (added: Int, group: NumberGroup) {
        var group = try numberGroup(named: name) ?? NumberGroup(name: name)
        let before = group.prefixes.count
        group.prefixes = NumberGroup.normalised(group.prefixes + prefixes)
        try saveNumberGroup(group)
        return (group.prefixes.count - before, group)
    }

    /// Removes prefixes from a group; returns how many it held and the group.
    public func removePrefixes(_ prefixes: [String], fromGroup name: String) throws -> (removed: Int, group: NumberGroup) {
        guard var group = try numberGroup(named: name) else { throw StoreError.notFound(kind: "number group", name: name) }
        let before = group.prefixes.count
        let gone = Set(prefixes)
        group.prefixes.removeAll { gone.contains($0) }
        try saveNumberGroup(group)
        return (before - group.prefixes.count, group)
    }

    /// Gateways of either kind whose prefix filters name `group`, sorted.
    public func gatewaysUsing(group name: String) throws -> [String] {
        let mapping = try mappingGateways().filter { ($0.callerFilter.groups + $0.calleeFilter.groups).contains(name) }.map(\.name)
        let routing = try routingGateways().filter { ($0.callerFilter.groups + $0.calleeFilter.groups).contains(name) }.map(\.name)
        return (mapping + routing).sorted()
    }

    /// Deletes a group; refused while a gateway's filter names it.
    public func deleteNumberGroup(named name: String) throws {
        guard try numberGroup(named: name) != nil else { throw StoreError.notFound(kind: "number group", name: name) }
        let gateways = try gatewaysUsing(group: name)
        guard gateways.isEmpty else {
            throw StoreError.conflict("number group '\(name)' is used by the filters of gateway\(gateways.count == 1 ? "" : "s") \(gateways.joined(separator: ", ")): take @\(name) out of them first; nothing was deleted")
        }
        try delete(.numberGroups, Array(name.utf8))
    }
}
