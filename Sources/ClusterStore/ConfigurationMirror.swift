import Foundation
import Logging
import NIOCore
import PostgresNIO
import VOSModel
import VOSStore

/// Copies configuration between a store's LMDB and PostgreSQL's `config_rows` (docs/CLUSTER.md
/// "Configuration: written centrally, read locally"): `pull` brings a store up to the database's
/// configuration generation, `push` writes what one vosctl command changed. It owns the money
/// side of account rows (`balances`) only as far as configuration reaches it: a node's leases,
/// reservations and shipping belong to the leaser and the shipper, and this file must not touch
/// `quota_leases` other than to read them.

/// Who the store belongs to, which decides what an account row holds locally.
public enum MirrorRole: Sendable {
    /// A vos node: its LMDB balance is the credit it leased, so pulls keep the local balance and
    /// set `limitMoney` to 0 (the real limit lives in `balances.limit_money`).
    case node
    /// vosctl's mirror: accounts show PostgreSQL's balance and limit, `account_reservations` holds
    /// what every node leased, and shipped CDRs and history are copied in for reports.
    case operatorMirror
}

/// The raw rows of one store taken before or after a vosctl command, for `push` to diff and for a
/// refused command to be put back.
public struct MirrorSnapshot: Sendable {
    /// Every configuration table, by key.
    public var configuration: [Table: [[UInt8]: [UInt8]]]
    /// The node-state tables vosctl may not change in cluster mode yet (their owner is a node).
    public var nodeState: [Table: [[UInt8]: [UInt8]]]
    /// Tables too large to copy (the mirror's CDRs); compared by row count only.
    public var rowCounts: [Table: Int]
    /// The id the store's next history entry gets: entries from here on were made by the command.
    public var nextHistoryID: UInt64
    /// History entries with an id >= the `newHistorySince` given to `take` (empty without it).
    public var newHistory: [[UInt8]: [UInt8]]

    static let countedTables: [Table] = [.cdrs, .cdrReportFacts]
    static var nodeStateTables: [Table] {
        Table.dataTables.filter { !$0.isConfiguration && $0 != .accountHistory && !countedTables.contains($0) }
    }

    public static func take(_ transaction: Transaction, newHistorySince firstID: UInt64? = nil) throws -> MirrorSnapshot {
        var configuration: [Table: [[UInt8]: [UInt8]]] = [:]
        for table in Table.configurationTables { configuration[table] = try transaction.rawRows(table) }
        var nodeState: [Table: [[UInt8]: [UInt8]]] = [:]
        for table in nodeStateTables { nodeState[table] = try transaction.rawRows(table) }
        var rowCounts: [Table: Int] = [:]
        for table in countedTables { rowCounts[table] = try transaction.count(table) }
        let newHistory = try firstID.map { try transaction.accountHistoryRows(fromID: $0) } ?? [:]
        return MirrorSnapshot(configuration: configuration, nodeState: nodeState, rowCounts: rowCounts,
                              nextHistoryID: try transaction.nextAccountHistoryID(), newHistory: newHistory)
    }

    /// Node-state tables whose rows differ from `before`: a command that changes them cannot be
    /// written to the cluster yet.
    public func unsupportedChanges(since before: MirrorSnapshot) -> [Table] {
        let changed = MirrorSnapshot.nodeStateTables.filter { (nodeState[$0] ?? [:]) != (before.nodeState[$0] ?? [:]) }
        return changed + MirrorSnapshot.countedTables.filter { rowCounts[$0] != before.rowCounts[$0] }
    }

    /// Puts every configuration and node-state row back as `before` held it and deletes the
    /// history entries made since, in `transaction`. CDR rows are never changed by vosctl, so
    /// they need no undo.
    public static func restore(_ before: MirrorSnapshot, in transaction: Transaction) throws {
        func putBack(_ table: Table, _ old: [[UInt8]: [UInt8]]) throws {
            let now = try transaction.rawRows(table)
            for (key, value) in old where now[key] != value { try transaction.putRaw(table, key: key, value: value) }
            for key in now.keys where old[key] == nil { try transaction.deleteRaw(table, key: key) }
        }
        for (table, rows) in before.configuration { try putBack(table, rows) }
        for (table, rows) in before.nodeState { try putBack(table, rows) }
        for key in try transaction.accountHistoryRows(fromID: before.nextHistoryID).keys {
            try transaction.deleteRaw(.accountHistory, key: key)
        }
    }
}

