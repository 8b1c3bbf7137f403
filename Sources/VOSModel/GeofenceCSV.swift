/// Reads geofence ranges from the files country ranges come in, so `vosctl geofence import` takes
/// them as downloaded. One range per line, fields separated by commas (double quotes allowed,
/// `""` is a quote inside); blank lines and `#` lines are skipped, and so is a first line whose
/// first field is not an address or a number (a header such as `network,geoname_id,...`):
/// - `CIDR[,label,...]` — `1.0.1.0/24,CN` (MaxMind GeoLite2 blocks, ipdeny zone files);
/// - `START,END[,label,...]` — `1.0.1.0,1.0.3.255,CN` (DB-IP lite, the end included);
/// - `START,COUNT[,label,...]` — `1.0.1.0,768,CN` (VOS3000's start + count);
/// - `FROM,TO[,label,...]` as integers — `16777472,16778239,"CN","China"` (IP2Location LITE);
/// - an RIR delegated-stats line, `|`-separated — `apnic|CN|ipv4|1.0.1.0|256|20110414|allocated`
///   (IPv6 lines carry a prefix length); `asn` lines, the version line and summaries are skipped.
/// Fields after the label are ignored. A label `-` is no label. Ranges within the IPv4-mapped
/// IPv6 block (IP2Location's IPv6 files) become the IPv4 ranges they stand for.
///
/// Pure parsing: it reads bytes it is given and never touches the store.
public enum GeofenceCSV {
    public struct LineError: Error, Sendable, Equatable, CustomStringConvertible {
        public let line: Int
        public let text: String
        public let message: String
        public var description: String { "line \(line) '\(text)': \(message)" }
    }

    static let expectedForms = "expected CIDR[,label], START,END[,label], START,COUNT[,label] (addresses, or integers as IP2Location writes them) or an RIR delegated line (registry|CC|ipv4|START|COUNT|...)"

    /// The file's ranges with `mode`, keeping only those whose label is one of `labels` (case
    /// ignored; nil keeps all). Every line must parse, kept or not, and the kept ranges must not
    /// overlap one another; the first bad line is the error.
    public static func parse(_ text: String, mode: GeofenceRange.Mode, labels: Set<String>? = nil) throws(LineError) -> [GeofenceRange] {
        let bytes = Array(text.utf8)
        let wanted = labels.map { Set($0.map { $0.uppercased() }) }
        var ranges: [GeofenceRange] = []
        var lineNumbers: [Int] = []
        var lineSpans: [Range<Int>] = []
        var lineNumber = 0
        var sawData = false
        var position = 0
        while position < bytes.count {
            lineNumber += 1
            var end = position
            while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
            let line = trimmed(bytes[position..<end])
            let span = position..<end
            position = end + 1
            if line.isEmpty || line.first == UInt8(ascii: "#") { continue }
            let isFirst = !sawData
            sawData = true
            let parsed: GeofenceRange?
            do { parsed = try range(in: line, mode: mode, isFirst: isFirst) } catch {
                throw LineError(line: lineNumber, text: excerpt(line), message: error.description)
            }
            guard let parsed else { continue }
            if let wanted, !wanted.contains(parsed.label?.uppercased() ?? "") { continue }
            ranges.append(parsed)
            lineNumbers.append(lineNumber)
            lineSpans.append(span)
        }
        let order = ranges.indices.sorted { ranges[$0] < ranges[$1] }
        for (earlier, later) in zip(order, order.dropFirst()) where ranges[earlier].overlaps(ranges[later]) {
            let (first, second) = lineNumbers[earlier] < lineNumbers[later] ? (earlier, later) : (later, earlier)
            throw LineError(line: lineNumbers[second], text: excerpt(trimmed(bytes[lineSpans[second]])),
                            message: "\(ranges[second].span) overlaps \(ranges[first].span) on line \(lineNumbers[first])")
        }
        return ranges
    }

