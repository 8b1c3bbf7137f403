#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The binary forms of an address: network-order bytes (nftables set keys, netlink attributes)
/// and the kernel's `in_addr` / `in6_addr` (socket addresses, inet_pton/inet_ntop). The only
/// place that converts between those and `IPAddress`; the struct conversions allocate nothing.
extension IPAddress {
    /// 4 bytes make an IPv4 address, 16 an IPv6 one (network order); any other count is nil.
    public init?<Bytes: Collection>(bytes: Bytes) where Bytes.Element == UInt8 {
        switch bytes.count {
        case 4:
            self = .v4(bytes.reduce(0) { $0 << 8 | UInt32($1) })
        case 16:
            var high: UInt64 = 0, low: UInt64 = 0
            for (index, byte) in bytes.enumerated() {
                if index < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
            }
            self = .v6(high: high, low: low)
        default:
            return nil
        }
    }

    /// Network order: 4 bytes for IPv4, 16 for IPv6.
    public var bytes: [UInt8] {
        switch self {
        case let .v4(value):
            return (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * UInt32($0))) }
        case let .v6(high, low):
            return (0..<16).map { index in
                let half = index < 8 ? high : low
                return UInt8(truncatingIfNeeded: half >> (56 - 8 * UInt64(index % 8)))
            }
        }
    }

    public init(_ address: in_addr) {
        self = .v4(UInt32(bigEndian: address.s_addr))
    }

    public init(_ address: in6_addr) {
        self = withUnsafeBytes(of: address) { raw in
            .v6(high: UInt64(bigEndian: raw.loadUnaligned(as: UInt64.self)),
                low: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        }
    }

    /// The IPv4 kernel form; 0.0.0.0 for an IPv6 address.
    public var inAddress: in_addr {
        guard case let .v4(value) = self else { return in_addr() }
        return in_addr(s_addr: value.bigEndian)
    }

    /// The IPv6 kernel form; `::` for an IPv4 address.
    public var in6Address: in6_addr {
        var address = in6_addr()
        guard case let .v6(high, low) = self else { return address }
        withUnsafeMutableBytes(of: &address) { raw in
            raw.storeBytes(of: high.bigEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: low.bigEndian, toByteOffset: 8, as: UInt64.self)
        }
        return address
    }
}
