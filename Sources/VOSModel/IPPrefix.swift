/// An address prefix such as `10.0.0.0/8` or `2001:db8::/32`; a bare address is a host prefix.
///
/// Kept as written (`10.1.2.3/8` keeps its host bits, so a parameter reads back as the operator
/// typed it); `network` and `normalized` give the masked form that nftables sets need.
public struct IPPrefix: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var address: IPAddress
    public var length: Int

    /// `length` is clamped to the family's 0-32 or 0-128.
    public init(address: IPAddress, length: Int) {
        self.address = address
        self.length = max(0, min(length, address.bitWidth))
    }

    public init(parsing text: String, field: String = "subnet") throws(ModelError) {
        let parts = text.trimmingSpaces.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let address = try IPAddress(parsing: String(parts[0]), field: field)
        let maximum = address.bitWidth
        var length = maximum
        if parts.count == 2 {
            guard let parsed = Int(parts[1]), (0...maximum).contains(parsed) else {
                throw ModelError.invalid(field: field, value: text, expected: "ADDRESS/LENGTH with a length of 0-\(maximum)")
            }
            length = parsed
        }
        self.address = address
        self.length = length
    }

    /// `ADDRESS/LENGTH`, host prefixes included (`::1/128`).
    public var description: String { "\(address)/\(length)" }

    public var isIPv4: Bool { address.isIPv4 }

    /// /32 or /128.
    public var isHost: Bool { length == address.bitWidth }

    /// The address with its host bits cleared.
    public var network: IPAddress { address.masked(to: length) }

    /// Whether every address of `other` is in this prefix.
    public func contains(_ other: IPPrefix) -> Bool {
        other.isIPv4 == isIPv4 && other.length >= length && other.address.masked(to: length) == network
    }

    /// The first address after the prefix (network order), or nil when the prefix runs to the
    /// end of the address space: the end of an nftables interval.
    public var endExclusive: [UInt8]? {
        switch network {
        case let .v4(value):
            let last = value | ~IPAddress.mask32(length)
            return last == .max ? nil : IPAddress.v4(last + 1).bytes
        case let .v6(high, low):
            let lastHigh = high | ~IPAddress.mask64(length), lastLow = low | ~IPAddress.mask64(length - 64)
            if lastLow != .max { return IPAddress.v6(high: lastHigh, low: lastLow + 1).bytes }
            return lastHigh == .max ? nil : IPAddress.v6(high: lastHigh + 1, low: 0).bytes
        }
    }

    /// The netmask of a `length`-bit prefix in `byteCount` bytes (4: IPv4, 16: IPv6), network order.
    public static func maskBytes(length: Int, byteCount: Int) -> [UInt8] {
        (byteCount == 4 ? IPAddress.v4(.max) : IPAddress.v6(high: .max, low: .max)).masked(to: length).bytes
    }

    /// By address, then length.
    public static func < (lhs: IPPrefix, rhs: IPPrefix) -> Bool {
        lhs.address == rhs.address ? lhs.length < rhs.length : lhs.address < rhs.address
    }

    /// Masked to their networks, sorted, without duplicates or prefixes covered by another one:
    /// interval sets reject overlaps.
    public static func normalized(_ prefixes: [IPPrefix]) -> [IPPrefix] {
        let sorted = Set(prefixes.map { IPPrefix(address: $0.network, length: $0.length) }).sorted()
        var kept: [IPPrefix] = []
        for prefix in sorted where !kept.contains(where: { $0.contains(prefix) }) {
            kept.append(prefix)
        }
        return kept
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do { self = try IPPrefix(parsing: text) } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension IPAddress {
    /// The address with all but its first `length` bits cleared.
    public func masked(to length: Int) -> IPAddress {
        switch self {
        case let .v4(value): return .v4(value & Self.mask32(length))
        case let .v6(high, low): return .v6(high: high & Self.mask64(length), low: low & Self.mask64(length - 64))
        }
    }

    /// `bits` leading ones (0-32; out of range clamps).
    static func mask32(_ bits: Int) -> UInt32 { bits <= 0 ? 0 : bits >= 32 ? .max : .max << UInt32(32 - bits) }

    /// `bits` leading ones (0-64; out of range clamps).
    static func mask64(_ bits: Int) -> UInt64 { bits <= 0 ? 0 : bits >= 64 ? .max : .max << UInt64(64 - bits) }
}
