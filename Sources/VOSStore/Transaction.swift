import CLMDB
import Foundation
import VOSModel

/// One LMDB transaction: raw byte access plus JSON-coded records. Valid only inside the
/// `Store.read`/`Store.write` closure that handed it out.
public struct Transaction {
    let txn: OpaquePointer
    let store: Store
    public let readOnly: Bool
    /// Accounts this transaction already decoded or wrote (see `DecodedAccounts`).
    let decodedAccounts = DecodedAccounts()

    // MARK: Raw bytes

    func get(_ table: Table, _ key: [UInt8]) throws -> [UInt8]? {
        try key.withUnsafeBytes { (keyBytes) throws -> [UInt8]? in
            var keyValue = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
            var value = MDB_val()
            let code = mdb_get(txn, store.database(table), &keyValue, &value)
            if code == MDB_NOTFOUND { return nil }
            try Store.check(code, "read \(table.rawValue)")
            return Transaction.bytes(of: value)
        }
    }

    func put(_ table: Table, _ key: [UInt8], _ value: [UInt8]) throws {
        if table == .accounts { decodedAccounts.forget(key) }
        try key.withUnsafeBytes { (keyBytes) throws in
            try value.withUnsafeBytes { (valueBytes) throws in
                var keyValue = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
                var dataValue = MDB_val(mv_size: valueBytes.count, mv_data: UnsafeMutableRawPointer(mutating: valueBytes.baseAddress))
                try Store.check(mdb_put(txn, store.database(table), &keyValue, &dataValue, 0), "write \(table.rawValue)")
            }
        }
    }

    @discardableResult
    func delete(_ table: Table, _ key: [UInt8]) throws -> Bool {
        if table == .accounts { decodedAccounts.forget(key) }
        return try key.withUnsafeBytes { (keyBytes) throws -> Bool in
            var keyValue = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
            let code = mdb_del(txn, store.database(table), &keyValue, nil)
            if code == MDB_NOTFOUND { return false }
            try Store.check(code, "delete from \(table.rawValue)")
            return true
        }
    }

