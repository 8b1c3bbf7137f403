/// Reads rate tables in the CSV form operators exchange with vendors:
/// `prefix,price_per_minute,first_interval,next_interval[,connection_fee[,description]]`.
/// A first line whose first field is `prefix` is a header; `#` lines and blank lines are skipped.
/// Fields may be double-quoted (`""` is a quote inside).
public enum RateCSV {
    public struct LineError: Error, Sendable, CustomStringConvertible {
        public let line: Int
        public let message: String
        public var description: String { "line \(line): \(message)" }
    }

    public static func parse(_ text: String) throws(LineError) -> [RateEntry] {
        var entries: [RateEntry] = []
        var seen: [String: Int] = [:]
        var sawData = false
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine[...]
            if line.trimmingSpaces.isEmpty || line.trimmingSpaces.hasPrefix("#") { continue }
            let fields: [String]
            do { fields = try CSVLine.fields(line) } catch { throw LineError(line: lineNumber, message: error.description) }
            if !sawData && fields.first?.lowercased() == "prefix" {
                sawData = true
                continue
            }
            sawData = true
            guard (4...6).contains(fields.count) else {
                throw LineError(line: lineNumber, message: "expected 4 to 6 fields (prefix,price_per_minute,first_interval,next_interval[,connection_fee[,description]]), found \(fields.count)")
            }
            let entry: RateEntry
            do {
                guard let first = Int(fields[2]) else {
                    throw ModelError.invalid(field: "first_interval", value: fields[2], expected: "whole seconds")
                }
                guard let next = Int(fields[3]) else {
                    throw ModelError.invalid(field: "next_interval", value: fields[3], expected: "whole seconds")
                }
                entry = RateEntry(
                    prefix: fields[0],
                    pricePerMinute: try money(fields[1], field: "price_per_minute"),
                    firstInterval: first, nextInterval: next,
                    connectionFee: fields.count > 4 && !fields[4].isEmpty ? try money(fields[4], field: "connection_fee") : .zero,
                    description: fields.count > 5 ? fields[5] : "")
                try entry.validate()
            } catch {
                throw LineError(line: lineNumber, message: "\(error)")
            }
            if let earlier = seen[entry.prefix] {
                throw LineError(line: lineNumber, message: "prefix \(entry.prefix) already defined on line \(earlier)")
            }
            seen[entry.prefix] = lineNumber
            entries.append(entry)
        }
        return entries
    }

    private static func money(_ text: String, field: String) throws(ModelError) -> Money {
        do { return try Money(parsing: text) } catch {
            throw ModelError.invalid(field: field, value: text, expected: "a decimal amount with at most \(Money.scale) decimals")
        }
    }
}
