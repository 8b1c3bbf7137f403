/// `SS_ADVERTISED_ADDRESSES`: for a local address of this host, the address a NAT in front of it
/// presents to peers (Kamailio's `advertise`, rtpengine's `interface=IP!PUBLIC`). vos advertises
/// the public address in Via, Contact and SDP wherever the route to a peer leaves from the local one.
public struct AddressMap: Sendable, Hashable, CustomStringConvertible {
    public private(set) var pairs: [(local: IPAddress, public: IPAddress)]

    public init() { pairs = [] }

    /// Parses `LOCAL=PUBLIC[,LOCAL=PUBLIC...]`; empty text is the empty map.
    public init(parsing text: String, field: String = "advertised addresses") throws(ModelError) {
        pairs = []
        for item in text.split(separator: ",").map({ $0.trimmingSpaces }) where !item.isEmpty {
            let sides = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard sides.count == 2 else {
                throw ModelError.invalid(field: field, value: item, expected: "LOCAL=PUBLIC, e.g. 192.0.2.1=203.0.113.7")
            }
            let local = try IPAddress(parsing: String(sides[0]), field: field)
            let exposed = try IPAddress(parsing: String(sides[1]), field: field)
            guard !local.isUnspecified, !exposed.isUnspecified else {
                throw ModelError.invalid(field: field, value: item, expected: "real addresses on both sides, not 0.0.0.0 or ::")
            }
            guard local.isIPv4 == exposed.isIPv4 else {
                throw ModelError.invalid(field: field, value: item, expected: "both addresses of one family (IPv4 or IPv6)")
            }
            guard !exposed.isLoopback || local.isLoopback else {
                throw ModelError.invalid(field: field, value: item, expected: "a public address that peers can reach, not a loopback address")
            }
            guard !pairs.contains(where: { $0.local == local }) else {
                throw ModelError.inconsistent("\(field): \(local) is mapped twice")
            }
            pairs.append((local, exposed))
        }
    }

    /// What to advertise for `local`: its public address when one is configured, else itself.
    public func advertised(for local: IPAddress) -> IPAddress {
        pairs.first { $0.local == local }?.public ?? local
    }

    public var isEmpty: Bool { pairs.isEmpty }

    public var description: String { pairs.map { "\($0.local)=\($0.public)" }.joined(separator: ",") }

    public static func == (lhs: AddressMap, rhs: AddressMap) -> Bool { lhs.description == rhs.description }
    public func hash(into hasher: inout Hasher) { hasher.combine(description) }
}

extension IPAddress {
    /// The address as a URI or Via host: IPv6 in brackets (RFC 3261 §25.1).
    public var uriHost: String { isIPv4 ? description : "[\(description)]" }

    /// 127.0.0.0/8 or ::1.
    public var isLoopback: Bool {
        switch self {
        case let .v4(value): return value >> 24 == 127
        case let .v6(high, low): return high == 0 && low == 1
        }
    }

    /// 0.0.0.0 or ::, the wildcard a socket binds to for every address.
    public var isUnspecified: Bool {
        switch self {
        case let .v4(value): return value == 0
        case let .v6(high, low): return high == 0 && low == 0
        }
    }
}

extension ParameterSet {
    /// `SS_ADVERTISED_ADDRESSES`, already validated on write.
    public var advertisedAddresses: AddressMap {
        (try? AddressMap(parsing: text(.advertisedAddresses))) ?? AddressMap()
    }

    /// `SS_MEDIA_IP`, nil when media legs bind to every address.
    public var mediaIP: IPAddress? {
        let value = text(.mediaIP)
        return value.isEmpty ? nil : try? IPAddress(parsing: value)
    }
}