/// What one `push` wrote.
public struct PushOutcome: Sendable {
    /// The configuration generation the push made; nil when no configuration row changed.
    public var generation: UInt64?
    /// Configuration rows written (upserts and deletions).
    public var rows: Int
    /// The history entries the command made, by their mirror key, with the `seq` PostgreSQL gave them.
    public var history: [PushedHistory]

    public struct PushedHistory: Sendable {
        public let key: [UInt8]
        public let seq: UInt64
    }
}

public struct ConfigurationMirror: Sendable {
    /// LMDB meta key: the PostgreSQL configuration generation the store holds.
    public static let generationKey = "cluster_config_generation"
    static let cdrSeqKey = "cluster_mirror_cdr_seq"
    static let historySeqKey = "cluster_mirror_history_seq"
    /// `seq` is taken at insert but rows become visible at commit, so a shipper's row can appear
    /// below one already pulled. Each pull re-reads this many rows back; imports are idempotent.
    static let lateCommitWindow: Int64 = 1000
    /// The node name vosctl's own history entries are stored under.
    public static let vosctlNode = "vosctl"
    /// The LISTEN/NOTIFY channel a push announces its generation on.
    public static let channel = "vos_config"
    /// Rows per statement when writing configuration rows (a geofence import is ~200k rows).
    static let batchSize = 2000

    public let database: ClusterDatabase
    let logger: Logger

