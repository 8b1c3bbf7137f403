/// One geofencing range (requirements §7, §11): consecutive addresses of one family, written the
/// way VOS3000 writes them (a start address and a count) or as a CIDR prefix or a start-end pair,
/// and what geofencing does with an address in it. Owns a range's validation (count, end of the
/// address space, label) and its text forms; the lookup over many ranges is `Geofence`.
public struct GeofenceRange: Sendable, Hashable {
    /// What an address in the range gets. Ranges never overlap, so an address is in one at most.
    public enum Mode: String, Sendable, Codable, CaseIterable {
        /// Not checked: the address passes whatever the other ranges say (own networks, partners).
        case ignore
        /// Refused.
        case forbidden
        /// Passes; once any Allow range exists, an address in no range at all is refused.
        case allow
    }

    /// The longest label kept (a country code, a country name, a partner).
    public static let maximumLabelLength = 64

    public let start: IPAddress
    /// The range's last address (inclusive), of `start`'s family.
    public let last: IPAddress
    public var mode: Mode
    /// What the operator calls it, typically the country code of an imported country range.
    public var label: String?

    /// `count` addresses from `start`: at least one, not past the end of the family's space.
    public init(start: IPAddress, count: UInt128, mode: Mode, label: String? = nil) throws(ModelError) {
        guard count >= 1 else {
            throw ModelError.outOfRange(field: "count", value: "0", range: "1 or more addresses")
        }
        let room = start.addressSpaceEnd - start.integer
        guard count - 1 <= room else {
            throw ModelError.invalid(field: "count", value: String(count),
                                     expected: "at most \(room + 1) addresses from \(start): a range may not run past \(IPAddress(integer: start.addressSpaceEnd, ipv4: start.isIPv4))")
        }
        try self.init(start: start, last: IPAddress(integer: start.integer + (count - 1), ipv4: start.isIPv4), mode: mode, label: label)
    }

    /// From `start` to `last`, both included.
    public init(start: IPAddress, last: IPAddress, mode: Mode, label: String? = nil) throws(ModelError) {
        guard start.isIPv4 == last.isIPv4 else {
            throw ModelError.invalid(field: "range", value: "\(start)-\(last)", expected: "a start and an end of the same address family")
        }
        guard start <= last else {
            throw ModelError.invalid(field: "range", value: "\(start)-\(last)", expected: "an end address at or after the start")
        }
        self.start = start
        self.last = last
        self.mode = mode
        self.label = try Self.validatedLabel(label)
    }

    /// Every address of `prefix`, which must be written as its network (`10.1.0.0/16`, not `10.1.2.3/16`).
    public init(prefix: IPPrefix, mode: Mode, label: String? = nil) throws(ModelError) {
        guard prefix.address == prefix.network else {
            throw ModelError.invalid(field: "cidr", value: prefix.description,
                                     expected: "a network address without host bits, such as \(IPPrefix(address: prefix.network, length: prefix.length))")
        }
        let span = prefix.address.addressSpaceEnd >> UInt128(prefix.length)
        try self.init(start: prefix.address, last: IPAddress(integer: prefix.address.integer | span, ipv4: prefix.isIPv4),
                      mode: mode, label: label)
    }

    public var isIPv4: Bool { start.isIPv4 }

    /// How many addresses, in decimal (an IPv6 range may hold more than any fixed-width count shows).
    public var count: String {
        let span = last.integer - start.integer
        return span == .max ? "340282366920938463463374607431768211456" : String(span + 1)
    }

    public func contains(_ address: IPAddress) -> Bool {
        address.isIPv4 == isIPv4 && start <= address && address <= last
    }

    public func overlaps(_ other: GeofenceRange) -> Bool {
        other.isIPv4 == isIPv4 && other.start <= last && start <= other.last
    }

    /// `START-LAST`, or the one address.
    public var span: String { start == last ? start.description : "\(start)-\(last)" }

    private static func validatedLabel(_ label: String?) throws(ModelError) -> String? {
        guard let text = label?.trimmingSpaces, !text.isEmpty else { return nil }
        guard text.count <= maximumLabelLength, !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ModelError.invalid(field: "label", value: text, expected: "printable text of at most \(maximumLabelLength) characters, such as a country code")
        }
        return text
    }
}

extension GeofenceRange: CustomStringConvertible {
    /// What messages name: `10.0.0.0-10.0.0.255 (forbidden, CN)`.
    public var description: String { "\(span) (\(mode.rawValue)\(label.map { ", " + $0 } ?? ""))" }
}

extension GeofenceRange: Comparable {
    /// By start address (IPv4 first), as the store keeps them and `Geofence` searches them.
    public static func < (lhs: GeofenceRange, rhs: GeofenceRange) -> Bool { lhs.start < rhs.start }
}

extension GeofenceRange: Codable {
    private enum CodingKeys: String, CodingKey { case start, last, count, mode, label }

    /// `start` with `last` (what vos writes) or with `count` (what an operator may write).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let start = try container.decode(IPAddress.self, forKey: .start)
        let mode = try container.decode(Mode.self, forKey: .mode)
        let label = try container.decodeIfPresent(String.self, forKey: .label)
        do {
            if let last = try container.decodeIfPresent(IPAddress.self, forKey: .last) {
                self = try GeofenceRange(start: start, last: last, mode: mode, label: label)
            } else {
                let text = try container.decode(String.self, forKey: .count)
                guard let count = UInt128(text) else {
                    throw ModelError.invalid(field: "count", value: text, expected: "a whole number of addresses")
                }
                self = try GeofenceRange(start: start, count: count, mode: mode, label: label)
            }
        } catch let error as ModelError {
            throw DecodingError.dataCorruptedError(forKey: .start, in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(start, forKey: .start)
        try container.encode(last, forKey: .last)
        try container.encode(count, forKey: .count)
        try container.encode(mode, forKey: .mode)
        try container.encodeIfPresent(label, forKey: .label)
    }
}

extension IPAddress {
    /// The address as one unsigned number (IPv4 in the low 32 bits): range arithmetic.
    public var integer: UInt128 {
        switch self {
        case let .v4(value): return UInt128(value)
        case let .v6(high, low): return UInt128(high) << 64 | UInt128(low)
        }
    }

    /// The address numbered `integer` in the IPv4 space (low 32 bits kept) or the IPv6 one.
    public init(integer: UInt128, ipv4: Bool) {
        self = ipv4 ? .v4(UInt32(truncatingIfNeeded: integer))
            : .v6(high: UInt64(truncatingIfNeeded: integer >> 64), low: UInt64(truncatingIfNeeded: integer))
    }

    /// The family's last address as a number: 2^32-1 or 2^128-1.
    var addressSpaceEnd: UInt128 { isIPv4 ? UInt128(UInt32.max) : .max }

    /// An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a dual-stack socket reports for an
    /// IPv4 peer) as the IPv4 address it carries; any other address as it is.
    public var unmappingIPv4: IPAddress {
        guard case let .v6(high, low) = self, high == 0, low >> 32 == 0xffff else { return self }
        return .v4(UInt32(truncatingIfNeeded: low))
    }
}
