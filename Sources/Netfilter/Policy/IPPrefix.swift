import Glibc

/// An IPv4 or IPv6 address held as network-order bytes, which is how both nftables set
/// keys and the wire carry it.
public enum IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    case v4([UInt8])
    case v6([UInt8])

    /// Parses dotted-quad IPv4 or any RFC 4291 IPv6 text form.
    public init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self = .v4(withUnsafeBytes(of: &v4) { Array($0) })
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            self = .v6(withUnsafeBytes(of: &v6) { Array($0) })
            return
        }
        return nil
    }

    public var bytes: [UInt8] {
        switch self {
        case .v4(let b), .v6(let b): return b
        }
    }

    public var isIPv4: Bool { if case .v4 = self { return true } else { return false } }

    /// Bit width of the address family.
    public var bitWidth: Int { isIPv4 ? 32 : 128 }

    /// The text form nft prints (inet_ntop's canonical compression for IPv6).
    public var description: String {
        let family = isIPv4 ? AF_INET : AF_INET6
        var out = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let ok = bytes.withUnsafeBytes { raw in
            inet_ntop(family, raw.baseAddress, &out, socklen_t(out.count)) != nil
        }
        guard ok else { return "?" }
        return String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        if lhs.isIPv4 != rhs.isIPv4 { return lhs.isIPv4 }
        return lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}

/// An address with a prefix length; a bare address is a host prefix (/32 or /128).
public struct IPPrefix: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Network address with host bits cleared, so equal networks compare equal.
    public let network: IPAddress
    public let length: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let first = parts.first, let address = IPAddress(first) else { return nil }
        var length = address.bitWidth
        if parts.count == 2 {
            guard let parsed = Int(parts[1]), parsed >= 0, parsed <= address.bitWidth else { return nil }
            length = parsed
        }
        self.init(address: address, length: length)
    }

    public init(address: IPAddress, length: Int) {
        let clamped = max(0, min(length, address.bitWidth))
        let masked = zip(address.bytes, IPPrefix.maskBytes(length: clamped, byteCount: address.bytes.count)).map { $0 & $1 }
        self.network = address.isIPv4 ? .v4(masked) : .v6(masked)
        self.length = clamped
    }

    public var isIPv4: Bool { network.isIPv4 }
    public var isHost: Bool { length == network.bitWidth }

    /// nft prints host prefixes without "/len".
    public var description: String { isHost ? network.description : "\(network)/\(length)" }

    public func contains(_ other: IPPrefix) -> Bool {
        guard other.isIPv4 == isIPv4, other.length >= length else { return false }
        return IPPrefix(address: other.network, length: length).network == network
    }

    /// First address after the prefix, or nil when the prefix runs to the end of the address space.
    public var endExclusive: [UInt8]? {
        var bytes = zip(network.bytes, IPPrefix.maskBytes(length: length, byteCount: network.bytes.count))
            .map { $0 | ~$1 }
        for index in bytes.indices.reversed() {
            if bytes[index] == 0xff { bytes[index] = 0 } else { bytes[index] += 1; return bytes }
        }
        return nil
    }

    static func maskBytes(length: Int, byteCount: Int) -> [UInt8] {
        (0..<byteCount).map { index in
            let bits = max(0, min(8, length - index * 8))
            return bits == 0 ? 0 : UInt8(truncatingIfNeeded: 0xff << (8 - bits))
        }
    }

    public static func < (lhs: IPPrefix, rhs: IPPrefix) -> Bool {
        lhs.network == rhs.network ? lhs.length < rhs.length : lhs.network < rhs.network
    }

    /// Sorted, with prefixes covered by another one removed: interval sets reject overlaps.
    public static func normalized(_ prefixes: [IPPrefix]) -> [IPPrefix] {
        let sorted = Set(prefixes).sorted()
        var kept: [IPPrefix] = []
        for prefix in sorted where !kept.contains(where: { $0.contains(prefix) }) {
            kept.append(prefix)
        }
        return kept
    }
}
