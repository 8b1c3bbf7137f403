import Foundation
import Logging
import PostgresNIO
import VOSModel
import VOSStore

/// Ships one node's journal to the cluster database (docs/CLUSTER.md "CDRs"): its CDRs, and the
/// balance changes its settlements queued in the LMDB cluster outbox, each exactly once.
///
/// - CDRs go after the highest id of this node PostgreSQL already has, keyed `(node, cdr_id)`.
/// - Balance changes go in one transaction with the balances they move, keyed `(node, entry_id)`;
///   only rows the INSERT actually added move money, so a batch shipped again after a crash
///   between the commit and the outbox delete changes nothing. A consumption (negative amount)
///   also lowers this node's lease by as much (never below 0), because it was spent from the lease.
///
/// Locks: the balance rows (in account order) before the lease rows, as `QuotaLeaser` does, so
/// two writers never wait for each other in a circle. Owns no LMDB data but the outbox deletes;
/// never touches configuration or other nodes' rows.
public final class OutboxShipper: @unchecked Sendable {
    // @unchecked: `reachable` and `knownCursor` are guarded by `lock`; database work goes through `gate`.
    public let node: String
    private let database: ClusterDatabase
    private let store: Store
    private let logger: Logger
    private let version: String
    private let batchSize: Int
    private let started = Date()
    /// `shipOnce`, `drain` and `run` share one connection, so their transactions take turns.
    private let gate = SerialGate()
    private let lock = NSLock()
    /// Whether the last round of `run` reached PostgreSQL; nil before the first round ended.
    private var reachable: Bool?
    /// The last CDR id PostgreSQL holds for this node, as the shipper last learnt it.
    private var knownCursor: Int64?

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    /// `database` must be this shipper's own connection; `batchSize` rows at most per transaction.
    public init(database: ClusterDatabase, store: Store, node: String, logger: Logger,
                version: String = "unknown", batchSize: Int = 500) {
        self.database = database
        self.store = store
        self.node = node
        self.logger = logger
        self.version = version
        self.batchSize = max(1, batchSize)
    }

    /// Ships one batch of CDRs and one of balance changes; returns how many of each were read
    /// from LMDB (0 and 0: nothing was left).
    @discardableResult
    public func shipOnce() async throws -> (cdrs: Int, entries: Int) {
        try await gate.run {
            let cdrs = try await shipCDRs()
            let entries = try await shipBalanceChanges()
            return (cdrs, entries)
        }
    }

    /// Ships until nothing is left (at start, before `QuotaLeaser.reconcile`, and in tests).
    public func drain() async throws {
        while true {
            let shipped = try await shipOnce()
            if shipped.cdrs == 0 && shipped.entries == 0 { return }
        }
    }

    /// Until cancelled: ships every `interval`, backing off up to 5 s while the database is
    /// unreachable (logged once per outage), and records this node's heartbeat with its backlog
    /// (every 5 s and after each round that shipped something).
    public func run(interval: Duration = .milliseconds(250)) async {
        var delay = interval
        var lastHeartbeat: ContinuousClock.Instant?
        while !Task.isCancelled {
            do {
                let shipped = try await shipOnce()
                // Every 5 s, and after every round that shipped, so the backlog `cluster status`
                // shows is never a stale non-zero figure after the journal drained.
                let shippedAny = shipped.cdrs + shipped.entries > 0
                if shippedAny || lastHeartbeat.map({ ContinuousClock.now - $0 >= .seconds(5) }) ?? true {
                    try await heartbeat()
                    lastHeartbeat = .now
                }
                let wasDown = lock.withLock { () -> Bool in
                    defer { reachable = true }
                    return reachable == false
                }
                if wasDown { logger.info("cluster: the cluster database answers again; shipping the journal") }
                delay = interval
                // A full batch means more is waiting: go on at once.
                if shipped.cdrs >= batchSize || shipped.entries >= batchSize { continue }
            } catch {
                let first = lock.withLock { () -> Bool in
                    defer { reachable = false }
                    return reachable != false
                }
                if first { logger.warning("cluster: cannot ship CDRs and balance changes (kept in the local journal, retried): \(error)") }
                delay = min(delay * 2, .seconds(5))
            }
            try? await Task.sleep(for: delay)
        }
    }

