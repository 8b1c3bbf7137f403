import VOSModel

/// Routing gateways' prefixes made ready for the call path, once per configuration generation:
/// for a callee, every gateway with a prefix of it and the longest such prefix, in one probe per
/// prefix length present (no scan of gateways or their prefix lists, no String made).
///
/// Each distinct prefix is a node in an open-addressing table keyed by its `PackedNumber`. A node
/// holds its "effective" list, built here: the gateways with that prefix plus those of its
/// shorter prefixes (nodes that are prefixes of it) not already there, each with its longest
/// prefix. So the longest node that is a prefix of the callee answers the whole question. The
/// lists are one flat array sorted by gateway position, which is also the order the linear
/// planner met them in. The route sort rules (`RouteSortRule`) are indexed the same way.
///
/// Each entry also holds its vendor's price for the node's prefix, and whether the vendor's rate
/// table has a longer prefix under it: a callee the node matches costs that price unless such a
/// longer prefix matches too (probed only then, only at those lengths), or the gateway's dial
/// plan changes the number (then its rates are looked up as they are). With hundreds of vendors'
/// tables too large for the cache, this is what keeps least-cost routing from a cache miss per
/// vendor and prefix length on every call.
///
/// Prefixes `PackedNumber` cannot hold (empty, longer than 32, other characters: none pass
/// validation, a damaged store could still have them) are matched as text, merged per call.
public struct RouteIndex: Sendable {
    /// One gateway at one of its prefixes: its position in `gateways`, the prefix (a node's, so
    /// the text is the node's and the candidates of a call read it from one place, or a slot of
    /// the gateway's own `prefixes`), that prefix's length, and the vendor's price for the node's
    /// prefix (see `Pricing`). 16 bytes: millions of them at 100k prefixes.
    struct Match: Sendable {
        var gateway: Int32
        /// >= 0: the node whose key is the prefix; < 0: `-(slot + 1)` in the gateway's `prefixes`.
        var prefix: Int32
        var length: UInt8
        var pricing: Pricing
        /// Money units, when `pricing` has `.priced`.
        var price: Int32

        init(gateway: Int32, slot: Int, length: Int) {
            self.gateway = gateway
            self.prefix = -Int32(slot) - 1
            self.length = UInt8(clamping: length)
            self.pricing = .lookUp
            self.price = 0
        }
    }

    struct Pricing: OptionSet, Sendable {
        let rawValue: UInt8
        /// `priced` and `longerPrefixes` are known for the node (else: look the number up).
        static let known = Pricing(rawValue: 1)
        /// The vendor has a price for the node's prefix (`price`).
        static let priced = Pricing(rawValue: 2)
        /// The vendor's rate table has a prefix longer than the node's that starts with it.
        static let longerPrefixes = Pricing(rawValue: 4)
        static let lookUp: Pricing = []
    }

    /// The callee as the lookup packed it, and the length of the node that matched (0: none).
    struct Probe {
        let packed: PackedNumber
        let length: Int
        let nodeLength: Int
    }

    /// Every routing gateway, in configuration order (disabled ones too: `route explain` names them).
    public let gateways: [RoutingGateway]
    /// What the planner reads per match: the gateways boxed, their rates, name ranks, node prefixes.
    let tables: RouteTables
    private let nodes: PackedPrefixTable
    /// Node `n`'s effective list is `matches[starts[n] ..< starts[n + 1]]`.
    private let starts: [Int32]
    private let matches: [Match]
    private let unpacked: [Match]
    private let sortRules: [RouteSortRule]
    private let sortTable: PackedPrefixTable
    /// Rules whose prefix is not a packable dial string (as `unpacked`).
    private let unpackedRules: [Int]

