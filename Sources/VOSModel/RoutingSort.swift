/// How routing gateways that match a callee are ordered (`SS_ROUTING_SORT`, docs/ROUTING.md).
/// The raw values are the parameter's contract.
public enum RoutingSort: String, Sendable, Hashable, Codable, CaseIterable {
    /// Longest matching prefix, then priority, then load (requirements §2).
    case priority
    /// Least cost: the vendor's rate for the number, from its clearing account's rate table.
    case lcr
    /// Best windowed ASR (or talk time per attempt) first.
    case quality
    /// Rate per answered call: the vendor's rate divided by its ASR.
    case mix

    public init(parameter text: String) {
        self = RoutingSort(rawValue: text.lowercased()) ?? .priority
    }
}

/// A sort mode for callees starting with `prefix`, overriding `SS_ROUTING_SORT` (the longest
/// matching rule wins).
public struct RouteSortRule: Sendable, Hashable, Codable {
    public var prefix: String
    public var sort: RoutingSort

    public init(prefix: String, sort: RoutingSort) {
        self.prefix = prefix
        self.sort = sort
    }

    public func validate() throws(ModelError) {
        try NumberPrefix.validate(prefix, field: "route sort prefix")
    }
}
