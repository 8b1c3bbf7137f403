/// Reads a vendor's CDR export for bilateral reconciliation (`vosctl reconcile`, docs/BILLING.md):
/// CSV whose header names the columns `start_time,caller,callee,duration,cost` (any order, other
/// columns ignored). A bad line refuses the whole file, naming the line and the field, so a
/// reconciliation never runs on half a file.
public struct VendorCDR: Sendable, Hashable, Codable {
    /// Line of the file (the header is line 1).
    public var line: Int
    /// When the vendor says the call started (connected), epoch milliseconds.
    public var startTime: Int64
    /// Empty when the vendor's file leaves it out.
    public var caller: String
    public var callee: String
    /// Whole seconds; a fraction is rounded up, as vos rounds its own durations.
    public var durationSeconds: Int
    public var cost: Money

    public init(line: Int, startTime: Int64, caller: String, callee: String, durationSeconds: Int, cost: Money) {
        self.line = line
        self.startTime = startTime
        self.caller = caller
        self.callee = callee
        self.durationSeconds = durationSeconds
        self.cost = cost
    }
}

public enum VendorCDRFile {
    /// The columns a file must name in its header.
    public static let columns = ["start_time", "caller", "callee", "duration", "cost"]

    public struct LineError: Error, Sendable, Equatable, CustomStringConvertible {
        public let line: Int
        /// The column at fault; nil when the line as a whole is (field count, quoting).
        public let field: String?
        public let message: String

        public var description: String {
            "line \(line)" + (field.map { ", field \($0)" } ?? "") + ": \(message)"
        }
    }