    /// What the shipper last saw, for the controller's metrics: whether its last round reached
    /// PostgreSQL (nil before the first round ended), and the last CDR id PostgreSQL holds for this
    /// node (nil until it has asked).
    public func status() -> (databaseReachable: Bool?, shippedCDRCursor: Int64?) {
        lock.withLock { (reachable, knownCursor) }
    }

    /// Records that this node is alive, with its unshipped backlog, in `nodes`.
    public func heartbeat() async throws {
        try await gate.run {
            let cursor = try await shippedCDRCursor()
            let (outboxRows, nextCDR) = try store.read { transaction in
                (try transaction.count(.clusterOutbox), try transaction.metaNumber("next_cdr_id") ?? 1)
            }
            let unshipped = Int64(max(0, Int64(nextCDR) - 1 - cursor))
            try await database.query("""
                INSERT INTO nodes (node, version, started_at, heartbeat_at, outbox_rows, unshipped_cdrs)
                VALUES (\(node), \(version), \(started), now(), \(Int64(outboxRows)), \(unshipped))
                ON CONFLICT (node) DO UPDATE SET version = excluded.version, started_at = excluded.started_at,
                    heartbeat_at = now(), outbox_rows = excluded.outbox_rows, unshipped_cdrs = excluded.unshipped_cdrs
                """, "record the heartbeat of node '\(node)'")
        }
    }

    // MARK: CDRs

    private func shippedCDRCursor() async throws -> Int64 {
        let rows = try await database.query("SELECT COALESCE(max(cdr_id), 0)::bigint FROM cdrs WHERE node = \(node)",
                                            "find the last CDR node '\(node)' shipped")
        return try rows.first?.decode(Int64.self) ?? 0
    }

    private func shipCDRs() async throws -> Int {
        let cursor = try await shippedCDRCursor()
        lock.withLock { knownCursor = cursor }
        let records = try store.read { try $0.cdrs(afterID: UInt64(max(0, cursor)), limit: batchSize) }
        guard !records.isEmpty else { return 0 }
        var bindings = PostgresBindings(capacity: records.count * 9)
        var rows: [String] = []
        for record in records {
            let first = bindings.count
            bindings.append(node)
            bindings.append(Int64(record.id))
            bindings.append(record.callID)
            bindings.append(record.account)
            bindings.append(record.setupTime)
            bindings.append(record.endReason.rawValue)
            bindings.append(record.customerCost.units)
            // The vendor's clearing account is not in the CDR: its charge is the account_history
            // row with this cdr_id.
            bindings.append(record.vendorCost.units)
            try bindings.append(Self.json(record, what: "CDR \(record.id)"))
            rows.append(Self.placeholders(from: first, to: bindings.count))
        }
        let sql = """
            INSERT INTO cdrs (node, cdr_id, call_id, account, setup_time, end_reason, customer_cost, vendor_cost, record)
            VALUES \(rows.joined(separator: ", "))
            ON CONFLICT (node, cdr_id) DO NOTHING
            """
        try await database.query(PostgresQuery(unsafeSQL: sql, binds: bindings), "ship \(records.count) CDRs of node '\(node)'")
        if let last = records.last { lock.withLock { knownCursor = max(knownCursor ?? 0, Int64(last.id)) } }
        return records.count
    }

    /// One VALUES row, "($n, ...)", for the bindings appended between `from` and `to`.
    static func placeholders(from first: Int, to end: Int) -> String {
        "(" + (first + 1...end).map { "$\($0)" }.joined(separator: ", ") + ")"
    }

