import VOSModel

/// Per-prefix sort modes (configuration, written by vosctl) that override `SS_ROUTING_SORT`
/// for callees with that prefix; the longest matching prefix wins (the planner's rule).
extension Transaction {
    /// In prefix order.
    public func routeSortRules() throws -> [RouteSortRule] {
        try records(RouteSortRule.self, in: .routeSortRules)
    }

    public func routeSortRule(prefix: String) throws -> RouteSortRule? {
        try record(RouteSortRule.self, in: .routeSortRules, key: prefix)
    }

    public func addRouteSortRule(_ rule: RouteSortRule) throws {
        if let existing = try routeSortRule(prefix: rule.prefix) {
            throw StoreError.conflict("prefix \(rule.prefix) already sorts by \(existing.sort.rawValue): change it with `vosctl route sort set \(rule.prefix) MODE`")
        }
        try saveRouteSortRule(rule)
    }

    /// Validates and writes (insert or replace).
    public func saveRouteSortRule(_ rule: RouteSortRule) throws {
        do { try rule.validate() } catch { throw StoreError.invalid(error) }
        try putRecord(rule, in: .routeSortRules, key: rule.prefix)
    }

    public func removeRouteSortRule(prefix: String) throws {
        guard try delete(.routeSortRules, Array(prefix.utf8)) else {
            throw StoreError.notFound(kind: "route sort rule for prefix", name: prefix)
        }
    }
}
