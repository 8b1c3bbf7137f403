import VOSModel

/// Rate entries, keyed `TABLE NUL PREFIX` so one table is a contiguous key range and a
/// longest-prefix lookup is a handful of point reads.
extension Transaction {
    static func rateKey(table: String, prefix: String) -> [UInt8] {
        Array(table.utf8) + [0] + Array(prefix.utf8)
    }

    public func rateEntries(table: String, limit: Int = .max) throws -> [RateEntry] {
        var result: [RateEntry] = []
        let start = Array(table.utf8) + [0]
        try scan(.rates, from: start) { key, value in
            guard key.starts(with: start), result.count < limit else { return false }
            result.append(try Transaction.decode(RateEntry.self, from: value, table: .rates, key: String(decoding: key, as: UTF8.self)))
            return true
        }
        return result
    }

    public func rateTableNames() throws -> [String: Int] {
        var result: [String: Int] = [:]
        try scan(.rates) { key, _ in
            if let separator = key.firstIndex(of: 0) {
                result[String(decoding: key[..<separator], as: UTF8.self), default: 0] += 1
            }
            return true
        }
        return result
    }

    /// Longest prefix of `number` present in `table`.
    public func rateLookup(table: String, number: String) throws -> RateEntry? {
        var length = min(number.count, 32)
        while length > 0 {
            let prefix = String(number.prefix(length))
            if let bytes = try get(.rates, Transaction.rateKey(table: table, prefix: prefix)) {
                return try Transaction.decode(RateEntry.self, from: bytes, table: .rates, key: "\(table)/\(prefix)")
            }
            length -= 1
        }
        return nil
    }

    /// Replaces every entry of `table` with `entries` (validated first; duplicates refused).
    /// Returns how many entries the table had before.
    @discardableResult
    public func replaceRates(table: String, with entries: [RateEntry]) throws -> Int {
        do { try GatewayName.validate(table, field: "rate table name") } catch { throw StoreError.invalid(error) }
        var seen = Set<String>()
        for entry in entries {
            do { try entry.validate() } catch { throw StoreError.invalid(error) }
            guard seen.insert(entry.prefix).inserted else { throw StoreError.duplicate(kind: "prefix in rate table \(table)", name: entry.prefix) }
        }
        let old = try rateEntries(table: table)
        for entry in old { try delete(.rates, Transaction.rateKey(table: table, prefix: entry.prefix)) }
        for entry in entries {
            try put(.rates, Transaction.rateKey(table: table, prefix: entry.prefix),
                    Transaction.encode(entry, table: .rates, key: entry.prefix))
        }
        return old.count
    }
}
