import Foundation
import Logging
import NIOCore
import PostgresNIO
import VOSModel
import VOSStore

/// What vosctl does against the cluster database, behind an API that needs neither PostgresNIO nor
/// swift-log in vosctl: one command's session (a transaction held across the synchronous command
/// body, under the writer lock) and the `cluster status` / `release-node` queries. Configuration
/// copying itself is `ConfigurationMirror`'s; leases are only read or released here, never granted.
public final class OperatorSession: @unchecked Sendable {
    // @unchecked: used by one vosctl command at a time, from one thread (through runBlocking).
    public let store: Store
    public let before: MirrorSnapshot
    let database: ClusterDatabase
    let transaction: ClusterTransaction
    let mirror: ConfigurationMirror

    private init(store: Store, before: MirrorSnapshot, database: ClusterDatabase, transaction: ClusterTransaction,
                 mirror: ConfigurationMirror) {
        self.store = store
        self.before = before
        self.database = database
        self.transaction = transaction
        self.mirror = mirror
    }

    /// Opens the database, begins a transaction holding the writer lock (a second vosctl waits
    /// here), checks the schema, brings the mirror store in `mirrorDirectory` (created as needed)
    /// up to date, and snapshots it.
    public static func open(dsn: ClusterDSN, mirrorDirectory: String) async throws -> OperatorSession {
        try await open(dsn: dsn, store: try Store.initialize(directory: mirrorDirectory).store)
    }

    /// As `open(dsn:mirrorDirectory:)` with a mirror store already open (LMDB allows one handle
    /// per process and directory).
    public static func open(dsn: ClusterDSN, store: Store) async throws -> OperatorSession {
        let logger = ClusterDatabase.quietLogger("vosctl.cluster")
        let database = ClusterDatabase(dsn: dsn, logger: logger)
        let connection = try await database.connected()
        let transaction = ClusterTransaction(connection: connection, logger: logger)
        do {
            try await transaction.query("BEGIN")
            try await transaction.query("SELECT pg_advisory_xact_lock(\(ClusterSchema.advisoryLockKey))")
            try await ClusterSchema.check(database)
            let mirror = ConfigurationMirror(database: database, logger: logger)
            try await mirror.pull(into: store, role: .operatorMirror, in: transaction)
            let before = try store.read { try MirrorSnapshot.take($0) }
            return OperatorSession(store: store, before: before, database: database, transaction: transaction, mirror: mirror)
        } catch {
            _ = try? await transaction.query("ROLLBACK")
            await database.close()
            if let clusterError = error as? ClusterError { throw clusterError }
            if error is PSQLError { throw ClusterError.unreachable(operation: "start a configuration transaction", reason: ClusterDatabase.reason(error)) }
            throw error
        }
    }

    /// Writes what the command changed and commits. On any failure the database transaction is
    /// rolled back and the mirror put back as it was, so it never holds what PostgreSQL refused.
    @discardableResult
    public func commit() async throws -> PushOutcome {
        let outcome: PushOutcome
        do {
            let after = try store.read { try MirrorSnapshot.take($0, newHistorySince: before.nextHistoryID) }
            let refused = after.unsupportedChanges(since: before)
            guard refused.isEmpty else {
                throw ClusterError.conflict("not supported in cluster mode yet: this command changes a node's own state "
                    + "(tables \(refused.map(\.rawValue).joined(separator: ", "))); nothing was written")
            }
            outcome = try await mirror.push(before: before, after: after, in: transaction)
            // Still under the writer lock, so no other vosctl pulls in between: the entries move
            // to the seq PostgreSQL gave them, the key every later pull uses, so the mirror holds
            // each entry once.
            if !outcome.history.isEmpty {
                try store.write(changesConfiguration: false) { local in
                    for pushed in outcome.history {
                        guard let value = try local.rawValue(.accountHistory, key: pushed.key) else { continue }
                        let entry = try ClusterRowCoding.decodeHistoryEntry(value, key: String(decoding: pushed.key, as: UTF8.self))
                        try local.deleteRaw(.accountHistory, key: pushed.key)
                        try local.importHistoryEntry(entry, id: pushed.seq)
                    }
                }
                movedHistory = outcome.history.compactMap { pushed in
                    after.newHistory[pushed.key].flatMap { try? ClusterRowCoding.decodeHistoryEntry($0, key: "") }
                        .map { ClusterRowCoding.historyKey(account: $0.account, id: pushed.seq) }
                }
            }
            try await transaction.query("COMMIT")
        } catch {
            await rollback()
            if let clusterError = error as? ClusterError { throw clusterError }
            if error is PSQLError { throw ClusterError.unreachable(operation: "write the configuration", reason: ClusterDatabase.reason(error)) }
            throw error
        }
        await database.close()
        return outcome
    }

    /// History keys `commit` moved to their PostgreSQL seq, for `rollback` to remove.
    private var movedHistory: [[UInt8]] = []

