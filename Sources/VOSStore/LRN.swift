import CLMDB
import VOSModel

/// The one LRN (number portability) table: a small JSON header in `lrn_table` (what `vosctl lrn
/// show` reads) and the pairs in `lrn_numbers` as one binary value (`LRNTable.binary`), which the
/// controller reads with one copy out of the memory map at each configuration change.
public struct LRNTableHeader: Sendable, Hashable, Codable {
    public var count: Int
    /// Epoch milliseconds of the last import.
    public var importedAt: Int64
    /// The file it came from, as given to `vosctl lrn import`.
    public var source: String

    public init(count: Int, importedAt: Int64, source: String) {
        self.count = count
        self.importedAt = importedAt
        self.source = source
    }
}

extension Transaction {
    static let lrnKey = "table"

    public func lrnTableHeader() throws -> LRNTableHeader? {
        try record(LRNTableHeader.self, in: .lrnTable, key: Transaction.lrnKey)
    }

    /// The table, or an empty one when none was imported.
    public func lrnTable() throws -> LRNTable {
        let key = Array(Transaction.lrnKey.utf8)
        return try key.withUnsafeBytes { keyBytes -> LRNTable in
            var keyValue = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
            var value = MDB_val()
            let code = mdb_get(txn, store.database(.lrnNumbers), &keyValue, &value)
            if code == MDB_NOTFOUND { return LRNTable() }
            try Store.check(code, "read \(Table.lrnNumbers.rawValue)")
            do {
                return try LRNTable(binary: UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size))
            } catch {
                throw StoreError.corruptRecord(table: Table.lrnNumbers.rawValue, key: Transaction.lrnKey, reason: "\(error)")
            }
        }
    }

    /// Stores `table` as the whole LRN table (an import replaces), or merged into the current one
    /// (`merge`: the import's pairs win). Returns the new header.
    @discardableResult
    public func importLRNTable(_ table: LRNTable, merge: Bool, source: String, at time: Int64) throws -> LRNTableHeader {
        let stored = merge ? try lrnTable().merging(table) : table
        let header = LRNTableHeader(count: stored.count, importedAt: time, source: source)
        try putRecord(header, in: .lrnTable, key: Transaction.lrnKey)
        try put(.lrnNumbers, Array(Transaction.lrnKey.utf8), stored.binary)
        return header
    }

    /// Empties the table; returns how many pairs it held.
    @discardableResult
    public func clearLRNTable() throws -> Int {
        let count = try lrnTableHeader()?.count ?? 0
        try delete(.lrnTable, Array(Transaction.lrnKey.utf8))
        try delete(.lrnNumbers, Array(Transaction.lrnKey.utf8))
        return count
    }
}
