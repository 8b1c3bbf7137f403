/// Cluster mode's per-node shares of live limits (docs/CLUSTER.md "Live limits"): with N nodes
/// taking calls, each enforces ceil(limit / N) of a gateway's or account's concurrent-call, line
/// and CPS limits, so the cluster as a whole stays within the limit up to rounding (at most N - 1
/// calls over). Rebalanced when a node's heartbeat starts or stops. One node, or single-node
/// mode, leaves every limit as configured. Pure: the node count comes from the caller.
public struct ClusterShare: Sendable, Hashable {
    /// Nodes sharing the limits, at least 1.
    public let nodes: Int

    public init(nodes: Int) { self.nodes = max(1, nodes) }

    public static let whole = ClusterShare(nodes: 1)

    /// This node's part of `limit`; 0 (no limit) stays 0, and a positive limit never shares to 0.
    public func share(of limit: Int) -> Int {
        guard limit > 0, nodes > 1 else { return limit }
        return (limit + nodes - 1) / nodes
    }

    public func applied(to gateway: MappingGateway) -> MappingGateway {
        guard nodes > 1 else { return gateway }
        var shared = gateway
        shared.cpsLimit = share(of: gateway.cpsLimit)
        shared.concurrentLimit = share(of: gateway.concurrentLimit)
        return shared
    }

    public func applied(to gateway: RoutingGateway) -> RoutingGateway {
        guard nodes > 1 else { return gateway }
        var shared = gateway
        shared.cpsLimit = share(of: gateway.cpsLimit)
        shared.lineLimit = share(of: gateway.lineLimit)
        return shared
    }

    /// A group's lines and each customer's reserved lines, shared the same way (the group keeps
    /// at least the lines its reservations need after rounding up).
    public func applied(to group: GatewayGroup) -> GatewayGroup {
        guard nodes > 1 else { return group }
        let reservations = group.reservations.map { GatewayGroup.Reservation(account: $0.account, lines: share(of: $0.lines)) }
        let reserved = reservations.reduce(0) { $0 + $1.lines }
        let lines = group.lineLimit > 0 ? max(share(of: group.lineLimit), reserved) : 0
        return GatewayGroup(name: group.name, lineLimit: lines, reservations: reservations)
    }
}
