import VOSModel

/// Geofence ranges in the store: listed in address order, added all or nothing (overlaps refused
/// by `Geofence.checkAdditions`), removed by start, by label or all. Every change is a
/// configuration change (the caller's `Store.write` bumps the generation), so the controller
/// reloads them within a second.
extension Transaction {
    /// Every range, sorted by start (IPv4 first).
    public func geofenceRanges() throws -> [GeofenceRange] {
        var ranges: [GeofenceRange] = []
        try scan(.geofenceRanges) { key, value in
            ranges.append(try GeofenceRangeCoding.decode(key: key, value: value))
            return true
        }
        return ranges
    }

    /// Adds `ranges` after checking them against each other and the stored ones (or, with
    /// `replacing`, against each other only, every stored range being dropped first). Returns how
    /// many stored ranges were replaced.
    @discardableResult
    public func addGeofenceRanges(_ ranges: [GeofenceRange], replacing: Bool = false) throws -> Int {
        let existing = try geofenceRanges()
        do { try Geofence.checkAdditions(ranges, to: replacing ? [] : existing) } catch { throw StoreError.invalid(error) }
        if replacing { try clear(.geofenceRanges) }
        for range in ranges {
            try put(.geofenceRanges, GeofenceRangeCoding.key(range.start), GeofenceRangeCoding.value(range))
        }
        return replacing ? existing.count : 0
    }

    /// Removes the range starting at `start`; refused when none does.
    @discardableResult
    public func removeGeofenceRange(start: IPAddress) throws -> GeofenceRange {
        let key = GeofenceRangeCoding.key(start)
        guard let value = try get(.geofenceRanges, key) else {
            throw StoreError.notFound(kind: "geofence range starting at", name: start.description)
        }
        let range = try GeofenceRangeCoding.decode(key: key, value: value)
        try delete(.geofenceRanges, key)
        return range
    }

    /// Removes every range, or those labelled `label` (case ignored); returns how many.
    @discardableResult
    public func removeGeofenceRanges(label: String? = nil) throws -> Int {
        guard let label else {
            let count = try self.count(.geofenceRanges)
            try clear(.geofenceRanges)
            return count
        }
        let doomed = try geofenceRanges().filter { $0.label?.lowercased() == label.lowercased() }
        for range in doomed { try delete(.geofenceRanges, GeofenceRangeCoding.key(range.start)) }
        return doomed.count
    }
}

/// The stored form of a range. Key: the family (4 or 6) and the start address in network order,
/// so LMDB keeps the ranges sorted as `Geofence` needs them. Value: a format byte (1), the mode
/// (0 ignore, 1 forbidden, 2 allow), the last address in network order, then the label in UTF-8.
enum GeofenceRangeCoding {
    static func key(_ start: IPAddress) -> [UInt8] {
        [start.isIPv4 ? 4 : 6] + start.bytes
    }

    static func value(_ range: GeofenceRange) -> [UInt8] {
        [1, modeByte(range.mode)] + range.last.bytes + Array((range.label ?? "").utf8)
    }

    static func decode(key: [UInt8], value: [UInt8]) throws -> GeofenceRange {
        func corrupt(_ reason: String) -> StoreError {
            StoreError.corruptRecord(table: Table.geofenceRanges.rawValue, key: key.map { String($0, radix: 16) }.joined(separator: " "),
                                     reason: reason)
        }
        let width = key.first == 4 ? 4 : key.first == 6 ? 16 : 0
        guard width > 0, key.count == 1 + width, let start = IPAddress(bytes: key.dropFirst()) else {
            throw corrupt("key is not a family byte and a start address")
        }
        guard value.count >= 2 + width, value[0] == 1 else { throw corrupt("value is not a format-1 geofence range") }
        guard let mode = mode(value[1]) else { throw corrupt("unknown mode \(value[1])") }
        guard let last = IPAddress(bytes: value[2..<(2 + width)]) else { throw corrupt("bad last address") }
        let labelBytes = value[(2 + width)...]
        do {
            return try GeofenceRange(start: start, last: last, mode: mode,
                                     label: labelBytes.isEmpty ? nil : String(decoding: labelBytes, as: UTF8.self))
        } catch {
            throw corrupt(error.description)
        }
    }

    private static func modeByte(_ mode: GeofenceRange.Mode) -> UInt8 {
        switch mode {
        case .ignore: return 0
        case .forbidden: return 1
        case .allow: return 2
        }
    }

    private static func mode(_ byte: UInt8) -> GeofenceRange.Mode? {
        switch byte {
        case 0: return .ignore
        case 1: return .forbidden
        case 2: return .allow
        default: return nil
        }
    }
}
