import VOSModel

/// A rate table made ready for the call path: the longest prefix of a number to its `RateEntry`
/// with nothing allocated per lookup (the number's UTF-8 is packed once, `PackedNumber`, and only
/// the prefix lengths the table has are probed, longest first, in an open-addressing table).
/// Built once per configuration generation from what `RateTable` holds; `RateTable.lookup` stays
/// the reference (same entries, same answers: the last entry of a repeated prefix wins).
/// A class, so the gateways that share a clearing account's table share one index.
public final class RateIndex: Sendable {
    public let name: String
    /// Unique prefixes; those `PackedNumber` holds first, in packed order (`sortedKeys`).
    private let entries: [RateEntry]
    /// The packed prefixes of `entries[0 ..< sortedKeys.count]`, increasing: a prefix's
    /// extensions follow it directly, which `RouteIndex` uses to tell whether a callee could
    /// have a longer rate prefix than the routing prefix it matched.
    let sortedKeys: [PackedNumber]
    private let table: PackedPrefixTable
    /// Prefixes `PackedNumber` cannot hold (none pass `NumberPrefix.validate`; a damaged store
    /// could still have them), matched as text, longest first.
    private let unpacked: [Int]

    public init(name: String = "", entries source: [RateEntry]) {
        self.name = name
        var unique: [RateEntry] = []
        var position: [String: Int] = [:]
        for entry in source {
            if let index = position[entry.prefix] { unique[index] = entry } else {
                position[entry.prefix] = unique.count
                unique.append(entry)
            }
        }
        var packed: [(key: PackedNumber, entry: RateEntry)] = []
        var odd: [RateEntry] = []
        for entry in unique {
            if let key = PackedNumber(entry.prefix) { packed.append((key, entry)) } else if !entry.prefix.isEmpty { odd.append(entry) }
        }
        packed.sort { $0.key < $1.key }
        odd.sort { $0.prefix.count > $1.prefix.count }
        self.entries = packed.map(\.entry) + odd
        self.sortedKeys = packed.map(\.key)
        self.table = PackedPrefixTable(keys: sortedKeys, values: (0..<packed.count).map { Int32($0) })
        self.unpacked = Array(packed.count..<(packed.count + odd.count))
    }

    public convenience init(_ table: RateTable) {
        self.init(name: table.name, entries: table.entries)
    }

    public var count: Int { entries.count }

    /// Whether some prefix is matched as text (see `unpacked`): precomputed prices do not apply.
    var hasUnpackedPrefixes: Bool { !unpacked.isEmpty }

    /// The entry of the longest prefix of `number`, or nil when no prefix matches.
    public func lookup(_ number: String) -> RateEntry? {
        let (packed, length) = PackedNumber.leading(number)
        let found = table.longestMatch(packed, length: length)
        let foundLength = found?.length ?? 0
        for index in unpacked where entries[index].prefix.count > foundLength && number.hasPrefix(entries[index].prefix) {
            return entries[index]
        }
        return found.map { entries[Int($0.value)] }
    }

    /// The price of the longest prefix among the first `length` characters of `packed` that is
    /// longer than `above` characters (packed prefixes only).
    @inline(__always)
    func price(_ packed: PackedNumber, length: Int, above: Int = 0) -> Money? {
        guard let found = table.longestMatch(packed, length: length, above: above) else { return nil }
        return entries[Int(found.value)].pricePerMinute
    }
}