    public init(database: ClusterDatabase, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// Brings `store` up to the database's configuration in its own `REPEATABLE READ`
    /// transaction (one consistent view). Returns the generation the store now holds.
    @discardableResult
    public func pull(into store: Store, role: MirrorRole) async throws -> UInt64 {
        try await database.transaction("read the cluster configuration", isolation: .repeatableRead) { transaction in
            try await pull(into: store, role: role, in: transaction)
        }
    }

    /// As `pull(into:role:)`, inside the caller's transaction (vosctl's, under the writer lock).
    @discardableResult
    public func pull(into store: Store, role: MirrorRole, in transaction: ClusterTransaction) async throws -> UInt64 {
        let (storedHeld, cdrSeq, historySeq) = try store.read { local in
            (try local.metaNumber(ConfigurationMirror.generationKey) ?? 0,
             try local.metaNumber(ConfigurationMirror.cdrSeqKey) ?? 0,
             try local.metaNumber(ConfigurationMirror.historySeqKey) ?? 0)
        }
        let generationRows = try await transaction.query("SELECT generation FROM config_generation WHERE id = 1")
        guard let current = try generationRows.first.map({ UInt64(clamping: try $0.decode(Int64.self)) }) else {
            throw ClusterError.conflict("config_generation has no row: the schema is incomplete (run `vosctl cluster init` on an empty database)")
        }
        var held = storedHeld
        if current < held {
            // The database was re-created under this store: its generations mean nothing here.
            logger.warning("cluster configuration generation went back from \(held) to \(current): reading every row again")
            held = 0
        }
        var changes: [(table: Table, key: [UInt8], value: [UInt8]?)] = []
        if current > held {
            let rows = try await transaction.query(
                "SELECT tbl, key, value FROM config_rows WHERE generation > \(Int64(clamping: held)) ORDER BY generation")
            for row in rows {
                let (name, key, value) = try row.decode((String, ByteBuffer, ByteBuffer?).self)
                guard let table = Table(rawValue: name), table.isConfiguration else {
                    logger.warning("cluster configuration row of unknown table '\(name)' ignored (written by a newer vos?)")
                    continue
                }
                changes.append((table, Array(key.readableBytesView), value.map { Array($0.readableBytesView) }))
            }
        }
        var balances: [String: AccountMoney] = [:]
        var cdrs: [(seq: UInt64, record: CallDetailRecord)] = []
        var history: [(seq: UInt64, entry: AccountHistoryEntry)] = []
        if role == .operatorMirror {
            for row in try await transaction.query("SELECT account, balance, limit_money, reserved, locked FROM balances") {
                let (account, balance, limit, reserved, locked) = try row.decode((String, Int64, Int64, Int64, Bool).self)
                balances[account] = AccountMoney(balance: Money(units: balance), limit: Money(units: limit),
                                                 reserved: Money(units: reserved), locked: locked)
            }
            let cdrFrom = max(0, Int64(clamping: cdrSeq) - ConfigurationMirror.lateCommitWindow)
            for row in try await transaction.query("SELECT seq, node, cdr_id, record FROM cdrs WHERE seq > \(cdrFrom) ORDER BY seq") {
                let (seq, node, cdrID, record) = try row.decode((Int64, String, Int64, ByteBuffer).self)
                do {
                    cdrs.append((UInt64(seq), try ClusterRowCoding.decodeCDR(Array(record.readableBytesView), key: "\(node)/\(cdrID)")))
                } catch {
                    logger.error("shipped CDR \(cdrID) of node \(node) cannot be read, not copied to the mirror: \(error)")
                }
            }
            let historyFrom = max(0, Int64(clamping: historySeq) - ConfigurationMirror.lateCommitWindow)
            let historyRows = try await transaction.query("""
                SELECT seq, node, entry_id, account, time, kind, amount, cdr_id, record FROM account_history
                 WHERE seq > \(historyFrom) ORDER BY seq
                """)
            for row in historyRows {
                let (seq, node, entryID, account, time, kind, amount, cdrID, record) =
                    try row.decode((Int64, String, Int64, String, Int64, String, Int64, Int64?, ByteBuffer).self)
                let entry: AccountHistoryEntry
                if let decoded = try? ClusterRowCoding.decodeHistoryEntry(Array(record.readableBytesView), key: "\(node)/\(entryID)") {
                    entry = decoded
                } else {
                    // The columns say what moved; only the node-local balance after it is lost.
                    var built = AccountHistoryEntry(account: account, time: time, kind: AccountHistoryEntry.Kind(rawValue: kind) ?? .adjustment,
                                                    amount: Money(units: amount), balanceAfter: .zero)
                    built.cdrID = cdrID.map { UInt64(clamping: $0) }
                    entry = built
                }
                history.append((UInt64(seq), entry))
            }
        }
        let changedRows = changes
        let cdrRows = cdrs
        let historyRows = history
        try store.write(changesConfiguration: false) { local in
            var changed = false
            for change in changedRows {
                if change.table == .accounts {
                    changed = try ConfigurationMirror.applyAccount(key: change.key, value: change.value, role: role,
                                                                   balances: balances, in: local) || changed
                } else if let value = change.value {
                    if try local.rawValue(change.table, key: change.key) != value {
                        try local.putRaw(change.table, key: change.key, value: value)
                        changed = true
                    }
                } else if try local.deleteRaw(change.table, key: change.key) {
                    changed = true
                }
            }
            if role == .operatorMirror {
                // Balances move without a configuration change (nodes ship charges), so every
                // account is refreshed on every pull.
                for (key, value) in try local.rawRows(.accounts) {
                    changed = try ConfigurationMirror.applyAccount(key: key, value: value, role: role, balances: balances, in: local) || changed
                }
                for row in cdrRows { try local.importCDR(row.record, id: row.seq) }
                for row in historyRows { try local.importHistoryEntry(row.entry, id: row.seq) }
                if let last = cdrRows.last?.seq, last > cdrSeq { try local.setMetaNumber(ConfigurationMirror.cdrSeqKey, last) }
                if let last = historyRows.last?.seq, last > historySeq { try local.setMetaNumber(ConfigurationMirror.historySeqKey, last) }
            }
            if changed { try local.bumpConfigurationGeneration() }
            if current != storedHeld { try local.setMetaNumber(ConfigurationMirror.generationKey, current) }
        }
        return current
    }

    /// What `balances` holds for one account.
    struct AccountMoney {
        var balance: Money
        var limit: Money
        var reserved: Money
        var locked: Bool
    }

    /// Writes one account row as the role keeps it; returns whether LMDB changed.
    static func applyAccount(key: [UInt8], value: [UInt8]?, role: MirrorRole, balances: [String: AccountMoney],
                             in local: Transaction) throws -> Bool {
        let name = String(decoding: key, as: UTF8.self)
        let existing = try local.rawValue(.accounts, key: key)
        guard let value else {
            guard existing != nil else { return false }
            try local.deleteRaw(.accounts, key: key)
            if role == .operatorMirror { try local.setClusterReservation(account: name, reserved: .zero) }
            return true
        }
        var account = try ClusterRowCoding.decodeAccount(value, key: name)
        var reservationChanged = false
        switch role {
        case .node:
            account.balance = try existing.map { try ClusterRowCoding.decodeAccount($0, key: name).balance } ?? .zero
            account.limitMoney = .zero
        case .operatorMirror:
            let money = balances[name]
            account.balance = money?.balance ?? .zero
            account.limitMoney = money?.limit ?? .zero
            reservationChanged = try local.setClusterReservation(account: name, reserved: money?.reserved ?? .zero)
        }
        let bytes = try ClusterRowCoding.encodeAccount(account)
        guard bytes != existing else { return reservationChanged }
        try local.putRaw(.accounts, key: key, value: bytes)
        return true
    }

    /// Writes what changed between `before` and `after` (snapshots of vosctl's mirror around one
    /// command) inside the caller's transaction: configuration rows under one new generation
    /// (then `NOTIFY vos_config`), account money on `balances` as deltas, and the history
    /// entries the command made under node 'vosctl'. Throws, writing nothing the caller may
    /// commit, when an account to remove still has credit leased.
    public func push(before: MirrorSnapshot, after: MirrorSnapshot, in transaction: ClusterTransaction) async throws -> PushOutcome {
        var upserts: [Table: [([UInt8], [UInt8])]] = [:]
        var deletions: [Table: [[UInt8]]] = [:]
        var accountChanges: [(name: String, before: Account?, after: Account?)] = []
        for table in Table.configurationTables {
            let old = before.configuration[table] ?? [:]
            let new = after.configuration[table] ?? [:]
            for key in Set(old.keys).union(new.keys).sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                let oldValue = old[key]
                var newValue = new[key]
                guard oldValue != newValue else { continue }
                if table == .accounts {
                    let name = String(decoding: key, as: UTF8.self)
                    let oldAccount = try oldValue.map { try ClusterRowCoding.decodeAccount($0, key: name) }
                    let newAccount = try newValue.map { try ClusterRowCoding.decodeAccount($0, key: name) }
                    accountChanges.append((name, oldAccount, newAccount))
                    // The row carries no money: the balance lives in `balances` and moves by deltas.
                    let oldRow = try oldAccount.map { try ClusterRowCoding.encodeAccount(ConfigurationMirror.withoutBalance($0)) }
                    newValue = try newAccount.map { try ClusterRowCoding.encodeAccount(ConfigurationMirror.withoutBalance($0)) }
                    guard oldRow != newValue else { continue }
                }
                if let newValue { upserts[table, default: []].append((key, newValue)) } else { deletions[table, default: []].append(key) }
            }
        }

        // Refuse before writing anything, so the error is the whole story.
        for change in accountChanges where change.after == nil {
            try await ConfigurationMirror.requireNoLeases(account: change.name, in: transaction)
        }
        for change in accountChanges {
            try await ConfigurationMirror.writeMoney(change, in: transaction)
        }

        var generation: UInt64?
        let rows = upserts.values.reduce(0) { $0 + $1.count } + deletions.values.reduce(0) { $0 + $1.count }
        if rows > 0 {
            let bumped = try await transaction.query(
                "UPDATE config_generation SET generation = generation + 1 WHERE id = 1 RETURNING generation")
            guard let value = try bumped.first?.decode(Int64.self) else {
                throw ClusterError.conflict("config_generation has no row: the schema is incomplete")
            }
            for (table, pairs) in upserts {
                for start in stride(from: 0, to: pairs.count, by: ConfigurationMirror.batchSize) {
                    let batch = pairs[start..<min(start + ConfigurationMirror.batchSize, pairs.count)]
                    let keys = batch.map { Hex.encode($0.0) }
                    let values = batch.map { Hex.encode($0.1) }
                    try await transaction.query("""
                        INSERT INTO config_rows (tbl, key, value, generation)
                        SELECT \(table.rawValue), decode(k, 'hex'), decode(v, 'hex'), \(value)
                          FROM unnest(\(keys)::text[], \(values)::text[]) AS u(k, v)
                        ON CONFLICT (tbl, key) DO UPDATE SET value = EXCLUDED.value, generation = EXCLUDED.generation
                        """)
                }
            }
            for (table, keys) in deletions {
                for start in stride(from: 0, to: keys.count, by: ConfigurationMirror.batchSize) {
                    let batch = keys[start..<min(start + ConfigurationMirror.batchSize, keys.count)].map { Hex.encode($0) }
                    try await transaction.query("""
                        INSERT INTO config_rows (tbl, key, value, generation)
                        SELECT \(table.rawValue), decode(k, 'hex'), NULL, \(value) FROM unnest(\(batch)::text[]) AS u(k)
                        ON CONFLICT (tbl, key) DO UPDATE SET value = NULL, generation = EXCLUDED.generation
                        """)
                }
            }
            // Delivered at commit, and only then: a rolled-back push announces nothing.
            try await transaction.query("SELECT pg_notify(\(ConfigurationMirror.channel), \(String(value)))")
            generation = UInt64(value)
        }

        var pushed: [PushOutcome.PushedHistory] = []
        let newEntries = try after.newHistory.map { key, value in
            (key, try ClusterRowCoding.decodeHistoryEntry(value, key: String(decoding: key, as: UTF8.self)))
        }.sorted { $0.1.id < $1.1.id }
        for (key, entry) in newEntries {
            let ids = try await transaction.query("SELECT nextval('vosctl_history_ids')")
            guard let entryID = try ids.first?.decode(Int64.self) else {
                throw ClusterError.conflict("the sequence vosctl_history_ids returned nothing")
            }
            var shipped = entry
            shipped.id = UInt64(entryID)
            let record = ByteBuffer(bytes: try ClusterRowCoding.encodeHistoryEntry(shipped))
            let cdrID = entry.cdrID.map { Int64(clamping: $0) }
            let inserted = try await transaction.query("""
                INSERT INTO account_history (node, entry_id, account, time, kind, amount, cdr_id, record)
                VALUES (\(ConfigurationMirror.vosctlNode), \(entryID), \(entry.account), \(entry.time), \(entry.kind.rawValue),
                        \(entry.amount.units), \(cdrID), \(record))
                RETURNING seq
                """)
            guard let seq = try inserted.first?.decode(Int64.self) else {
                throw ClusterError.conflict("inserting a history entry of account '\(entry.account)' returned no seq")
            }
            pushed.append(.init(key: key, seq: UInt64(seq)))
        }
        return PushOutcome(generation: generation, rows: rows, history: pushed)
    }

