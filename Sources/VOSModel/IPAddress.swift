#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address, parsed strictly (no hostnames) and printed in canonical form.
///
/// The one IP address type and the one parser of vos: every module that turns text into an
/// address comes here (`init?(_:)` for text taken exactly as given, `init(parsing:field:)` for
/// operator input). Held as integers, so making, copying, comparing and hashing one allocates
/// nothing; `IPAddress+Bytes.swift` has the network-order and kernel (`in_addr`, `in6_addr`) forms.
public enum IPAddress: Sendable, Hashable, Comparable {
    /// Host byte order.
    case v4(UInt32)
    /// The 16 bytes in network order, as two big-endian halves.
    case v6(high: UInt64, low: UInt64)

    /// Parses dotted-quad IPv4 or any RFC 4291 IPv6 text, exactly as given: no spaces, brackets
    /// or names. Nil when the text is not an address.
    public init?(_ text: some StringProtocol) {
        let text = String(text)
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self.init(v4)
            return
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        self.init(v6)
    }

    /// Parses operator input (surrounding white space ignored); the error names `field`.
    public init(parsing text: String, field: String = "ip") throws(ModelError) {
        guard let address = IPAddress(text.trimmingSpaces) else {
            throw ModelError.invalid(field: field, value: text, expected: "an IPv4 or IPv6 address such as 203.0.113.10")
        }
        self = address
    }

    public var isIPv4: Bool { if case .v4 = self { return true } else { return false } }

    /// 32 or 128.
    public var bitWidth: Int { isIPv4 ? 32 : 128 }

    /// IPv4 before IPv6, then numerically.
    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        switch (lhs, rhs) {
        case let (.v4(a), .v4(b)): return a < b
        case (.v4, .v6): return true
        case (.v6, .v4): return false
        case let (.v6(ah, al), .v6(bh, bl)): return (ah, al) < (bh, bl)
        }
    }
}

extension IPAddress: CustomStringConvertible {
    /// Dotted quad, or IPv6 with inet_ntop's canonical compression (lower case, longest zero run as `::`).
    public var description: String {
        switch self {
        case let .v4(value):
            return "\(value >> 24 & 0xff).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
        case .v6:
            var address = in6Address
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            guard inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else { return "::" }
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }
}

extension IPAddress: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do { self = try IPAddress(parsing: text) } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