    /// The range a data line holds; nil for a line to skip (a header, an RIR version, summary or asn line).
    private static func range(in line: ArraySlice<UInt8>, mode: GeofenceRange.Mode, isFirst: Bool) throws(ModelError) -> GeofenceRange? {
        if line.contains(UInt8(ascii: "|")) && !line.contains(UInt8(ascii: ",")) {
            return try delegatedRange(fields(line, separator: UInt8(ascii: "|")), mode: mode, isFirst: isFirst)
        }
        let fields = try fields(line, separator: UInt8(ascii: ","))
        let first = fields[0]
        if first.contains("/") {
            let prefix = try IPPrefix(parsing: first, field: "cidr")
            return try unmapped(GeofenceRange(prefix: prefix, mode: mode, label: label(fields, at: 1)))
        }
        guard fields.count >= 2 else {
            if isFirst && !looksNumeric(first) { return nil }
            throw ModelError.inconsistent(expectedForms)
        }
        if let start = IPAddress(first) {
            if let last = IPAddress(fields[1]) {
                return try unmapped(GeofenceRange(start: start, last: last, mode: mode, label: label(fields, at: 2)))
            }
            guard let count = UInt128(fields[1]) else {
                throw ModelError.invalid(field: "second field", value: fields[1], expected: "an end address or a count of addresses")
            }
            return try unmapped(GeofenceRange(start: start, count: count, mode: mode, label: label(fields, at: 2)))
        }
        if let from = UInt128(first) {
            guard let to = UInt128(fields[1]) else {
                throw ModelError.invalid(field: "second field", value: fields[1], expected: "the range's last address as an integer, like the first")
            }
            let ipv4 = to <= UInt128(UInt32.max)
            return try unmapped(GeofenceRange(start: IPAddress(integer: from, ipv4: ipv4), last: IPAddress(integer: to, ipv4: ipv4),
                                              mode: mode, label: label(fields, at: 2)))
        }
        if isFirst && !looksNumeric(first) { return nil }
        throw ModelError.invalid(field: "first field", value: first, expected: expectedForms)
    }

    /// `registry|cc|type|start|value|date|status[|...]`: value is a count for ipv4, a prefix length for ipv6.
    private static func delegatedRange(_ fields: [String], mode: GeofenceRange.Mode, isFirst: Bool) throws(ModelError) -> GeofenceRange? {
        if isFirst, fields[0].allSatisfy({ $0.isASCIIDigit || $0 == "." }) { return nil }
        guard fields.count >= 6 else { throw ModelError.inconsistent(expectedForms) }
        if fields[5] == "summary" || fields[1] == "*" || fields[2] == "asn" { return nil }
        let label = fields[1].isEmpty ? nil : fields[1]
        switch fields[2] {
        case "ipv4":
            let start = try IPAddress(parsing: fields[3], field: "start")
            guard let count = UInt128(fields[4]) else {
                throw ModelError.invalid(field: "count", value: fields[4], expected: "a whole number of addresses")
            }
            return try GeofenceRange(start: start, count: count, mode: mode, label: label)
        case "ipv6":
            let prefix = try IPPrefix(parsing: fields[3] + "/" + fields[4], field: "ipv6 prefix")
            return try GeofenceRange(prefix: prefix, mode: mode, label: label)
        default:
            throw ModelError.invalid(field: "type", value: fields[2], expected: "ipv4, ipv6 or asn")
        }
    }

    private static func label(_ fields: [String], at index: Int) -> String? {
        guard index < fields.count, !fields[index].isEmpty, fields[index] != "-" else { return nil }
        return fields[index]
    }

    /// A range inside ::ffff:0:0/96 as the IPv4 range it stands for.
    private static func unmapped(_ range: GeofenceRange) throws(ModelError) -> GeofenceRange {
        let start = range.start.unmappingIPv4, last = range.last.unmappingIPv4
        guard !range.isIPv4, start.isIPv4, last.isIPv4 else { return range }
        return try GeofenceRange(start: start, last: last, mode: range.mode, label: range.label)
    }

    private static func looksNumeric(_ field: String) -> Bool {
        field.first.map { $0.isASCIIDigit || $0 == ":" } ?? false
    }

    /// Splits on `separator` outside double quotes; each field trimmed of spaces.
    private static func fields(_ line: ArraySlice<UInt8>, separator: UInt8) throws(ModelError) -> [String] {
        var fields: [String] = []
        var current: [UInt8] = []
        var inQuotes = false
        var index = line.startIndex
        while index < line.endIndex {
            let byte = line[index]
            index += 1
            if inQuotes {
                if byte == UInt8(ascii: "\"") {
                    if index < line.endIndex && line[index] == UInt8(ascii: "\"") {
                        current.append(byte)
                        index += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    current.append(byte)
                }
            } else if byte == UInt8(ascii: "\"") && trimmed(current[...]).isEmpty {
                current.removeAll(keepingCapacity: true)
                inQuotes = true
            } else if byte == separator {
                fields.append(String(decoding: trimmed(current[...]), as: UTF8.self))
                current.removeAll(keepingCapacity: true)
            } else {
                current.append(byte)
            }
        }
        guard !inQuotes else { throw ModelError.inconsistent("unterminated quoted field") }
        fields.append(String(decoding: trimmed(current[...]), as: UTF8.self))
        return fields
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, first == 0x20 || first == 0x09 || first == 0x0D { slice = slice.dropFirst() }
        while let last = slice.last, last == 0x20 || last == 0x09 || last == 0x0D { slice = slice.dropLast() }
        return slice
    }

    /// The line as an error shows it, cut at 100 characters.
    private static func excerpt(_ line: ArraySlice<UInt8>) -> String {
        let text = String(decoding: line, as: UTF8.self)
        return text.count > 100 ? String(text.prefix(100)) + "..." : text
    }
}
