#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address, parsed strictly (no hostnames) and printed in canonical form.
public enum IPAddress: Sendable, Hashable, Comparable {
    /// Host byte order.
    case v4(UInt32)
    /// Network byte order, 16 bytes.
    case v6(high: UInt64, low: UInt64)

    public init(parsing text: String, field: String = "ip") throws(ModelError) {
        let trimmed = text.trimmingSpaces
        var v4 = in_addr()
        if inet_pton(AF_INET, trimmed, &v4) == 1 {
            self = .v4(UInt32(bigEndian: v4.s_addr))
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, trimmed, &v6) == 1 {
            let (high, low) = withUnsafeBytes(of: &v6) { raw -> (UInt64, UInt64) in
                var high: UInt64 = 0
                var low: UInt64 = 0
                for index in 0..<8 { high = high << 8 | UInt64(raw[index]) }
                for index in 8..<16 { low = low << 8 | UInt64(raw[index]) }
                return (high, low)
            }
            self = .v6(high: high, low: low)
            return
        }
        throw ModelError.invalid(field: field, value: text, expected: "an IPv4 or IPv6 address such as 203.0.113.10")
    }

    public var isIPv4: Bool { if case .v4 = self { return true } else { return false } }

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
    public var description: String {
        switch self {
        case let .v4(value):
            return "\(value >> 24 & 0xff).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
        case let .v6(high, low):
            var address = in6_addr()
            withUnsafeMutableBytes(of: &address) { raw in
                for index in 0..<8 { raw[index] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(index))) }
                for index in 0..<8 { raw[8 + index] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(index))) }
            }
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

/// An address prefix such as `10.0.0.0/8` or `2001:db8::/32`; a bare address is a host prefix.
public struct IPPrefix: Sendable, Hashable, Codable, CustomStringConvertible {
    public var address: IPAddress
    public var length: Int

    public init(address: IPAddress, length: Int) {
        self.address = address
        self.length = length
    }

    public init(parsing text: String, field: String = "subnet") throws(ModelError) {
        let parts = text.trimmingSpaces.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let address = try IPAddress(parsing: String(parts[0]), field: field)
        let maximum = address.isIPv4 ? 32 : 128
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

    public var description: String { "\(address)/\(length)" }

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

/// Where a vendor gateway is reached: host (IP or DNS name), port and transport.
public struct SIPAddress: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Transport: String, Sendable, Codable, CaseIterable { case udp, tcp }

    public var host: String
    public var port: Int
    public var transport: Transport

    public init(host: String, port: Int = 5060, transport: Transport = .udp) {
        self.host = host
        self.port = port
        self.transport = transport
    }

    /// Parses `HOST:PORT`, `HOST`, `[IPv6]:PORT`; the port defaults to 5060.
    public init(parsing text: String, field: String = "address") throws(ModelError) {
        let trimmed = text.trimmingSpaces
        var host = trimmed
        var port = 5060
        if trimmed.hasPrefix("[") {
            guard let close = trimmed.firstIndex(of: "]") else {
                throw ModelError.invalid(field: field, value: text, expected: "[IPv6]:PORT")
            }
            host = String(trimmed[trimmed.index(after: trimmed.startIndex)..<close])
            let rest = trimmed[trimmed.index(after: close)...]
            if !rest.isEmpty {
                guard rest.first == ":", let parsed = Int(rest.dropFirst()) else {
                    throw ModelError.invalid(field: field, value: text, expected: "[IPv6]:PORT")
                }
                port = parsed
            }
            _ = try IPAddress(parsing: host, field: field)
        } else if trimmed.filter({ $0 == ":" }).count == 1, let colon = trimmed.firstIndex(of: ":") {
            host = String(trimmed[..<colon])
            guard let parsed = Int(trimmed[trimmed.index(after: colon)...]) else {
                throw ModelError.invalid(field: field, value: text, expected: "HOST:PORT with a numeric port")
            }
            port = parsed
        } else if trimmed.contains(":") {
            _ = try IPAddress(parsing: trimmed, field: field)
        }
        guard (1...65535).contains(port) else {
            throw ModelError.outOfRange(field: "\(field) port", value: String(port), range: "1-65535")
        }
        guard SIPAddress.isValidHost(host) else {
            throw ModelError.invalid(field: field, value: text, expected: "an IP address or DNS name, optionally with :PORT")
        }
        self.host = host
        self.port = port
        self.transport = .udp
    }

    static func isValidHost(_ host: String) -> Bool {
        if (try? IPAddress(parsing: host)) != nil { return true }
        guard !host.isEmpty, host.count <= 253 else { return false }
        // A dotted-quad-looking name that failed to parse as IPv4 (e.g. 300.1.1.1) is a typo, not a host name.
        if host.allSatisfy({ $0.isASCIIDigit || $0 == "." }) { return false }
        return host.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