    /// `vendorRates` gives a gateway's rates (from its clearing account's rate table, nil when
    /// it has none): asked here once per gateway, never per call.
    public init(gateways: [RoutingGateway], sortRules: [RouteSortRule] = [],
                vendorRates: (RoutingGateway) -> RateIndex? = { _ in nil }) {
        self.gateways = gateways
        let rates = gateways.map(vendorRates)

        var keyed: [(key: PackedNumber, match: Match)] = []
        var unpacked: [Match] = []
        keyed.reserveCapacity(gateways.reduce(0) { $0 + $1.prefixes.count })
        for (position, gateway) in gateways.enumerated() {
            for (slot, prefix) in gateway.prefixes.enumerated() {
                if let packed = PackedNumber(prefix) {
                    keyed.append((packed, Match(gateway: Int32(position), slot: slot, length: packed.length)))
                } else {
                    unpacked.append(Match(gateway: Int32(position), slot: slot, length: prefix.count))
                }
            }
        }
        // By prefix (so a prefix comes before its extensions), then gateway, then slot: the first
        // of a gateway's repeats of one prefix is kept.
        keyed.sort { lhs, rhs in
            if lhs.key != rhs.key { return lhs.key < rhs.key }
            if lhs.match.gateway != rhs.match.gateway { return lhs.match.gateway < rhs.match.gateway }
            return lhs.match.prefix > rhs.match.prefix
        }

        var keys: [PackedNumber] = [], values: [Int32] = [], nodePrefixes: [String] = []
        var starts: [Int32] = [0]
        var matches: [Match] = []
        matches.reserveCapacity(keyed.count)
        // Per gateway, where the node walk is in its rate table's sorted keys (nodes come in
        // increasing order, so each cursor only moves forward).
        var cursors = [Int](repeating: 0, count: gateways.count)
        func priced(_ match: Match, node key: PackedNumber, inherited: Bool) -> Match {
            var match = match
            let gateway = Int(match.gateway)
            guard let deck = rates[gateway] else {
                match.pricing = .known
                return match
            }
            guard !deck.hasUnpackedPrefixes else {
                match.pricing = .lookUp
                return match
            }
            // No longer prefix under the parent node: none under this one, and the same price.
            if inherited && match.pricing.contains(.known) && !match.pricing.contains(.longerPrefixes) { return match }
            let length = key.length
            match.pricing = .known
            if let price = deck.price(key, length: length) {
                guard let units = Int32(exactly: price.units) else {
                    match.pricing = .lookUp
                    return match
                }
                match.pricing.insert(.priced)
                match.price = units
            }
            let sorted = deck.sortedKeys
            var cursor = cursors[gateway]
            while cursor < sorted.count && sorted[cursor] <= key { cursor += 1 }
            cursors[gateway] = cursor
            if cursor < sorted.count && sorted[cursor].length > length && sorted[cursor].prefix(length) == key {
                match.pricing.insert(.longerPrefixes)
            }
            return match
        }
        // The nodes on the path from the root to the current one: (key, node index).
        var path: [(key: PackedNumber, node: Int)] = []
        var own: [Match] = []
        var index = 0
        while index < keyed.count {
            let key = keyed[index].key
            own.removeAll(keepingCapacity: true)
            let node = keys.count
            let first = keyed[index].match
            nodePrefixes.append(gateways[Int(first.gateway)].prefixes[Int(-first.prefix - 1)])
            while index < keyed.count && keyed[index].key == key {
                var match = keyed[index].match
                match.prefix = Int32(node)
                if own.last?.gateway != match.gateway { own.append(priced(match, node: key, inherited: false)) }
                index += 1
            }
            let length = key.length
            while let top = path.last, !(top.key.length < length && key.prefix(top.key.length) == top.key) {
                path.removeLast()
            }
            if let parent = path.last?.node {
                // Merge by gateway position; the node's own (longer) prefix wins over the parent's.
                let inherited = Int(starts[parent])..<Int(starts[parent + 1])
                var left = 0, right = inherited.lowerBound
                while left < own.count || right < inherited.upperBound {
                    if right == inherited.upperBound || left < own.count && own[left].gateway <= matches[right].gateway {
                        if right < inherited.upperBound && own[left].gateway == matches[right].gateway { right += 1 }
                        matches.append(own[left])
                        left += 1
                    } else {
                        matches.append(priced(matches[right], node: key, inherited: true))
                        right += 1
                    }
                }
            } else {
                matches.append(contentsOf: own)
            }
            starts.append(Int32(matches.count))
            keys.append(key)
            values.append(Int32(node))
            path.append((key, node))
        }
        self.nodes = PackedPrefixTable(keys: keys, values: values)
        self.tables = RouteTables(gateways: gateways, rates: rates, nodePrefixes: nodePrefixes)
        self.starts = starts
        self.matches = matches
        self.unpacked = unpacked

        self.sortRules = sortRules
        var ruleKeys: [PackedNumber] = [], ruleValues: [Int32] = [], unpackedRules: [Int] = []
        for (position, rule) in sortRules.enumerated() {
            if let packed = PackedNumber(rule.prefix) {
                ruleKeys.append(packed)
                ruleValues.append(Int32(position))
            } else {
                unpackedRules.append(position)
            }
        }
        self.sortTable = PackedPrefixTable(keys: ruleKeys, values: ruleValues)
        self.unpackedRules = unpackedRules.sorted { sortRules[$0].prefix.count > sortRules[$1].prefix.count }
    }

