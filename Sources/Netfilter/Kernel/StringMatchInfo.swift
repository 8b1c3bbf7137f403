import CNftnl

/// `struct xt_string_info` (xt_string.h), the blob the compat `match` expression carries for the
/// xtables `string` match. Built byte by byte at the C struct's offsets so the pattern can be
/// read back from what the kernel returns (the kernel zeroes its private `config` pointer).
public struct StringMatchInfo: Equatable, Sendable {
    public var pattern: String
    public var algorithm: String
    public var fromOffset: UInt16
    public var toOffset: UInt16

    static let revision: UInt32 = 1
    static let size = MemoryLayout<xt_string_info>.size
    static let algorithmOffset = MemoryLayout<xt_string_info>.offset(of: \xt_string_info.algo) ?? 4
    static let patternOffset = MemoryLayout<xt_string_info>.offset(of: \xt_string_info.pattern) ?? 20
    static let lengthOffset = MemoryLayout<xt_string_info>.offset(of: \xt_string_info.patlen) ?? 148
    static let maxPattern = Int(XT_STRING_MAX_PATTERN_SIZE)
    static let maxAlgorithm = Int(XT_STRING_MAX_ALGO_NAME_SIZE)

    public init(pattern: String, algorithm: String = "bm", fromOffset: UInt16 = 0, toOffset: UInt16 = 65535) {
        self.pattern = pattern
        self.algorithm = algorithm
        self.fromOffset = fromOffset
        self.toOffset = toOffset
    }

    init?(blob: [UInt8]) {
        guard blob.count >= Self.lengthOffset + 2 else { return nil }
        let length = Int(blob[Self.lengthOffset])
        guard length <= Self.maxPattern else { return nil }
        fromOffset = blob[0..<2].withUnsafeBytes { $0.loadUnaligned(as: UInt16.self) }
        toOffset = blob[2..<4].withUnsafeBytes { $0.loadUnaligned(as: UInt16.self) }
        let algo = blob[Self.algorithmOffset..<Self.algorithmOffset + Self.maxAlgorithm].prefix { $0 != 0 }
        algorithm = String(decoding: algo, as: UTF8.self)
        pattern = String(decoding: blob[Self.patternOffset..<Self.patternOffset + length], as: UTF8.self)
    }

    /// Fails for patterns longer than the kernel's 128-byte limit.
    func blob() throws -> [UInt8] {
        let patternBytes = Array(pattern.utf8)
        guard !patternBytes.isEmpty, patternBytes.count <= Self.maxPattern else {
            throw NetfilterError.invalidInput("string match pattern must be 1...\(Self.maxPattern) bytes: \"\(pattern)\"")
        }
        var blob = [UInt8](repeating: 0, count: Self.size)
        // from_offset and to_offset are host-order u16 fields.
        blob.replaceSubrange(0..<2, with: withUnsafeBytes(of: fromOffset) { Array($0) })
        blob.replaceSubrange(2..<4, with: withUnsafeBytes(of: toOffset) { Array($0) })
        for (index, byte) in algorithm.utf8.prefix(Self.maxAlgorithm - 1).enumerated() {
            blob[Self.algorithmOffset + index] = byte
        }
        for (index, byte) in patternBytes.enumerated() { blob[Self.patternOffset + index] = byte }
        blob[Self.lengthOffset] = UInt8(patternBytes.count)
        return blob
    }
}
