import CallControl
import ClusterStore
import Foundation
import Logging
import VOSModel
import VOSRuntime
import VOSStore

/// A controller started with `--cluster-dsn` (docs/CLUSTER.md): what it does before taking calls
/// (schema check, node id, first configuration sync) and the loops it runs beside the SIP loop
/// (configuration follower, credit leaser, CDR and balance shipper). Each loop holds its own
/// PostgreSQL connection, so a slow one never delays another, and none is on the call path.
final class ClusterNodeServices: @unchecked Sendable {
    // @unchecked: the task list is written at start and read at stop, both on the daemon's task.
    let node: String
    let dsn: ClusterDSN
    let follower: ConfigurationFollower
    let leaser: QuotaLeaser
    let shipper: OutboxShipper
    private let logger: Logger
    private let store: Store
    private var tasks: [Task<Void, Never>] = []

    private init(node: String, dsn: ClusterDSN, store: Store, logger: Logger) {
        self.node = node
        self.dsn = dsn
        self.logger = logger
        follower = ConfigurationFollower(database: ClusterDatabase(dsn: dsn, logger: logger), store: store, logger: logger)
        leaser = QuotaLeaser(database: ClusterDatabase(dsn: dsn, logger: logger), store: store, node: node, logger: logger)
        shipper = OutboxShipper(database: ClusterDatabase(dsn: dsn, logger: logger), store: store, node: node, logger: logger,
                                version: VOSVersion.number)
        self.store = store
    }

    /// Checks the schema, joins the store to the cluster as `node` and copies the configuration
    /// in. A node that has synced before starts on its last configuration when the database is
    /// down; a node that never has refuses (it would route with an empty store).
    static func prepare(dsn: ClusterDSN, node: String, store: Store, logger: Logger) async throws -> ClusterNodeServices {
        let everJoined = try store.read { try $0.clusterNode() } != nil
        let check = ClusterDatabase(dsn: dsn, logger: logger)
        do {
            try await ClusterSchema.check(check)
            await check.close()
        } catch {
            await check.close()
            guard case .unreachable = error, everJoined else { throw error }
            logger.warning("cluster database unreachable (\(error)); starting on the last configuration this node copied")
        }
        try store.write(changesConfiguration: false) { try $0.joinCluster(as: node) }
        let services = ClusterNodeServices(node: node, dsn: dsn, store: store, logger: logger)
        do {
            let generation = try await services.follower.syncOnce()
            logger.info("cluster node \(node): configuration generation \(generation) copied from \(dsn)")
        } catch {
            guard everJoined else { throw error }
            logger.warning("cluster node \(node): cannot copy the configuration (\(error)); using the last copy")
        }
        return services
    }

    /// After crash recovery settled the calls of the previous run: ships what this node still
    /// owes the database and makes its local credit equal its leases, then starts the loops.
    func start() async {
        do {
            try await shipper.drain()
            try await leaser.reconcile()
        } catch {
            logger.warning("cluster node \(node): cannot ship or reconcile at start (\(error)); calls use the leases held, the shipper retries")
        }
        let follower = self.follower, leaser = self.leaser, shipper = self.shipper
        tasks = [
            Task { await follower.run() },
            Task { await leaser.run() },
            Task { await shipper.run() },
        ]
    }

    /// After the SIP loop stopped and the ledger drained: one last bounded shipping attempt.
    func stop() async {
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        let shipper = self.shipper
        let last = Task { try await shipper.drain() }
        let timeout = Task {
            try? await Task.sleep(for: .seconds(3))
            last.cancel()
        }
        if (try? await last.value) == nil {
            logger.notice("cluster node \(node): some CDRs or balance changes are still in the outbox; the next start ships them")
        }
        timeout.cancel()
    }

    /// The controller's ledger in cluster mode: admissions that find too little local credit
    /// lease more first.
    func ledger(wrapping inner: any CallLedger) -> any CallLedger {
        let leaser = self.leaser, store = self.store
        // Vendor balance checks see the cluster's balances, not this node's lease.
        return ClusterCallLedger(inner: inner, leaser: leaser, vendorBalances: {
            let cluster = leaser.clusterBalances()
            return ((try? store.read { try $0.accounts() }) ?? []).map { account in
                guard let shared = cluster[account.name] else { return account }
                var account = account
                account.balance = shared.balance
                account.limitMoney = shared.limitMoney
                return account
            }
        })
    }
}
