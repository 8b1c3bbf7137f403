/// Byte-level access to whole tables for the cluster mirror (docs/CLUSTER.md), which copies rows
/// between LMDB and PostgreSQL without knowing their types. Everything else uses typed records.
extension Transaction {
    public func rawValue(_ table: Table, key: [UInt8]) throws -> [UInt8]? { try get(table, key) }

    public func putRaw(_ table: Table, key: [UInt8], value: [UInt8]) throws { try put(table, key, value) }

    @discardableResult
    public func deleteRaw(_ table: Table, key: [UInt8]) throws -> Bool { try delete(table, key) }

    /// Visits rows in key order from the first key >= `start` while `visit` returns true.
    public func scanRaw(_ table: Table, from start: [UInt8]? = nil,
                        _ visit: ([UInt8], [UInt8]) throws -> Bool) throws {
        try scan(table, from: start, visit)
    }

    /// Every row of `table`, by key.
    public func rawRows(_ table: Table) throws -> [[UInt8]: [UInt8]] {
        var rows: [[UInt8]: [UInt8]] = [:]
        try scan(table) { key, value in
            rows[key] = value
            return true
        }
        return rows
    }

    public func setMetaText(_ key: String, _ value: String?) throws {
        if let value { try put(.meta, Array(key.utf8), Array(value.utf8)) } else { try delete(.meta, Array(key.utf8)) }
    }

    public func metaText(_ key: String) throws -> String? {
        try get(.meta, Array(key.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }

    public func metaNumber(_ key: String) throws -> UInt64? { try metaInteger(key) }

    public func setMetaNumber(_ key: String, _ value: UInt64) throws { try setMetaInteger(key, value) }
}
