/// The number portability table (requirements §11 LRN): ported numbers and the location routing
/// number (LRN) each now lives behind. Kept as two parallel arrays of packed numbers sorted by the
/// ported number, so a lookup at call setup is one binary search with nothing allocated until a
/// hit, and the stored form is the arrays' bytes (32 bytes a pair), read back with one copy.
/// Owns the table and its binary form; `LRNFile` parses imports; the controller decides when the
/// table is consulted (`SS_LRN_*`).
public struct LRNTable: Sendable, Hashable {
    /// Strictly increasing.
    public private(set) var numbers: [PackedNumber]
    /// `routingNumbers[i]` is the LRN of `numbers[i]`.
    public private(set) var routingNumbers: [PackedNumber]

    public init() {
        numbers = []
        routingNumbers = []
    }

    /// Pairs already sorted by number with no repeats (what `LRNFile.parse` returns).
    init(sortedNumbers: [PackedNumber], routingNumbers: [PackedNumber]) {
        self.numbers = sortedNumbers
        self.routingNumbers = routingNumbers
    }

    public var count: Int { numbers.count }
    public var isEmpty: Bool { numbers.isEmpty }

    /// The LRN of `number`, or nil when it is not ported (not in the table).
    public func routingNumber(of number: String) -> String? {
        guard let packed = PackedNumber(number) else { return nil }
        return routingNumber(of: packed)?.string
    }

    public func routingNumber(of number: PackedNumber) -> PackedNumber? {
        var low = 0, high = numbers.count
        while low < high {
            let middle = (low + high) / 2
            if numbers[middle] < number { low = middle + 1 } else { high = middle }
        }
        return low < numbers.count && numbers[low] == number ? routingNumbers[low] : nil
    }

    /// This table with `other`'s pairs added; where both have a number, `other`'s LRN wins (a
    /// newer import replaces what it names).
    public func merging(_ other: LRNTable) -> LRNTable {
        var mergedNumbers: [PackedNumber] = [], mergedRouting: [PackedNumber] = []
        mergedNumbers.reserveCapacity(count + other.count)
        mergedRouting.reserveCapacity(count + other.count)
        var left = 0, right = 0
        while left < count || right < other.count {
            if right == other.count || (left < count && numbers[left] < other.numbers[right]) {
                mergedNumbers.append(numbers[left]); mergedRouting.append(routingNumbers[left]); left += 1
            } else {
                if left < count && numbers[left] == other.numbers[right] { left += 1 }
                mergedNumbers.append(other.numbers[right]); mergedRouting.append(other.routingNumbers[right]); right += 1
            }
        }
        return LRNTable(sortedNumbers: mergedNumbers, routingNumbers: mergedRouting)
    }

    // MARK: Binary form

    /// `VLR1` and a reserved word, then each pair as four little-endian words (number high, low,
    /// LRN high, low), in table order.
    static let magic: [UInt8] = Array("VLR1".utf8) + [0, 0, 0, 0]

    public var binary: [UInt8] {
        var bytes = LRNTable.magic
        bytes.reserveCapacity(LRNTable.magic.count + count * 32)
        for index in numbers.indices {
            for word in [numbers[index].high, numbers[index].low, routingNumbers[index].high, routingNumbers[index].low] {
                withUnsafeBytes(of: word.littleEndian) { bytes.append(contentsOf: $0) }
            }
        }
        return bytes
    }

    /// Reads the stored form; refuses a wrong header, a partial pair, malformed numbers and
    /// numbers out of order.
    public init(binary bytes: UnsafeRawBufferPointer) throws(ModelError) {
        let header = LRNTable.magic.count
        guard bytes.count >= header, bytes.prefix(4).elementsEqual(LRNTable.magic.prefix(4)), (bytes.count - header) % 32 == 0 else {
            throw ModelError.inconsistent("stored LRN table: \(bytes.count) bytes do not start with VLR1 or do not hold whole 32-byte pairs")
        }
        let count = (bytes.count - header) / 32
        func word(_ offset: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
        var numbers: [PackedNumber] = [], routing: [PackedNumber] = []
        numbers.reserveCapacity(count)
        routing.reserveCapacity(count)
        for index in 0..<count {
            let offset = header + index * 32
            let number = PackedNumber(high: word(offset), low: word(offset + 8))
            let lrn = PackedNumber(high: word(offset + 16), low: word(offset + 24))
            guard number.isWellFormed, lrn.isWellFormed, numbers.last.map({ $0 < number }) ?? true else {
                throw ModelError.inconsistent("stored LRN table: pair \(index + 1) of \(count) is malformed or out of order")
            }
            numbers.append(number)
            routing.append(lrn)
        }
        self.numbers = numbers
        self.routingNumbers = routing
    }
}

/// The file `vosctl lrn import` reads: one `NUMBER,LRN` pair a line (a comma, a semicolon or
/// spaces between them), `#` comments and blank lines skipped, and a first line that names the
/// columns (`number,lrn`) skipped. Any other line that is not two numbers is an error naming the
/// line; so is a number given twice with different LRNs (both lines named). A file is taken whole
/// or not at all.
public enum LRNFile {
    public struct LineError: Error, Sendable, Equatable, CustomStringConvertible {
        public let line: Int
        public let reason: String