    /// An index of no gateway.
    public static let empty = RouteIndex(gateways: [])

    /// Distinct packed prefixes and entries in the effective lists (for logs and the benchmark).
    public var statistics: (prefixes: Int, entries: Int) { (starts.count - 1, matches.count) }

    /// Calls `body` with every gateway that has a prefix of `callee`, each once with its longest
    /// such prefix, ordered by position in `gateways`.
    func withMatches<Result>(for callee: String, _ body: (UnsafeBufferPointer<Match>, Probe) -> Result) -> Result {
        let (packed, length) = PackedNumber.leading(callee)
        let found = nodes.longestMatch(packed, length: length)
        let probe = Probe(packed: packed, length: length, nodeLength: found?.length ?? 0)
        guard unpacked.isEmpty else { return mergingUnpacked(found?.value, callee).withUnsafeBufferPointer { body($0, probe) } }
        guard let node = found?.value else { return body(UnsafeBufferPointer(start: nil, count: 0), probe) }
        let range = Int(starts[Int(node)])..<Int(starts[Int(node) + 1])
        return matches.withUnsafeBufferPointer { all in body(UnsafeBufferPointer(rebasing: all[range]), probe) }
    }

    /// The node's list with the text-matched prefixes merged in (prices then looked up per call).
    private func mergingUnpacked(_ node: Int32?, _ callee: String) -> [Match] {
        var merged: [Match] = node.map { Array(matches[Int(starts[Int($0)])..<Int(starts[Int($0) + 1])]) } ?? []
        for extra in unpacked where callee.hasPrefix(gateways[Int(extra.gateway)].prefixes[Int(-extra.prefix - 1)]) {
            if let existing = merged.firstIndex(where: { $0.gateway == extra.gateway }) {
                if merged[existing].length < extra.length { merged[existing] = extra }
            } else {
                merged.append(extra)
            }
        }
        for index in merged.indices { merged[index].pricing = .lookUp }
        merged.sort { $0.gateway < $1.gateway }
        return merged
    }

    /// The sort mode for `callee`: the longest matching rule's, else `system`; with the rule's
    /// prefix (nil: the system mode).
    public func sort(for callee: String, system: RoutingSort) -> (sort: RoutingSort, rulePrefix: String?) {
        guard !sortRules.isEmpty else { return (system, nil) }
        let (packed, length) = PackedNumber.leading(callee)
        let found = sortTable.longestMatch(packed, length: length)
        let foundLength = found?.length ?? 0
        for position in unpackedRules where sortRules[position].prefix.count > foundLength && callee.hasPrefix(sortRules[position].prefix) {
            return (sortRules[position].sort, sortRules[position].prefix)
        }
        guard let rule = found.map({ sortRules[Int($0.value)] }) else { return (system, nil) }
        return (rule.sort, rule.prefix)
    }
}

/// What the planner reads per match, built with the index (or per call by the linear planner).
struct RouteTables: Sendable {
    let references: [GatewayReference]
    /// Each gateway's vendor rates (its clearing account's rate table), by position.
    let rates: [RateIndex?]
    /// Each gateway's place among all gateways' names: ties are broken by name with an integer.
    let nameRanks: [Int32]
    /// Each node's prefix as text.
    let nodePrefixes: [String]

