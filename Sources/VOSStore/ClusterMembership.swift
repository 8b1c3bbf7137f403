import VOSModel

/// What this store knows of cluster mode (docs/CLUSTER.md): the node id it joined under, and the
/// outbox of balance changes not yet shipped to PostgreSQL. The PostgreSQL side is ClusterStore's;
/// this file only keeps the node's own bookkeeping in the same transactions as the money.
extension Transaction {
    static let clusterNodeKey = "cluster_node"
    static let clusterActiveNodesKey = "cluster_active_nodes"

    /// Nodes taking calls in this store's cluster, from their heartbeats (the follower writes it);
    /// 1 in single-node mode. Each node enforces its share of live limits (`ClusterShare`).
    public func clusterActiveNodes() throws -> Int {
        guard let stored = try metaInteger(Transaction.clusterActiveNodesKey), stored > 1 else { return 1 }
        return Int(stored)
    }

    /// Records the active node count; false when it was already so (nothing to reload).
    @discardableResult
    public func setClusterActiveNodes(_ count: Int) throws -> Bool {
        let count = max(1, count)
        guard try clusterActiveNodes() != count else { return false }
        try setMetaInteger(Transaction.clusterActiveNodesKey, UInt64(count))
        return true
    }

    /// The node id this store joined a cluster under, or nil for a single-node store.
    public func clusterNode() throws -> String? { try metaText(Transaction.clusterNodeKey) }

    /// Records the node id at the first cluster start; refuses a store that joined as another node.
    public func joinCluster(as node: String) throws {
        if let existing = try clusterNode() {
            guard existing == node else {
                throw StoreError.conflict(
                    "this data directory joined the cluster as node '\(existing)', not '\(node)': start it with --node-id \(existing)")
            }
            return
        }
        try setMetaText(Transaction.clusterNodeKey, node)
    }

    /// Queues a history entry for shipping when the store is a cluster node; a no-op otherwise.
    func queueForCluster(_ entry: AccountHistoryEntry) throws {
        guard try clusterNode() != nil else { return }
        try put(.clusterOutbox, BigEndianKey.bytes(entry.id), Transaction.historyKey(account: entry.account, id: entry.id))
    }

    /// Up to `limit` unshipped history entries, oldest first.
    public func clusterOutbox(limit: Int) throws -> [AccountHistoryEntry] {
        var keys: [[UInt8]] = []
        try scan(.clusterOutbox) { _, historyKey in
            keys.append(historyKey)
            return keys.count < limit
        }
        return try keys.compactMap { key in
            try get(.accountHistory, key).map {
                try Transaction.decode(AccountHistoryEntry.self, from: $0, table: .accountHistory, key: String(decoding: key, as: UTF8.self))
            }
        }
    }

    /// Forgets entries once PostgreSQL has committed them.
    public func removeFromClusterOutbox(ids: [UInt64]) throws {
        for id in ids { try delete(.clusterOutbox, BigEndianKey.bytes(id)) }
    }
}