    /// Visits entries in key order, from the first key >= `from` (or the start), while `visit` returns true.
    func scan(_ table: Table, from start: [UInt8]? = nil, reverse: Bool = false,
              _ visit: ([UInt8], [UInt8]) throws -> Bool) throws {
        var cursor: OpaquePointer?
        try Store.check(mdb_cursor_open(txn, store.database(table), &cursor), "open cursor on \(table.rawValue)")
        guard let cursor else { return }
        defer { mdb_cursor_close(cursor) }
        var key = MDB_val()
        var value = MDB_val()
        var startKey = start ?? []
        var code: Int32 = startKey.withUnsafeMutableBytes { raw in
            if start != nil {
                key = MDB_val(mv_size: raw.count, mv_data: raw.baseAddress)
                var code = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE)
                if reverse {
                    code = code == MDB_NOTFOUND ? mdb_cursor_get(cursor, &key, &value, MDB_LAST) : code
                }
                return code
            }
            return mdb_cursor_get(cursor, &key, &value, reverse ? MDB_LAST : MDB_FIRST)
        }
        while code == 0 {
            guard try visit(Transaction.bytes(of: key), Transaction.bytes(of: value)) else { return }
            code = mdb_cursor_get(cursor, &key, &value, reverse ? MDB_PREV : MDB_NEXT)
        }
        if code != MDB_NOTFOUND { try Store.check(code, "iterate \(table.rawValue)") }
    }

    /// Rows in a table, from LMDB's own statistics (no scan).
    public func count(_ table: Table) throws -> Int {
        var stat = MDB_stat()
        try Store.check(mdb_stat(txn, store.database(table), &stat), "count \(table.rawValue)")
        return stat.ms_entries
    }

    public func counts() throws -> [Table: Int] {
        var result: [Table: Int] = [:]
        for table in Table.dataTables { result[table] = try count(table) }
        return result
    }

    func clear(_ table: Table) throws {
        if table == .accounts { decodedAccounts.forgetAll() }
        try Store.check(mdb_drop(txn, store.database(table), 0), "clear \(table.rawValue)")
    }

    static func bytes(of value: MDB_val) -> [UInt8] {
        guard let data = value.mv_data, value.mv_size > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: data, count: value.mv_size))
    }

    // MARK: Records

    func record<Record: Decodable>(_ type: Record.Type, in table: Table, key: String) throws -> Record? {
        guard let bytes = try get(table, Array(key.utf8)) else { return nil }
        return try Transaction.decode(type, from: bytes, table: table, key: key)
    }

    func putRecord<Record: Encodable>(_ record: Record, in table: Table, key: String) throws {
        try put(table, Array(key.utf8), Transaction.encode(record, table: table, key: key))
        if table == .accounts, let account = record as? Account { decodedAccounts.remember(account, key: Array(key.utf8)) }
    }

    func records<Record: Decodable>(_ type: Record.Type, in table: Table, keyPrefix: [UInt8] = []) throws -> [Record] {
        var result: [Record] = []
        try scan(table, from: keyPrefix.isEmpty ? nil : keyPrefix) { key, value in
            guard key.starts(with: keyPrefix) else { return false }
            result.append(try Transaction.decode(type, from: value, table: table, key: String(decoding: key, as: UTF8.self)))
            return true
        }
        return result
    }

    /// One configured coder pair for the process: building them per record showed up in the
    /// controller's profile; encode/decode do not mutate them.
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()
    private static let decoder = JSONDecoder()

    static func encode<Record: Encodable>(_ record: Record, table: Table, key: String) throws -> [UInt8] {
        do { return Array(try encoder.encode(record)) } catch {
            throw StoreError.corruptRecord(table: table.rawValue, key: key, reason: "cannot encode: \(error)")
        }
    }

    static func decode<Record: Decodable>(_ type: Record.Type, from bytes: [UInt8], table: Table, key: String) throws -> Record {
        do { return try decoder.decode(type, from: Data(bytes)) } catch {
            throw StoreError.corruptRecord(table: table.rawValue, key: key, reason: "\(error)")
        }
    }

    // MARK: Meta

    func metaInteger(_ key: String) throws -> UInt64? {
        guard let bytes = try get(.meta, Array(key.utf8)), bytes.count == 8 else { return nil }
        return bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    func setMetaInteger(_ key: String, _ value: UInt64) throws {
        try put(.meta, Array(key.utf8), BigEndianKey.bytes(value))
    }

    func bumpGeneration() throws {
        try setMetaInteger(MetaKey.generation, (try metaInteger(MetaKey.generation) ?? 0) &+ 1)
    }

    public func generation() throws -> UInt64 {
        try metaInteger(MetaKey.generation) ?? 0
    }
}

/// The accounts one transaction has decoded or written, by key: the controller's ledger settles and
/// admits many calls of the same account in one transaction, and decoding its JSON once per call
/// was a fifth of that thread's time (tools/bench/sip-cps/profile.sh). Every write or delete of an
/// account row goes through `put`/`delete`/`clear`, which forget the key first, and `putRecord`
/// remembers what it wrote, so a lookup never returns anything but the row as it now is. It lives
/// and dies with its transaction, so another process's commit is never hidden.
final class DecodedAccounts {
    private var accounts: [[UInt8]: Account] = [:]

    func lookup(_ key: [UInt8]) -> Account? { accounts[key] }
    func remember(_ account: Account, key: [UInt8]) { accounts[key] = account }
    func forget(_ key: [UInt8]) { accounts[key] = nil }
    func forgetAll() { accounts.removeAll() }
}

enum BigEndianKey {
    static func bytes(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * UInt64($0))) }
    }

    static func value(_ bytes: [UInt8]) -> UInt64 {
        bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }
}
