import ClusterStore
import Foundation
import Logging
import Telemetry
import VOSModel
import VOSStore

/// The cluster node's state on /metrics (docs/OBSERVABILITY.md, docs/CLUSTER.md), read at scrape
/// time on the endpoint's render thread from what the follower and the shipper last saw and from
/// the node's store: never a PostgreSQL round trip, so a scrape answers during an outage and says so.
extension ControllerMetrics {
    static let clusterHelp: [String: String] = [
        "vos_cluster_database_reachable": "1 when the CDR shipper's last round reached the cluster database, 0 while it is unreachable (calls go on within the leases this node holds).",
        "vos_cluster_outbox_rows": "Balance changes (charges, leases) settled on this node and not yet shipped to the cluster database.",
        "vos_cluster_unshipped_cdrs": "CDRs written on this node and not yet shipped to the cluster database.",
        "vos_cluster_config_generation": "The cluster configuration generation last copied into this node's store.",
        "vos_cluster_config_age_seconds": "Seconds since this node last copied the configuration from the cluster database (about 5 at most while it is reachable).",
        "vos_cluster_active_nodes": "Nodes with a heartbeat in the last 30 s, as this node last counted them; live limits are shared among them.",
    ]

    static func clusterFamilies(_ cluster: ClusterNodeServices, store: Store, logger: Logger) -> [ScrapedFamily] {
        func family(_ name: String) -> ScrapedFamily { ScrapedFamily(name, .gauge, help: clusterHelp[name] ?? "") }
        var reachable = family("vos_cluster_database_reachable")
        var outbox = family("vos_cluster_outbox_rows")
        var unshipped = family("vos_cluster_unshipped_cdrs")
        var generation = family("vos_cluster_config_generation")
        var age = family("vos_cluster_config_age_seconds")
        var nodes = family("vos_cluster_active_nodes")
        let shipper = cluster.shipper.status()
        if let up = shipper.databaseReachable { reachable.samples.append(.init([], up ? 1 : 0)) }
        generation.samples.append(.init([], Double(cluster.follower.generation)))
        if let synced = cluster.follower.lastSyncedAt { age.samples.append(.init([], max(0, Date().timeIntervalSince(synced)))) }
        do {
            let (rows, nextCDR, active) = try store.read { transaction in
                (try transaction.count(.clusterOutbox), try transaction.metaNumber("next_cdr_id") ?? 1, try transaction.clusterActiveNodes())
            }
            outbox.samples.append(.init([], Double(rows)))
            nodes.samples.append(.init([], Double(active)))
            if let cursor = shipper.shippedCDRCursor {
                unshipped.samples.append(.init([], Double(max(0, Int64(nextCDR) - 1 - cursor))))
            }
        } catch {
            logger.warning("metrics scrape: cannot read the cluster outbox from the store: \(error)")
        }
        return [reachable, outbox, unshipped, generation, age, nodes]
    }

    /// The account gauges' values. On a single node (no `cluster`), the store's. A cluster node's
    /// LMDB balance is its lease: the gauges show the cluster's balance instead, and as available
    /// credit what a new call here may use, the cluster's unleased credit plus this node's lease
    /// not yet reserved by its live calls.
    static func accountAmounts(_ account: Account, localReserved: Money, cluster: ClusterBalance?) -> (balance: Money, available: Money) {
        let local = account.availableCredit(reserved: localReserved)
        guard let cluster else { return (account.balance, local) }
        return (cluster.balance, cluster.unleased + local)
    }
}
