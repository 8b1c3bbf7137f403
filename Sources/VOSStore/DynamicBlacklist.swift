import VOSModel

/// The dynamic number blacklist's rows: rules (configuration, written by vosctl) and entries
/// (written by the controller when a number goes over a rule, removed by vosctl or when they run
/// out). It checks references and stores; it decides nothing about calls.
extension Transaction {
    public func dynamicBlacklistRules() throws -> [DynamicBlacklistRule] {
        try records(DynamicBlacklistRule.self, in: .dynamicBlacklistRules)
    }

    public func dynamicBlacklistRule(named name: String) throws -> DynamicBlacklistRule? {
        try record(DynamicBlacklistRule.self, in: .dynamicBlacklistRules, key: name)
    }

    /// Validates and adds a rule; its gateway, when named, must exist (mapping or routing).
    public func addDynamicBlacklistRule(_ rule: DynamicBlacklistRule) throws {
        if try dynamicBlacklistRule(named: rule.name) != nil {
            throw StoreError.duplicate(kind: "dynamic blacklist rule", name: rule.name)
        }
        try saveDynamicBlacklistRule(rule)
    }

    /// Validates and writes (insert or replace) a rule.
    public func saveDynamicBlacklistRule(_ rule: DynamicBlacklistRule) throws {
        do { try rule.validate() } catch { throw StoreError.invalid(error) }
        if let gateway = rule.gateway, try mappingGateway(named: gateway) == nil, try routingGateway(named: gateway) == nil {
            throw StoreError.conflict("gateway '\(gateway)' given for dynamic blacklist rule '\(rule.name)' does not exist (a mapping or routing gateway; leave --gateway out for a central rule)")
        }
        try putRecord(rule, in: .dynamicBlacklistRules, key: rule.name)
    }

    public func removeDynamicBlacklistRule(named name: String) throws {
        guard try delete(.dynamicBlacklistRules, Array(name.utf8)) else {
            throw StoreError.notFound(kind: "dynamic blacklist rule", name: name)
        }
    }

    /// A gateway a rule counts on may not disappear under it (`removeGateway` asks).
    func requireNoDynamicBlacklistRule(naming gateway: String) throws {
        if let rule = try dynamicBlacklistRules().first(where: { $0.gateway == gateway }) {
            throw StoreError.conflict("gateway '\(gateway)' is used by dynamic blacklist rule '\(rule.name)': remove the rule first (`vosctl blacklist rule remove \(rule.name)`)")
        }
    }

    /// Entries still blocking at `now` (wall-clock ms), by scope, target and number.
    public func dynamicBlacklistEntries(activeAt now: Int64) throws -> [DynamicBlacklistEntry] {
        try records(DynamicBlacklistEntry.self, in: .dynamicBlacklistEntries).filter { $0.isActive(at: now) }
    }

    /// Inserts or replaces the entry of its scope, target and number.
    public func saveDynamicBlacklistEntry(_ entry: DynamicBlacklistEntry) throws {
        try putRecord(entry, in: .dynamicBlacklistEntries, key: entry.key.storeKey)
    }

    /// Removes the entries of `number` (as caller or callee), all scopes or only `gateway`'s
    /// (`central: true` for central ones); returns what was removed, expired rows included.
    @discardableResult
    public func removeDynamicBlacklistEntries(number: String, gateway: String? = nil, central: Bool = false) throws -> [DynamicBlacklistEntry] {
        var removed: [DynamicBlacklistEntry] = []
        for entry in try records(DynamicBlacklistEntry.self, in: .dynamicBlacklistEntries) where entry.number == number {
            if central && entry.gateway != nil { continue }
            if let gateway, entry.gateway != gateway { continue }
            if try delete(.dynamicBlacklistEntries, Array(entry.key.storeKey.utf8)) { removed.append(entry) }
        }
        return removed
    }

    /// Deletes entries that ran out at or before `now`; returns how many.
    @discardableResult
    public func purgeDynamicBlacklistEntries(expiredAt now: Int64) throws -> Int {
        var removed = 0
        for entry in try records(DynamicBlacklistEntry.self, in: .dynamicBlacklistEntries) where !entry.isActive(at: now) {
            if try delete(.dynamicBlacklistEntries, Array(entry.key.storeKey.utf8)) { removed += 1 }
        }
        return removed
    }
}
