/// A dial string (1-32 characters of 0-9, `+`, `*`, `#`: what `NumberPrefix` accepts) packed into
/// two machine words, four bits a character, the first character in the top bits of `high`, zero
/// after the last. Number lists and prefix sets compare and hash these instead of strings: a
/// lookup at call setup reads the number's UTF-8 once and allocates nothing.
///
/// The order of packed values is the strings' order with the alphabet 0 < 1 < ... < 9 < + < * < #
/// and a prefix before its extensions, so a sorted list of them reads as a sorted list of numbers.
/// Owns the packing only: sets and matching are `NumberSet` (VOSModel) and `PrefixSet` (Softswitch).
public struct PackedNumber: Hashable, Comparable, Sendable {
    public static let maximumLength = 32

    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The whole of `number`, or nil when it is empty, longer than 32 characters or holds a
    /// character that is not a dial character (such a number is in no list).
    public init?(_ number: String) {
        let utf8 = number.utf8
        guard let packed = utf8.withContiguousStorageIfAvailable({ PackedNumber.whole($0) }) ?? PackedNumber.whole(Array(utf8)) else {
            return nil
        }
        self = packed
    }

    /// The packing of a whole number given as UTF-8 bytes (a line of a list file).
    public static func whole<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> PackedNumber? {
        guard !bytes.isEmpty, bytes.count <= maximumLength else { return nil }
        let (packed, length) = leading(bytes)
        return length == bytes.count ? packed : nil
    }

    /// The longest run of dial characters `number` starts with (at most 32), packed, and its
    /// length: the part of the number a prefix can match.
    public static func leading(_ number: String) -> (packed: PackedNumber, length: Int) {
        let utf8 = number.utf8
        return utf8.withContiguousStorageIfAvailable { leading($0) } ?? leading(Array(utf8))
    }

    @inline(__always)
    static func leading<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> (packed: PackedNumber, length: Int) {
        var high: UInt64 = 0, low: UInt64 = 0
        var length = 0
        for byte in bytes {
            let code = nibble(byte)
            guard code != 0, length < maximumLength else { break }
            if length < 16 {
                high |= code << (60 - 4 * UInt64(length))
            } else {
                low |= code << (60 - 4 * UInt64(length - 16))
            }
            length += 1
        }
        return (PackedNumber(high: high, low: low), length)
    }

    /// '0'...'9' are 1...10, '+' 11, '*' 12, '#' 13; anything else 0 (not a dial character).
    @inline(__always)
    static func nibble(_ byte: UInt8) -> UInt64 {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt64(byte - UInt8(ascii: "0") + 1)
        case UInt8(ascii: "+"): return 11
        case UInt8(ascii: "*"): return 12
        case UInt8(ascii: "#"): return 13
        default: return 0
        }
    }

    private static let characters: [UInt8] = Array("0123456789+*#".utf8)

    /// The first `length` characters (which the caller knows the number has).
    @inline(__always)
    public func prefix(_ length: Int) -> PackedNumber {
        if length >= 32 { return self }
        if length >= 16 {
            return PackedNumber(high: high, low: length == 16 ? 0 : low & ~(UInt64.max >> (4 * UInt64(length - 16))))
        }
        return PackedNumber(high: length == 0 ? 0 : high & ~(UInt64.max >> (4 * UInt64(length))), low: 0)
    }

    /// Characters in the number.
    public var length: Int {
        // Nibbles up to and including the last one that is not zero.
        if low != 0 { return 16 + (67 - low.trailingZeroBitCount) / 4 }
        return (67 - high.trailingZeroBitCount) / 4
    }

    /// Whether every character is a dial character and nothing follows the first pad: what a
    /// record read from disk must hold. Word-wide bit tests (the store checks every number of
    /// a list it loads, millions at a configuration change).
    public var isWellFormed: Bool {
        // Bit 3 of each nibble: set when bits 3, 2 and 1 all are, i.e. a code of 14 or 15.
        let pastAlphabet: UInt64 = 0x8888_8888_8888_8888
        guard high != 0, high & (high << 1) & (high << 2) & pastAlphabet == 0,
              low & (low << 1) & (low << 2) & pastAlphabet == 0 else { return false }
        let highCharacters = PackedNumber.characterNibbles(high), lowCharacters = PackedNumber.characterNibbles(low)
        // Characters first, pads after: each word's character nibbles run from its top, and the
        // low word has some only when the high word is full.
        guard PackedNumber.runsFromTop(highCharacters), PackedNumber.runsFromTop(lowCharacters) else { return false }
        return highCharacters == .max || lowCharacters == 0
    }

    /// 0xF in each nibble that is not zero.
    @inline(__always)
    private static func characterNibbles(_ word: UInt64) -> UInt64 {
        ((word | word >> 1 | word >> 2 | word >> 3) & 0x1111_1111_1111_1111) &* 0xF
    }

    /// Whether the set bits of `mask` are its top bits, none below a clear one.
    @inline(__always)
    private static func runsFromTop(_ mask: UInt64) -> Bool {
        let clear = ~mask
        return clear & (clear &+ 1) == 0
    }

    /// The code of character `index` (0 past the end).
    @inline(__always)
    private subscript(index: Int) -> UInt64 {
        let word = index < 16 ? high : low
        return (word >> UInt64(60 - 4 * (index % 16))) & 0xF
    }

    /// The number as text.
    public var string: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length)
        for index in 0..<PackedNumber.maximumLength {
            let code = Int(self[index])
            guard code != 0 else { break }
            bytes.append(code <= 13 ? PackedNumber.characters[code - 1] : UInt8(ascii: "?"))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func < (lhs: PackedNumber, rhs: PackedNumber) -> Bool {
        lhs.high != rhs.high ? lhs.high < rhs.high : lhs.low < rhs.low
    }
}