        public init(line: Int, reason: String) {
            self.line = line
            self.reason = reason
        }

        public var description: String { "line \(line): \(reason)" }
    }

    public static func parse(_ text: String) throws(LineError) -> LRNTable {
        var pairs: [(number: PackedNumber, lrn: PackedNumber, line: Int)] = []
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = rawLine
            if lineNumber == 1 && line.hasPrefix("\u{FEFF}") { line = line.dropFirst() }
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let fields = line.split(whereSeparator: { $0 == "," || $0 == ";" || $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            if pairs.isEmpty && lineNumber <= 1 && fields.count == 2 && fields[0].lowercased() == "number" && fields[1].lowercased() == "lrn" {
                continue
            }
            let shown = String(line.trimmingSpaces.prefix(60))
            guard fields.count == 2 else {
                throw LineError(line: lineNumber, reason: "'\(shown)' is not NUMBER,LRN (two numbers, comma-separated)")
            }
            guard let number = PackedNumber(String(fields[0])) else {
                throw LineError(line: lineNumber, reason: "number '\(fields[0])' is not 1-32 characters of 0-9, +, *, #")
            }
            guard let lrn = PackedNumber(String(fields[1])) else {
                throw LineError(line: lineNumber, reason: "LRN '\(fields[1])' is not 1-32 characters of 0-9, +, *, #")
            }
            pairs.append((number, lrn, lineNumber))
        }
        // Stable, so of two lines with one number the earlier comes first in the error.
        pairs.sort { $0.number != $1.number ? $0.number < $1.number : $0.line < $1.line }
        var numbers: [PackedNumber] = [], routing: [PackedNumber] = []
        numbers.reserveCapacity(pairs.count)
        routing.reserveCapacity(pairs.count)
        var lastLine = 0
        for pair in pairs {
            if let last = numbers.last, last == pair.number {
                guard routing[routing.count - 1] == pair.lrn else {
                    throw LineError(line: pair.line, reason: "number \(pair.number.string) has LRN \(pair.lrn.string) here and \(routing[routing.count - 1].string) on line \(lastLine)")
                }
                continue
            }
            numbers.append(pair.number)
            routing.append(pair.lrn)
            lastLine = pair.line
        }
        return LRNTable(sortedNumbers: numbers, routingNumbers: routing)
    }
}

/// When and how the LRN table is consulted for a call (`SS_LRN_*`), and what the call is then
/// routed and rated on. Pure: the B2BUA asks it once per INVITE.
public struct LRNPolicy: Sendable, Equatable {
    public enum Resolution: Sendable, Equatable {
        /// `SS_LRN_ENABLE` 0: the table is not consulted.
        case notConsulted
        /// The callee is ported: `routingNumber` is its LRN; `matchOn` is what routing and rating
        /// use (the LRN, or the dialled number when `SS_LRN_ROUTING_NUMBER` is 0).
        case ported(routingNumber: String, matchOn: String)
        /// Not in the table, routed on the dialled number.
        case notPorted
        /// Not in the table and `SS_LRN_FAILURE_ACTION` 1: refused (404, LRNNotFound).
        case refused
    }

    public var enabled: Bool
    public var eatPrefixLength: Int
    public var refuseUnknown: Bool
    public var routeOnLRN: Bool

    public init(enabled: Bool, eatPrefixLength: Int = 0, refuseUnknown: Bool = false, routeOnLRN: Bool = true) {
        self.enabled = enabled
        self.eatPrefixLength = max(0, eatPrefixLength)
        self.refuseUnknown = refuseUnknown
        self.routeOnLRN = routeOnLRN
    }

    public init(parameters: ParameterSet) {
        self.init(enabled: parameters.bool(.lrnEnable), eatPrefixLength: parameters.int(.lrnEatPrefixLength),
                  refuseUnknown: parameters.int(.lrnFailureAction) == 1, routeOnLRN: parameters.bool(.lrnRoutingNumber))
    }

    /// `callee` is the number after the mapping gateway's dial plan; the first
    /// `eatPrefixLength` characters (a trunk or country prefix the table does not hold) are
    /// dropped before the lookup.
    public func resolve(_ callee: String, in table: LRNTable) -> Resolution {
        guard enabled else { return .notConsulted }
        let key = callee.utf8.count > eatPrefixLength ? String(callee.dropFirst(eatPrefixLength)) : callee
        guard let lrn = table.routingNumber(of: key) else { return refuseUnknown ? .refused : .notPorted }
        return .ported(routingNumber: lrn, matchOn: routeOnLRN ? lrn : callee)
    }
}