    /// The rows of `text`. Blank lines and `#` comments are skipped; fields may be double-quoted.
    public static func parse(_ text: String) throws(LineError) -> [VendorCDR] {
        var rows: [VendorCDR] = []
        var indexOf: [String: Int]?
        var width = 0
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine[...]
            let trimmed = line.trimmingSpaces
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let fields: [String]
            do { fields = try CSVLine.fields(line) } catch { throw LineError(line: number, field: nil, message: error.description) }
            guard let index = indexOf else {
                indexOf = try header(fields, line: number)
                width = fields.count
                continue
            }
            guard fields.count == width else {
                throw LineError(line: number, field: nil, message: "\(fields.count) fields, the header has \(width)")
            }
            func field(_ name: String) -> String { index[name].map { fields[$0] } ?? "" }
            rows.append(try row(line: number, start: field("start_time"), caller: field("caller"), callee: field("callee"),
                                duration: field("duration"), cost: field("cost")))
        }
        guard indexOf != nil else {
            throw LineError(line: 1, field: nil, message: "no header line: the file must start with \(columns.joined(separator: ","))")
        }
        return rows
    }

    private static func header(_ fields: [String], line: Int) throws(LineError) -> [String: Int] {
        var index: [String: Int] = [:]
        for (position, name) in fields.enumerated() {
            let key = name.lowercased()
            guard index[key] == nil else {
                throw LineError(line: line, field: key, message: "column named twice in the header")
            }
            index[key] = position
        }
        let missing = columns.filter { index[$0] == nil }
        guard missing.isEmpty else {
            throw LineError(line: line, field: nil, message: "the header lacks \(missing.joined(separator: ", ")): expected a header line \(columns.joined(separator: ","))")
        }
        return index
    }

    private static func row(line: Int, start: String, caller: String, callee: String, duration: String,
                            cost: String) throws(LineError) -> VendorCDR {
        guard let time = parseTime(start) else {
            throw LineError(line: line, field: "start_time", message: "'\(start)' is not a time: expected YYYY-MM-DD HH:MM:SS (UTC) or Unix seconds")
        }
        guard !callee.isEmpty else { throw LineError(line: line, field: "callee", message: "empty") }
        guard isNumber(callee) else {
            throw LineError(line: line, field: "callee", message: "'\(callee)' is not a number: expected 1-64 of 0-9, *, # after an optional +")
        }
        guard !caller.contains(where: \.isWhitespace), caller.count <= 128 else {
            throw LineError(line: line, field: "caller", message: "'\(caller)' has spaces or is longer than 128 characters")
        }
        guard let seconds = parseDuration(duration) else {
            throw LineError(line: line, field: "duration", message: "'\(duration)' is not a duration: expected seconds such as 61 or 60.5")
        }
        let money: Money
        do { money = try Money(parsing: cost) } catch {
            throw LineError(line: line, field: "cost", message: "'\(cost)' is not an amount: expected a decimal such as 0.0125 (at most \(Money.scale) decimals)")
        }
        guard money >= .zero else { throw LineError(line: line, field: "cost", message: "'\(cost)' is negative") }
        return VendorCDR(line: line, startTime: time, caller: caller, callee: callee, durationSeconds: seconds, cost: money)
    }

    private static func isNumber(_ text: String) -> Bool {
        let digits = text.hasPrefix("+") ? text.dropFirst() : text[...]
        return !digits.isEmpty && digits.count <= 64 && digits.allSatisfy { $0.isASCIIDigit || $0 == "*" || $0 == "#" }
    }

    /// Whole seconds from `61`, `60.5` (rounded up); nil for anything else or over 10^7 s.
    static func parseDuration(_ text: String) -> Int? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.count <= 7, whole.allSatisfy(\.isASCIIDigit),
              let seconds = Int(whole) else { return nil }
        guard parts.count == 2 else { return seconds }
        let fraction = parts[1]
        guard !fraction.isEmpty, fraction.count <= 6, fraction.allSatisfy(\.isASCIIDigit) else { return nil }
        return fraction.allSatisfy { $0 == "0" } ? seconds : seconds + 1
    }

    /// Epoch milliseconds from `2026-11-30 13:05:09` (UTC; also with `T` and a trailing `Z`, and
    /// milliseconds `.250`) or Unix seconds (`1795999509`, `1795999509.25`); nil otherwise.
    public static func parseTime(_ text: String) -> Int64? {
        if let first = text.first, first.isASCIIDigit, text.allSatisfy({ $0.isASCIIDigit || $0 == "." }) {
            return parseEpoch(text)
        }
        var body = Substring(text)
        if body.hasSuffix("Z") { body = body.dropLast() }
        let scalars = Array(body.utf8)
        // YYYY-MM-DD?HH:MM:SS, then an optional .fff
        guard scalars.count >= 19, scalars[4] == UInt8(ascii: "-"), scalars[7] == UInt8(ascii: "-"),
              scalars[10] == UInt8(ascii: " ") || scalars[10] == UInt8(ascii: "T"),
              scalars[13] == UInt8(ascii: ":"), scalars[16] == UInt8(ascii: ":") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let byte = scalars[index]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              let date = try? LocalDate(year: year, month: month, day: day),
              hour < 24, minute < 60, second < 60 else { return nil }
        var milliseconds = 0
        if scalars.count > 19 {
            guard scalars[19] == UInt8(ascii: "."), scalars.count > 20, scalars.count <= 23,
                  let fraction = number(20..<scalars.count) else { return nil }
            milliseconds = fraction * [1, 100, 10, 1][scalars.count - 20]
        }
        return (Int64(date.dayNumber) * 86_400 + Int64(hour * 3600 + minute * 60 + second)) * 1000 + Int64(milliseconds)
    }

    private static func parseEpoch(_ text: String) -> Int64? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, whole.count <= 11, let seconds = Int64(whole) else { return nil }
        var milliseconds: Int64 = 0
        if parts.count == 2 {
            let fraction = parts[1]
            guard (1...3).contains(fraction.count), let value = Int64(fraction) else { return nil }
            milliseconds = value * [1, 100, 10, 1][fraction.count]
        }
        return seconds * 1000 + milliseconds
    }
}
