import Foundation
import Logging
import PostgresNIO
import VOSStore

/// The node side of cluster configuration (docs/CLUSTER.md): LISTENs on `vos_config` on its own
/// connection and pulls into the node's LMDB on every notification and at least every 5 s, so the
/// existing configuration watcher reloads the snapshot. During a database outage the node keeps
/// the configuration it has; `lastSyncedAt` says how old it is (the metric
/// `vos_cluster_config_age_seconds`). It writes configuration rows only; money, leases and the
/// outbox belong to the leaser and the shipper.
public final class ConfigurationFollower: @unchecked Sendable {
    // @unchecked: `syncedGeneration` and `syncedAt` are guarded by `lock`; the rest is immutable.
    public let database: ClusterDatabase
    public let store: Store
    private let logger: Logger
    private let mirror: ConfigurationMirror
    private let lock = NSLock()
    private var syncedGeneration: UInt64 = 0
    private var syncedAt: Date?

    /// The safety net: a lost notification delays a change by at most this.
    public static let pollInterval: Duration = .seconds(5)
    /// Between reconnection attempts during an outage.
    public static let retryInterval: Duration = .seconds(1)

    public init(database: ClusterDatabase, store: Store, logger: Logger) {
        self.database = database
        self.store = store
        self.logger = logger
        mirror = ConfigurationMirror(database: database, logger: logger)
    }

    /// The PostgreSQL configuration generation last written into the store (0 before the first sync).
    public var generation: UInt64 { lock.withLock { syncedGeneration } }

    /// When the last pull succeeded; nil before the first.
    public var lastSyncedAt: Date? { lock.withLock { syncedAt } }

    /// Pulls once; returns the generation the store now holds.
    @discardableResult
    public func syncOnce() async throws -> UInt64 {
        let generation = try await mirror.pull(into: store, role: .node)
        try await recountActiveNodes()
        lock.withLock {
            syncedGeneration = generation
            syncedAt = Date()
        }
        return generation
    }

    /// How recent a node's heartbeat (written every 5 s by its shipper) must be for it to count.
    public static let heartbeatWindowSeconds = 30

    /// Counts the nodes whose heartbeat is recent and, when the count changed, stores it with a
    /// configuration change, so the controller reloads and enforces its new share of each limit.
    func recountActiveNodes() async throws {
        let rows = try await database.query(
            "SELECT count(*) FROM nodes WHERE heartbeat_at > now() - make_interval(secs => \(ConfigurationFollower.heartbeatWindowSeconds))",
            "count the active cluster nodes")
        let count = Int(try rows.first?.decode(Int64.self) ?? 1)
        let changed = try store.read { try $0.clusterActiveNodes() } != max(1, count)
        guard changed else { return }
        try store.write(changesConfiguration: true) { try $0.setClusterActiveNodes(count) }
        logger.notice("cluster: \(max(1, count)) active nodes; this node now enforces its share of gateway and account limits")
    }

    /// Follows the database until the task is cancelled. An outage is logged once when it starts
    /// and once when it ends, not on every retry.
    public func run() async {
        let listener = ClusterDatabase(dsn: database.dsn, logger: logger)
        var outageSince: Date?
        while !Task.isCancelled {
            do {
                let connection = try await listener.connected()
                try await connection.listen(on: ConfigurationMirror.channel) { notifications in
                    // Listening first, then pulling, so a change made in between is not missed.
                    try await syncOnce()
                    if let since = outageSince {
                        logger.notice("cluster configuration: database reachable again after \(Int(Date().timeIntervalSince(since))) s; generation \(generation)")
                        outageSince = nil
                    }
                    try await follow(notifications)
                }
            } catch {
                if Task.isCancelled { break }
                if outageSince == nil {
                    outageSince = Date()
                    logger.warning("cluster configuration: cannot follow the database (\(ClusterDatabase.reason(error))); keeping generation \(generation) and retrying")
                }
                await listener.close()
                try? await Task.sleep(for: ConfigurationFollower.retryInterval)
            }
        }
        await listener.close()
    }

    /// Pulls on each notification and every `pollInterval`; throws when the listening connection
    /// ends or a pull fails, so `run` reconnects.
    private func follow(_ notifications: PostgresNotificationSequence) async throws {
        let (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await _ in notifications { wake.yield() }
                throw ClusterError.unreachable(operation: "listen on \(ConfigurationMirror.channel)", reason: "the connection closed")
            }
            group.addTask {
                while true {
                    try await Task.sleep(for: ConfigurationFollower.pollInterval)
                    wake.yield()
                }
            }
            group.addTask { [self] in
                for await _ in wakes {
                    try Task.checkCancellation()
                    try await syncOnce()
                }
            }
            defer { group.cancelAll() }
            try await group.next()
        }
        wake.finish()
    }
}
