import VOSModel

/// The nftables objects vos owns, as plain values: the compiler produces them, the renderer
/// prints them, the programmer sends them to the kernel and the audit compares them with what
/// the kernel holds.
public enum TableFamily: String, Sendable, Hashable {
    case inet, ip, ip6

    /// NFPROTO_* value netlink expects.
    var netlinkFamily: UInt16 {
        switch self {
        case .inet: return 1
        case .ip: return 2
        case .ip6: return 10
        }
    }
}

public struct Table: Sendable, Equatable {
    public var family: TableFamily
    public var name: String
    public var sets: [NamedSet]
    public var chains: [Chain]

    public init(family: TableFamily, name: String, sets: [NamedSet] = [], chains: [Chain] = []) {
        self.family = family
        self.name = name
        self.sets = sets
        self.chains = chains
    }

    public func set(named name: String) -> NamedSet? { sets.first { $0.name == name } }
}

public struct Chain: Sendable, Equatable {
    public struct BaseHook: Sendable, Equatable {
        public enum Kind: String, Sendable { case filter, nat }
        public enum Hook: String, Sendable {
            case prerouting, input, forward, output, postrouting

            var netlinkNumber: UInt32 {
                switch self {
                case .prerouting: return 0
                case .input: return 1
                case .forward: return 2
                case .output: return 3
                case .postrouting: return 4
                }
            }
        }
        public var kind: Kind
        public var hook: Hook
        public var priority: Int32
        /// Verdict for packets that fall off the end of the chain.
        public var policyAccepts: Bool

        public init(kind: Kind, hook: Hook, priority: Int32, policyAccepts: Bool = true) {
            self.kind = kind
            self.hook = hook
            self.priority = priority
            self.policyAccepts = policyAccepts
        }
    }

    public var name: String
    /// nil for a regular chain reached only by jump.
    public var hook: BaseHook?
    public var rules: [Rule]

    public init(name: String, hook: BaseHook? = nil, rules: [Rule] = []) {
        self.name = name
        self.hook = hook
        self.rules = rules
    }
}

/// One field of a set key or map value.
public enum SetFieldType: String, Sendable, Hashable {
    case ipv4Address = "ipv4_addr"
    case ipv6Address = "ipv6_addr"
    case inetService = "inet_service"

    /// nft's datatype number (TYPE_IPADDR etc.), which `nft list` uses to print keys.
    var typeNumber: UInt32 {
        switch self {
        case .ipv4Address: return 7
        case .ipv6Address: return 8
        case .inetService: return 13
        }
    }

    var byteLength: Int {
        switch self {
        case .ipv4Address: return 4
        case .ipv6Address: return 16
        case .inetService: return 2
        }
    }

    /// Concatenated keys give every field a whole number of 32-bit registers.
    var registerAlignedLength: Int { (byteLength + 3) / 4 * 4 }
}

public enum SetElementValue: Sendable, Hashable {
    case prefix(IPPrefix)
    case port(UInt16)
}

public struct NamedSet: Sendable, Equatable {
    public struct Flags: OptionSet, Sendable, Hashable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let constant = Flags(rawValue: 0x2)
        public static let interval = Flags(rawValue: 0x4)
        public static let map = Flags(rawValue: 0x8)
        public static let timeout = Flags(rawValue: 0x10)
        /// NFT_SET_EVAL: the packet path may add elements (nft's "dynamic").
        public static let dynamic = Flags(rawValue: 0x20)
        public static let concatenation = Flags(rawValue: 0x80)
    }

    public var name: String
    public var keyFields: [SetFieldType]
    /// Non-empty for a map.
    public var valueFields: [SetFieldType]
    public var flags: Flags
    public var size: UInt32?
    public var timeoutSeconds: Int?
    /// Every element carries its own counter (`counter` in the set declaration).
    public var elementCounters: Bool
    public var elements: [SetElementValue]
    /// Elements written by the packet path or by ban/flow operations, which an apply must keep.
    public var keepsLiveElements: Bool

    public init(
        name: String, keyFields: [SetFieldType], valueFields: [SetFieldType] = [],
        flags: Flags = [], size: UInt32? = nil, timeoutSeconds: Int? = nil,
        elementCounters: Bool = false, elements: [SetElementValue] = [], keepsLiveElements: Bool = false
    ) {
        self.name = name
        self.keyFields = keyFields
        self.valueFields = valueFields
        self.flags = flags
        self.size = size
        self.timeoutSeconds = timeoutSeconds
        self.elementCounters = elementCounters
        self.elements = elements
        self.keepsLiveElements = keepsLiveElements
    }

    public var isMap: Bool { !valueFields.isEmpty }

    var keyLength: Int {
        keyFields.count == 1 ? keyFields[0].byteLength : keyFields.reduce(0) { $0 + $1.registerAlignedLength }
    }

    var valueLength: Int {
        valueFields.count == 1 ? valueFields[0].byteLength : valueFields.reduce(0) { $0 + $1.registerAlignedLength }
    }

    /// nft packs concatenated types six bits per field.
    static func concatenatedType(_ fields: [SetFieldType]) -> UInt32 {
        fields.reduce(0) { ($0 << 6) | $1.typeNumber }
    }

    /// Flags as the kernel stores them (map/concat bits derived from the shape).
    var kernelFlags: Flags {
        var result = flags
        if isMap { result.insert(.map) }
        if keyFields.count > 1 && flags.contains(.interval) { result.insert(.concatenation) }
        return result
    }
}

public struct Rule: Sendable, Equatable {
    public var terms: [RuleTerm]
    /// Why the rule exists; stored in the kernel as the rule's comment.
    public var comment: String

    public init(_ terms: [RuleTerm], comment: String) {
        self.terms = terms
        self.comment = comment
    }

    /// True when the rule cannot be written as nft text (it carries an xtables match).
    public var isKernelOnly: Bool {
        terms.contains { if case .stringMatch = $0 { return true } else { return false } }
    }
}