    static func withoutBalance(_ account: Account) -> Account {
        var account = account
        account.balance = .zero
        return account
    }

    /// A removed account's `balances` row may go only when no node holds credit of it.
    static func requireNoLeases(account: String, in transaction: ClusterTransaction) async throws {
        let leases = try await transaction.query(
            "SELECT node, amount FROM quota_leases WHERE account = \(account) AND amount > 0 ORDER BY node FOR SHARE")
        let holders = try leases.map { row -> String in
            let (node, amount) = try row.decode((String, Int64).self)
            return "\(node) (\(Money(units: amount)))"
        }
        let reserved = try await transaction.query("SELECT reserved FROM balances WHERE account = \(account) FOR UPDATE")
        let held = try reserved.first.map { Money(units: try $0.decode(Int64.self)) } ?? .zero
        guard holders.isEmpty && held == .zero else {
            let who = holders.isEmpty ? "no node lease is recorded" : "leased by node \(holders.joined(separator: ", "))"
            throw ClusterError.conflict(
                "account '\(account)' still has \(held) of credit reserved in the cluster (\(who)): remove it once the leases are handed back, "
                    + "or run `vosctl cluster release-node NODE` for a node that is gone")
        }
    }

    /// Applies one account's money change to `balances`. The balance only ever moves by the
    /// command's delta, since nodes' shipping changes it at the same time.
    static func writeMoney(_ change: (name: String, before: Account?, after: Account?),
                           in transaction: ClusterTransaction) async throws {
        let name = change.name
        guard let after = change.after else {
            try await transaction.query("DELETE FROM balances WHERE account = \(name)")
            return
        }
        let delta = after.balance - (change.before?.balance ?? .zero)
        let locked = after.status == .locked
        if let before = change.before, delta == .zero, before.limitMoney == after.limitMoney, before.status == after.status { return }
        try await transaction.query("""
            INSERT INTO balances (account, balance, limit_money, locked) VALUES (\(name), \(delta.units), \(after.limitMoney.units), \(locked))
            ON CONFLICT (account) DO UPDATE SET balance = balances.balance + EXCLUDED.balance, limit_money = EXCLUDED.limit_money,
                                                locked = EXCLUDED.locked, updated_at = now()
            """)
    }
}

/// Lower-case hex, for passing bytea arrays as text arrays (postgres-nio binds `[String]`).
enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