    init(gateways: [RoutingGateway], rates: [RateIndex?], nodePrefixes: [String]) {
        references = gateways.map(GatewayReference.init)
        self.rates = rates
        var ranks = [Int32](repeating: 0, count: gateways.count)
        let byName = gateways.indices.sorted { gateways[$0].name < gateways[$1].name }
        var rank: Int32 = 0
        for (order, position) in byName.enumerated() {
            if order > 0 && gateways[byName[order - 1]].name != gateways[position].name { rank += 1 }
            ranks[position] = rank
        }
        nameRanks = ranks
        self.nodePrefixes = nodePrefixes
    }

    @inline(__always)
    func prefix(of match: RouteIndex.Match) -> String {
        match.prefix >= 0 ? nodePrefixes[Int(match.prefix)] : references[Int(match.gateway)].gateway.prefixes[Int(-match.prefix - 1)]
    }
}

/// One routing gateway, boxed once per configuration generation so the candidates of every call
/// share it (a `RoutingGateway` copy retains some twenty buffers).
@usableFromInline
final class GatewayReference: Sendable {
    @usableFromInline let gateway: RoutingGateway

    init(_ gateway: RoutingGateway) {
        self.gateway = gateway
    }
}

/// Packed prefixes to small integers: open addressing with linear probing over a power-of-two
/// table at most half full, hashed by multiply-shift (no `Hasher`, no String), key and value in
/// one slot (one cache line a probe), plus the set of key lengths so a longest-prefix search
/// probes only lengths that exist.
struct PackedPrefixTable: Sendable {
    private struct Slot {
        var key: PackedNumber
        var value: Int32
    }

    private let slots: [Slot]
    private let shift: UInt64
    /// Bit n-1 set: some key has n characters.
    let lengths: UInt32

    /// `keys` are valid packed prefixes (not zero); a repeated key keeps its last value.
    init(keys: [PackedNumber], values: [Int32]) {
        var capacity = 8
        while capacity < keys.count * 2 { capacity *= 2 }
        var slots = [Slot](repeating: Slot(key: PackedNumber(high: 0, low: 0), value: -1), count: capacity)
        let shift = UInt64(64 - capacity.trailingZeroBitCount)
        var lengths: UInt32 = 0
        for (key, value) in zip(keys, values) where key.high != 0 {
            var slot = PackedPrefixTable.slot(key, shift: shift)
            while slots[slot].key.high != 0 && slots[slot].key != key { slot = (slot + 1) & (capacity - 1) }
            slots[slot] = Slot(key: key, value: value)
            lengths |= 1 << UInt32(key.length - 1)
        }
        self.slots = slots
        self.shift = shift
        self.lengths = lengths
    }

    @inline(__always)
    private static func slot(_ key: PackedNumber, shift: UInt64) -> Int {
        var mixed = key.high &* 0x9E37_79B9_7F4A_7C15 ^ key.low &* 0xC2B2_AE3D_27D4_EB4F
        mixed ^= mixed >> 31
        mixed &*= 0xBF58_476D_1CE4_E5B9
        return Int(truncatingIfNeeded: mixed >> shift)
    }

    @inline(__always)
    func value(_ key: PackedNumber) -> Int32? {
        slots.withUnsafeBufferPointer { slots in
            let mask = slots.count - 1
            var slot = PackedPrefixTable.slot(key, shift: shift)
            while true {
                let probe = slots[slot]
                if probe.key == key { return probe.value }
                if probe.key.high == 0 { return nil }
                slot = (slot + 1) & mask
            }
        }
    }

    /// The key of the longest prefix among the first `length` characters of `packed`, longer
    /// than `above` characters.
    @inline(__always)
    func longestMatch(_ packed: PackedNumber, length: Int, above: Int = 0) -> (value: Int32, length: Int)? {
        var candidates = length >= 32 ? lengths : lengths & ((1 << UInt32(max(0, length))) &- 1)
        if above > 0 { candidates &= above >= 32 ? 0 : ~((1 << UInt32(above)) &- 1) }
        while candidates != 0 {
            let prefixLength = 32 - candidates.leadingZeroBitCount
            if let value = value(packed.prefix(prefixLength)) { return (value, prefixLength) }
            candidates &= ~(1 << UInt32(prefixLength - 1))
        }
        return nil
    }
}
