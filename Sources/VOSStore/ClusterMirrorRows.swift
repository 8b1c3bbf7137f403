import VOSModel

/// The typed pieces the cluster configuration mirror (ClusterStore's `ConfigurationMirror`) needs
/// beyond raw rows: the account and history coding exactly as LMDB stores them, and the imports
/// that put rows shipped by other nodes into a store under ids PostgreSQL gave them. It must not
/// change how single-node stores write anything: every function here is used only in cluster mode.
public enum ClusterRowCoding {
    public static func decodeAccount(_ bytes: [UInt8], key: String) throws -> Account {
        try Transaction.decode(Account.self, from: bytes, table: .accounts, key: key)
    }

    public static func encodeAccount(_ account: Account) throws -> [UInt8] {
        try Transaction.encode(account, table: .accounts, key: account.name)
    }

    public static func decodeHistoryEntry(_ bytes: [UInt8], key: String) throws -> AccountHistoryEntry {
        try Transaction.decode(AccountHistoryEntry.self, from: bytes, table: .accountHistory, key: key)
    }

    public static func encodeHistoryEntry(_ entry: AccountHistoryEntry) throws -> [UInt8] {
        try Transaction.encode(entry, table: .accountHistory, key: "\(entry.account)/\(entry.id)")
    }

    public static func decodeCDR(_ bytes: [UInt8], key: String) throws -> CallDetailRecord {
        try Transaction.decode(CallDetailRecord.self, from: bytes, table: .cdrs, key: key)
    }

    public static func encodeCDR(_ record: CallDetailRecord) throws -> [UInt8] {
        try Transaction.encode(record, table: .cdrs, key: String(record.id))
    }

    /// The id part of an `account_history` key (`ACCOUNT NUL big-endian id`).
    public static func historyID(ofKey key: [UInt8]) -> UInt64 {
        BigEndianKey.value(Array(key.suffix(8)))
    }

    public static func historyKey(account: String, id: UInt64) -> [UInt8] {
        Transaction.historyKey(account: account, id: id)
    }
}

extension Transaction {
    /// Bumps the configuration generation so running daemons reload; for a writer that learns
    /// only inside its transaction whether anything changed.
    public func bumpConfigurationGeneration() throws { try bumpGeneration() }

    /// The id the next history entry made here will get.
    public func nextAccountHistoryID() throws -> UInt64 { try metaInteger(Transaction.nextHistoryIDKey) ?? 1 }

    /// History entries whose id is at least `firstID`, by key (a scan of the whole table: the
    /// ids are per store, not per account, so no key range holds them).
    public func accountHistoryRows(fromID firstID: UInt64) throws -> [[UInt8]: [UInt8]] {
        var rows: [[UInt8]: [UInt8]] = [:]
        try scan(.accountHistory) { key, value in
            if ClusterRowCoding.historyID(ofKey: key) >= firstID { rows[key] = value }
            return true
        }
        return rows
    }

    /// Puts a history entry under the id the cluster gave it (idempotent: the same id overwrites
    /// itself), and keeps this store's own next id above it so a local entry never lands on it.
    public func importHistoryEntry(_ entry: AccountHistoryEntry, id: UInt64) throws {
        var entry = entry
        entry.id = id
        try put(.accountHistory, Transaction.historyKey(account: entry.account, id: id),
                Transaction.encode(entry, table: .accountHistory, key: "\(entry.account)/\(id)"))
        if try nextAccountHistoryID() <= id { try setMetaInteger(Transaction.nextHistoryIDKey, id + 1) }
    }

    /// Puts a CDR under the id the cluster gave it, with its report fact (idempotent), keeping the
    /// store's next CDR id above it.
    public func importCDR(_ record: CallDetailRecord, id: UInt64) throws {
        var record = record
        record.id = id
        try put(.cdrs, BigEndianKey.bytes(id), Transaction.encode(record, table: .cdrs, key: String(id)))
        try putCDRReportFact(CDRReportFact(record))
        if (try metaInteger(MetaKey.nextCDRID) ?? 1) <= id { try setMetaInteger(MetaKey.nextCDRID, id + 1) }
    }

    /// Sets what the cluster holds reserved for an account (the sum of every node's leases), so
    /// `account show` on vosctl's mirror shows cluster-wide available credit. Leases are not
    /// calls, so the live-call count stays 0. Returns whether the row changed.
    @discardableResult
    public func setClusterReservation(account: String, reserved: Money) throws -> Bool {
        let key = Array(account.utf8)
        let existing = try get(.accountReservations, key)
        if reserved == .zero {
            guard existing != nil else { return false }
            try delete(.accountReservations, key)
            return true
        }
        let bytes = LiveCallRecordCoding.encode(AccountReservation(reserved: reserved, liveCalls: 0))
        guard existing != bytes else { return false }
        try put(.accountReservations, key, bytes)
        return true
    }
}
