/// The full numbers of a number list: packed (`PackedNumber`), sorted and unique in one
/// contiguous array, so membership is a binary search (nothing allocated) and the stored form is
/// that array's bytes, read back with one copy. A search first finds its block of 256 numbers
/// (4 KiB) in `fences`, every 256th number (62 KiB for a million): on the call path the lists
/// are cold, and a plain binary search over 16 MB touches a new page at most of its 20 steps,
/// where this touches the small fence array and one page. (The number-lists benchmark could not
/// resolve the difference through the controller on this VM; see its section in
/// docs/SUBSCRIBERS-AND-FRAUD.md.)
/// Owns the set and its binary form; the store decides where the bytes live, Softswitch how
/// lists are applied to a call.
public struct NumberSet: Sendable, Hashable {
    /// Strictly increasing.
    public private(set) var packed: [PackedNumber]
    /// `packed[0]`, `packed[256]`, ...: derived from `packed`, set wherever it is.
    private var fences: [PackedNumber]
    static let fenceStride = 256

    public init() {
        packed = []
        fences = []
    }

    private static func fences(of sorted: [PackedNumber]) -> [PackedNumber] {
        stride(from: 0, to: sorted.count, by: fenceStride).map { sorted[$0] }
    }

    /// Any packed numbers, in any order, repeats allowed.
    public init(unordered: [PackedNumber]) {
        var sorted = unordered
        sorted.sort()
        var unique = 0
        for index in sorted.indices where unique == 0 || sorted[index] != sorted[unique - 1] {
            sorted[unique] = sorted[index]
            unique += 1
        }
        sorted.removeLast(sorted.count - unique)
        packed = sorted
        fences = Self.fences(of: sorted)
    }

    /// Numbers as text, each checked as `NumberPrefix` checks it (`field` names them in the error).
    public init<Numbers: Sequence<String>>(validating numbers: Numbers, field: String) throws(ModelError) {
        var packed: [PackedNumber] = []
        for number in numbers {
            guard let value = PackedNumber(number) else {
                throw ModelError.invalid(field: field, value: number, expected: "1-32 characters of 0-9, +, *, #")
            }
            packed.append(value)
        }
        self.init(unordered: packed)
    }

    private init(sorted: [PackedNumber]) {
        packed = sorted
        fences = Self.fences(of: sorted)
    }

    public var count: Int { packed.count }
    public var isEmpty: Bool { packed.isEmpty }

    /// Whether `number` is in the set; a number that is not a dial string never is.
    @inline(__always)
    public func contains(_ number: String) -> Bool {
        guard !packed.isEmpty, let value = PackedNumber(number) else { return false }
        return contains(value)
    }

    public func contains(_ value: PackedNumber) -> Bool {
        // The block: the last fence not above the value.
        let block = fences.withUnsafeBufferPointer { fences in
            var low = 0, high = fences.count
            while low < high {
                let middle = (low + high) / 2
                if fences[middle] <= value { low = middle + 1 } else { high = middle }
            }
            return low - 1
        }
        guard block >= 0 else { return false }
        return packed.withUnsafeBufferPointer { sorted in
            var low = block * Self.fenceStride, high = min(low + Self.fenceStride, sorted.count)
            while low < high {
                let middle = (low + high) / 2
                let probe = sorted[middle]
                if probe == value { return true }
                if probe < value { low = middle + 1 } else { high = middle }
            }
            return false
        }
    }

    /// Both sets' numbers (a merge: linear, no sort).
    public func union(_ other: NumberSet) -> NumberSet {
        if other.isEmpty { return self }
        if isEmpty { return other }
        var merged: [PackedNumber] = []
        merged.reserveCapacity(count + other.count)
        var left = 0, right = 0
        while left < packed.count && right < other.packed.count {
            let a = packed[left], b = other.packed[right]
            if a < b { merged.append(a); left += 1 } else if b < a { merged.append(b); right += 1 } else { merged.append(a); left += 1; right += 1 }
        }
        merged.append(contentsOf: packed[left...])
        merged.append(contentsOf: other.packed[right...])
        return NumberSet(sorted: merged)
    }

    /// This set less `other`'s numbers.
    public func subtracting(_ other: NumberSet) -> NumberSet {
        if other.isEmpty || isEmpty { return self }
        var kept: [PackedNumber] = []
        kept.reserveCapacity(count)
        var right = 0
        for value in packed {
            while right < other.packed.count && other.packed[right] < value { right += 1 }
            if right < other.packed.count && other.packed[right] == value { continue }
            kept.append(value)
        }
        return NumberSet(sorted: kept)
    }

    /// The numbers as text, in order, at most `limit` of them.
    public func numbers(limit: Int = .max) -> [String] {
        packed.prefix(limit).map(\.string)
    }

    // MARK: Binary form

    /// `VNS1` and a reserved word, then each number as two little-endian words (high, low):
    /// 16 bytes a number, in set order.
    static let magic: [UInt8] = Array("VNS1".utf8) + [0, 0, 0, 0]

    /// The stored form.
    public var binary: [UInt8] {
        var bytes = NumberSet.magic
        bytes.reserveCapacity(NumberSet.magic.count + packed.count * 16)
        for value in packed {
            withUnsafeBytes(of: value.high.littleEndian) { bytes.append(contentsOf: $0) }
            withUnsafeBytes(of: value.low.littleEndian) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    /// Reads the stored form (straight from the store's memory map: one copy). Refuses a wrong
    /// header, a size that is not whole numbers, and numbers out of order or malformed.
    public init(binary bytes: UnsafeRawBufferPointer) throws(ModelError) {
        let header = NumberSet.magic.count
        guard bytes.count >= header, bytes.prefix(4).elementsEqual(NumberSet.magic.prefix(4)), (bytes.count - header) % 16 == 0 else {
            throw ModelError.inconsistent("stored number set: \(bytes.count) bytes do not start with VNS1 or do not hold whole 16-byte numbers")
        }
        let count = (bytes.count - header) / 16
        let values = [PackedNumber](unsafeUninitializedCapacity: count) { buffer, initialized in
            for index in 0..<count {
                let offset = header + index * 16
                buffer[index] = PackedNumber(high: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)),
                                             low: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)))
            }
            initialized = count
        }
        for index in values.indices {
            guard values[index].isWellFormed, index == 0 || values[index - 1] < values[index] else {
                throw ModelError.inconsistent("stored number set: entry \(index + 1) of \(count) is malformed or out of order")
            }
        }
        packed = values
        fences = Self.fences(of: values)
    }
}
