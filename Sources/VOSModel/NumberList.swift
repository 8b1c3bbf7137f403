/// A static black or white list group (requirements §7): full numbers, matched whole, on the
/// caller, the callee or both. Assigned to gateways of either kind by name (`listGroups`): a
/// number in a black list refuses the call (403 Blacklisted); a white list assigned for a target
/// lets only its numbers through for that target. The numbers are a `NumberSet` (sorted, packed),
/// so a list of millions is one contiguous array; the store keeps it in a binary record.
public struct NumberList: Sendable, Hashable {
    public enum Kind: String, Sendable, Codable, CaseIterable { case black, white }
    public enum Target: String, Sendable, Codable, CaseIterable {
        case caller, callee, both

        /// Whether a list with this target judges callers (`.caller`) or callees (`.callee`).
        public func covers(_ side: Target) -> Bool { self == .both || self == side }
    }

    /// The most numbers one list holds: 16 bytes each in the controller's memory.
    public static let maximumNumbers = 10_000_000

    public var name: String
    public var kind: Kind
    public var target: Target
    public var numbers: NumberSet

    public init(name: String, kind: Kind, target: Target = .both, numbers: NumberSet = NumberSet()) {
        self.name = name
        self.kind = kind
        self.target = target
        self.numbers = numbers
    }

    /// Every number in a `NumberSet` is a valid dial string by construction; the name and the
    /// size are what is left to check.
    public func validate() throws(ModelError) {
        try GatewayName.validate(name, field: "list name")
        guard numbers.count <= NumberList.maximumNumbers else {
            throw ModelError.outOfRange(field: "number list '\(name)' size", value: String(numbers.count), range: "0-\(NumberList.maximumNumbers)")
        }
    }
}

extension NumberList {
    /// A gateway's `listGroups`: plain names, each once. Whether they exist is the store's check.
    public static func validateAssignment(_ names: [String], gateway: String) throws(ModelError) {
        for name in names { try GatewayName.validate(name, field: "gateway '\(gateway)' --list-groups name") }
        guard Set(names).count == names.count else {
            throw ModelError.inconsistent("gateway '\(gateway)' names the same number list twice in --list-groups")
        }
    }
}
