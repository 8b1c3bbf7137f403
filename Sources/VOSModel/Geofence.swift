/// Geofencing as the call path asks it (requirements §7): the verdict for one address, from the
/// configured ranges sorted once per configuration, so a check is a binary search that allocates
/// nothing. Also owns the rule that ranges never overlap (`checkAdditions`). No I/O: the store
/// loads the ranges, the B2BUA decides what a refusal does to a call.
///
/// Verdicts, in order (ranges never overlap, so an address is in one range at most):
/// 1. in an Ignore range: not checked, it passes;
/// 2. in a Forbidden range: refused;
/// 3. in an Allow range: passes;
/// 4. in no range: refused when at least one Allow range exists (of either family), else passes.
/// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is judged as the IPv4 address it carries.
public struct Geofence: Sendable {
    public enum Verdict: Sendable, Equatable {
        /// No range refuses it: in an Allow range (the range), or in none while no Allow range exists (nil).
        case allowed(GeofenceRange?)
        /// In an Ignore range: exempt from every check.
        case ignored(GeofenceRange)
        /// In a Forbidden range.
        case forbidden(GeofenceRange)
        /// In no range, while Allow ranges exist.
        case notAllowed

        public var refuses: Bool {
            switch self {
            case .forbidden, .notAllowed: return true
            case .allowed, .ignored: return false
            }
        }

        /// Why an address was refused, for logs: `in the forbidden range ...` / `outside every allow range`.
        public var explanation: String {
            switch self {
            case let .forbidden(range): return "in the forbidden range \(range)"
            case .notAllowed: return "outside every allow range"
            case let .ignored(range): return "in the ignore range \(range)"
            case let .allowed(range?): return "in the allow range \(range)"
            case .allowed(nil): return "in no range"
            }
        }
    }

    /// One family's ranges, sorted by start, as parallel arrays: the search reads only `starts`.
    private struct SortedRanges<Number: FixedWidthInteger & UnsignedInteger & Sendable>: Sendable {
        var starts: [Number] = []
        var lasts: [Number] = []
        var ranges: [GeofenceRange] = []

        mutating func append(_ range: GeofenceRange) {
            starts.append(Number(truncatingIfNeeded: range.start.integer))
            lasts.append(Number(truncatingIfNeeded: range.last.integer))
            ranges.append(range)
        }

        /// The range holding `address`: the last one starting at or before it, if it reaches it.
        func range(holding address: Number) -> GeofenceRange? {
            var low = 0, high = starts.count
            while low < high {
                let middle = (low + high) / 2
                if starts[middle] <= address { low = middle + 1 } else { high = middle }
            }
            guard low > 0, address <= lasts[low - 1] else { return nil }
            return ranges[low - 1]
        }
    }

    private var ipv4 = SortedRanges<UInt32>()
    private var ipv6 = SortedRanges<UInt128>()
    /// Whether an address in no range is refused.
    public let hasAllowRanges: Bool
    public let count: Int

    /// The lookup over `ranges` (in any order). They are expected to have passed
    /// `checkAdditions` (the store refuses overlaps); if two overlap anyway, the one starting
    /// later decides for the addresses they share.
    public init(_ ranges: [GeofenceRange] = []) {
        for range in ranges.sorted() {
            if range.isIPv4 { ipv4.append(range) } else { ipv6.append(range) }
        }
        hasAllowRanges = ranges.contains { $0.mode == .allow }
        count = ranges.count
    }

    /// No ranges: geofencing is off and every address passes.
    public var isEmpty: Bool { count == 0 }

    public func verdict(for address: IPAddress) -> Verdict {
        let range: GeofenceRange?
        switch address.unmappingIPv4 {
        case let .v4(value): range = ipv4.range(holding: value)
        case let .v6(high, low): range = ipv6.range(holding: UInt128(high) << 64 | UInt128(low))
        }
        guard let range else { return hasAllowRanges ? .notAllowed : .allowed(nil) }
        switch range.mode {
        case .ignore: return .ignored(range)
        case .forbidden: return .forbidden(range)
        case .allow: return .allowed(range)
        }
    }

    /// Refuses `additions` when one overlaps another or a range of `existing` (sorted, as the
    /// store returns them); the message names both ranges.
    public static func checkAdditions(_ additions: [GeofenceRange], to existing: [GeofenceRange]) throws(ModelError) {
        let sorted = additions.sorted()
        for (earlier, later) in zip(sorted, sorted.dropFirst()) where earlier.overlaps(later) {
            throw ModelError.inconsistent("geofence range \(later) overlaps \(earlier), also being added")
        }
        for range in sorted {
            // The existing range starting last at or before this one's start, and the one after it.
            var low = 0, high = existing.count
            while low < high {
                let middle = (low + high) / 2
                if existing[middle].start <= range.start { low = middle + 1 } else { high = middle }
            }
            for index in [low - 1, low] where existing.indices.contains(index) && existing[index].overlaps(range) {
                throw ModelError.inconsistent("geofence range \(range) overlaps the existing range \(existing[index])")
            }
        }
    }
}