    // MARK: Balance changes

    private func shipBalanceChanges() async throws -> Int {
        let entries = try store.read { try $0.clusterOutbox(limit: batchSize) }
        guard !entries.isEmpty else { return 0 }
        var bindings = PostgresBindings(capacity: entries.count * 8)
        var rows: [String] = []
        for entry in entries {
            let first = bindings.count
            bindings.append(node)
            bindings.append(Int64(entry.id))
            bindings.append(entry.account)
            bindings.append(entry.time)
            bindings.append(entry.kind.rawValue)
            bindings.append(entry.amount.units)
            bindings.append(entry.cdrID.map { Int64($0) })
            try bindings.append(Self.json(entry, what: "history entry \(entry.id)"))
            rows.append(Self.placeholders(from: first, to: bindings.count))
        }
        let insert = """
            INSERT INTO account_history (node, entry_id, account, time, kind, amount, cdr_id, record)
            VALUES \(rows.joined(separator: ", "))
            ON CONFLICT (node, entry_id) DO NOTHING
            RETURNING entry_id
            """
        let byID = Dictionary(entries.map { ($0.id, $0) }) { first, _ in first }
        try await database.transaction("ship \(entries.count) balance changes of node '\(node)'") { transaction in
            let inserted = try await transaction.query(PostgresQuery(unsafeSQL: insert, binds: bindings))
            var change: [String: (delta: Int64, consumed: Int64)] = [:]
            for row in inserted {
                guard let entry = byID[UInt64(try row.decode(Int64.self))] else { continue }
                var totals = change[entry.account] ?? (0, 0)
                totals.delta += entry.amount.units
                if entry.amount < .zero { totals.consumed -= entry.amount.units }
                change[entry.account] = totals
            }
            guard !change.isEmpty else { return }
            let accounts = change.keys.sorted()
            // An account the cluster has no balance row for (a vendor's clearing account) gets
            // one, so no shipped change is lost.
            try await transaction.query("""
                INSERT INTO balances (account) SELECT unnest(\(accounts)::text[]) ORDER BY 1 ON CONFLICT (account) DO NOTHING
                """)
            try await transaction.query("SELECT 1 FROM balances WHERE account = ANY(\(accounts)) ORDER BY account FOR UPDATE")
            let leaseRows = try await transaction.query("""
                SELECT account, amount FROM quota_leases WHERE node = \(node) AND account = ANY(\(accounts))
                 ORDER BY account FOR UPDATE
                """)
            var leases: [String: Int64] = [:]
            for row in leaseRows {
                let (account, amount) = try row.decode((String, Int64).self)
                leases[account] = amount
            }
            let released = accounts.map { min(change[$0]?.consumed ?? 0, leases[$0] ?? 0) }
            try await transaction.query("""
                UPDATE quota_leases AS q SET amount = q.amount - d.released, updated_at = now()
                  FROM unnest(\(accounts)::text[], \(released)::bigint[]) AS d(account, released)
                 WHERE q.node = \(node) AND q.account = d.account AND d.released > 0
                """)
            try await transaction.query("""
                UPDATE balances AS b SET balance = b.balance + d.delta, reserved = GREATEST(0, b.reserved - d.released),
                       updated_at = now()
                  FROM unnest(\(accounts)::text[], \(accounts.map { change[$0]?.delta ?? 0 })::bigint[],
                              \(released)::bigint[]) AS d(account, delta, released)
                 WHERE b.account = d.account
                """)
        }
        try store.write(changesConfiguration: false) { try $0.removeFromClusterOutbox(ids: entries.map(\.id)) }
        return entries.count
    }

    private static func json<Record: Encodable>(_ record: Record, what: String) throws -> Data {
        do { return try encoder.encode(record) } catch {
            throw ClusterError.conflict("cannot encode \(what) for shipping: \(error)")
        }
    }
}