    /// Abandons the transaction and puts the mirror's rows back to their before-images.
    public func rollback() async {
        _ = try? await transaction.query("ROLLBACK")
        await database.close()
        do {
            try store.write(changesConfiguration: true) { local in
                try MirrorSnapshot.restore(before, in: local)
                for key in movedHistory { try local.deleteRaw(.accountHistory, key: key) }
            }
        } catch {
            FileHandle.standardError.write(Data("vosctl: cannot restore the cluster mirror in \(store.directory): \(error); delete it, the next command rebuilds it\n".utf8))
        }
    }
}

extension ClusterDatabase {
    /// A logger that stays silent unless something is badly wrong: vosctl reports errors itself.
    public static func quietLogger(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = .critical
        return logger
    }

    /// For callers without swift-log (vosctl).
    public convenience init(dsn: ClusterDSN, label: String) {
        self.init(dsn: dsn, logger: ClusterDatabase.quietLogger(label))
    }
}

/// `vosctl cluster status`: the schema, the configuration generation, every node's heartbeat and
/// every account's money with the leases per node.
public struct ClusterStatus: Sendable, Encodable {
    public var schemaVersion: Int
    public var configGeneration: UInt64
    public var nodes: [Node]
    public var accounts: [AccountMoney]

    public struct Node: Sendable, Encodable {
        public var node: String
        public var version: String
        public var heartbeatAgeSeconds: Double
        public var outboxRows: Int64
        public var configGeneration: UInt64
    }

    public struct AccountMoney: Sendable, Encodable {
        public var account: String
        public var balance: Money
        public var limitMoney: Money
        public var reserved: Money
        public var locked: Bool
        /// Credit each node holds leased, by node.
        public var leases: [String: Money]
    }
}

public enum ClusterAdministration {
    public static func status(_ database: ClusterDatabase) async throws -> ClusterStatus {
        try await ClusterSchema.check(database)
        guard let version = try await ClusterSchema.storedVersion(database) else {
            throw ClusterError.conflict("the database has no vos schema")
        }
        return try await database.transaction("read the cluster status", isolation: .repeatableRead) { transaction in
            let generation = try await transaction.query("SELECT generation FROM config_generation WHERE id = 1")
                .first.map { UInt64(clamping: try $0.decode(Int64.self)) } ?? 0
            let nodes = try await transaction.query("""
                SELECT node, version, EXTRACT(EPOCH FROM (now() - heartbeat_at))::float8, outbox_rows, config_generation
                  FROM nodes ORDER BY node
                """).map { row in
                let (node, version, age, outbox, nodeGeneration) = try row.decode((String, String, Double, Int64, Int64).self)
                return ClusterStatus.Node(node: node, version: version, heartbeatAgeSeconds: age, outboxRows: outbox,
                                          configGeneration: UInt64(clamping: nodeGeneration))
            }
            var leases: [String: [String: Money]] = [:]
            for row in try await transaction.query("SELECT account, node, amount FROM quota_leases WHERE amount > 0") {
                let (account, node, amount) = try row.decode((String, String, Int64).self)
                leases[account, default: [:]][node] = Money(units: amount)
            }
            let accounts = try await transaction.query(
                "SELECT account, balance, limit_money, reserved, locked FROM balances ORDER BY account").map { row in
                let (account, balance, limit, reserved, locked) = try row.decode((String, Int64, Int64, Int64, Bool).self)
                return ClusterStatus.AccountMoney(account: account, balance: Money(units: balance), limitMoney: Money(units: limit),
                                                  reserved: Money(units: reserved), locked: locked, leases: leases[account] ?? [:])
            }
            return ClusterStatus(schemaVersion: version, configGeneration: generation, nodes: nodes, accounts: accounts)
        }
    }

    /// Frees every lease `node` holds, in one transaction: deletes its `quota_leases` rows and
    /// takes them off `balances.reserved`. For a node the operator has decided is gone: a node
    /// still running would go on spending credit the cluster no longer counts.
    public static func releaseNode(_ node: String, database: ClusterDatabase) async throws -> [(account: String, amount: Money)] {
        try await ClusterSchema.check(database)
        return try await database.transaction("release the leases of node '\(node)'") { transaction in
            let rows = try await transaction.query("""
                WITH released AS (DELETE FROM quota_leases WHERE node = \(node) RETURNING account, amount),
                     per AS (SELECT account, sum(amount)::bigint AS amount FROM released GROUP BY account)
                UPDATE balances b SET reserved = GREATEST(b.reserved - per.amount, 0), updated_at = now()
                  FROM per WHERE b.account = per.account
                RETURNING b.account, per.amount
                """)
            return try rows.map { row in
                let (account, amount) = try row.decode((String, Int64).self)
                return (account, Money(units: amount))
            }.sorted { $0.account < $1.account }
        }
    }
}
