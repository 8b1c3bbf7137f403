/// The dynamic number blacklist's stored shapes (requirements §7, §11; issue 14): the rules an
/// operator sets, and the entries the controller makes when a number goes over one. Only the
/// values and their validation live here; counting is Softswitch's `DynamicBlacklist`, storage
/// VOSStore's, and nothing here reads a clock.
///
/// VOS3000 calls a rule on one gateway "standalone mode" and a rule for every gateway "central
/// mode"; here a rule names its gateway, or none for central.
public struct DynamicBlacklistRule: Sendable, Hashable, Codable {
    /// Which number of a call a rule counts and blocks.
    public enum Target: String, Sendable, Codable, CaseIterable { case caller, callee }

    public var name: String
    /// nil: central (every call counts, and an entry refuses the number on every gateway). A
    /// gateway name: only that gateway's calls count, and an entry refuses the number there only:
    /// a mapping gateway's calls at admission, a routing gateway as a route for that number.
    public var gateway: String?
    public var target: Target
    public var windowSeconds: Int
    /// Thresholds, each 0 = off; a number is blocked when it goes over one (`maxCalls` 10: the
    /// eleventh call in the window is refused and starts the block).
    public var maxCalls: Int
    public var maxConcurrent: Int
    public var maxUnanswered: Int
    public var maxShortCalls: Int
    /// An answered call shorter than this is a short call.
    public var shortCallSeconds: Int
    public var blockSeconds: Int

    public init(name: String, gateway: String? = nil, target: Target, windowSeconds: Int, maxCalls: Int = 0,
                maxConcurrent: Int = 0, maxUnanswered: Int = 0, maxShortCalls: Int = 0,
                shortCallSeconds: Int = DynamicBlacklistRule.defaultShortCallSeconds, blockSeconds: Int) {
        self.name = name
        self.gateway = gateway
        self.target = target
        self.windowSeconds = windowSeconds
        self.maxCalls = maxCalls
        self.maxConcurrent = maxConcurrent
        self.maxUnanswered = maxUnanswered
        self.maxShortCalls = maxShortCalls
        self.shortCallSeconds = shortCallSeconds
        self.blockSeconds = blockSeconds
    }

    public static let defaultShortCallSeconds = 10
    public static let windowRange = 1...86_400
    public static let thresholdRange = 0...1_000_000
    public static let shortCallRange = 1...3_600
    /// Thirty days: longer than that is a static black list's job.
    public static let blockRange = 1...2_592_000

    public var hasThreshold: Bool { maxCalls > 0 || maxConcurrent > 0 || maxUnanswered > 0 || maxShortCalls > 0 }

    public func validate() throws(ModelError) {
        try GatewayName.validate(name, field: "rule name")
        if let gateway { try GatewayName.validate(gateway, field: "rule '\(name)' gateway") }
        try Self.check(windowSeconds, in: Self.windowRange, field: "rule '\(name)' window seconds")
        try Self.check(maxCalls, in: Self.thresholdRange, field: "rule '\(name)' max calls")
        try Self.check(maxConcurrent, in: Self.thresholdRange, field: "rule '\(name)' max concurrent calls")
        try Self.check(maxUnanswered, in: Self.thresholdRange, field: "rule '\(name)' max unanswered calls")
        try Self.check(maxShortCalls, in: Self.thresholdRange, field: "rule '\(name)' max short calls")
        try Self.check(shortCallSeconds, in: Self.shortCallRange, field: "rule '\(name)' short-call seconds")
        try Self.check(blockSeconds, in: Self.blockRange, field: "rule '\(name)' block seconds")
        guard hasThreshold else {
            throw ModelError.inconsistent("rule '\(name)' has no threshold: give at least one of max calls, max concurrent, max unanswered or max short calls above 0")
        }
    }

    private static func check(_ value: Int, in range: ClosedRange<Int>, field: String) throws(ModelError) {
        guard range.contains(value) else {
            throw ModelError.outOfRange(field: field, value: String(value), range: "\(range.lowerBound)-\(range.upperBound)")
        }
    }
}

/// A number blocked by a rule until `expires`. One entry per scope, target and number (`key`):
/// a second rule of the same scope firing on the number replaces it when it blocks longer.
public struct DynamicBlacklistEntry: Sendable, Hashable, Codable {
    public var number: String
    public var target: DynamicBlacklistRule.Target
    /// The rule's scope: nil central, else the gateway the number is blocked on.
    public var gateway: String?
    /// The rule that made the entry (it may since have been removed: the entry still runs out).
    public var rule: String
    /// What the number did, e.g. "4 calls in 60 s > 3".
    public var reason: String
    /// Wall-clock milliseconds since 1970: an entry outlives a controller restart.
    public var created: Int64
    public var expires: Int64

    public init(number: String, target: DynamicBlacklistRule.Target, gateway: String?, rule: String, reason: String,
                created: Int64, expires: Int64) {
        self.number = number
        self.target = target
        self.gateway = gateway
        self.rule = rule
        self.reason = reason
        self.created = created
        self.expires = expires
    }

    public var key: Key { Key(gateway: gateway, target: target, number: number) }

    public func isActive(at now: Int64) -> Bool { expires > now }

    /// Scope, target and number: what an entry blocks.
    public struct Key: Sendable, Hashable {
        public var gateway: String?
        public var target: DynamicBlacklistRule.Target
        public var number: String

        public init(gateway: String?, target: DynamicBlacklistRule.Target, number: String) {
            self.gateway = gateway
            self.target = target
            self.number = number
        }

        /// The store key: gateway (empty for central, which no gateway name can be), target, number.
        public var storeKey: String { (gateway ?? "") + "\u{0}" + target.rawValue + "\u{0}" + number }
    }
}
