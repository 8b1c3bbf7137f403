/// An alarm rule as the operator stores it (issue 15, docs/OBSERVABILITY.md "Alarms and webhooks"):
/// what is watched, on which subject, and the threshold and window that make it an alarm. Only the
/// value and its validation live here; evaluation is `AlarmEvaluation`'s, the raised/cleared state
/// `AlarmTracker`'s, and nothing here reads a clock or the store.
public struct AlarmRule: Sendable, Hashable, Codable {
    /// What a rule watches. Each kind says which subject, threshold and window it takes.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// An account's balance under that account's own alarm threshold (`vosctl account set
        /// NAME --alarm AMOUNT`). Subject: an account, or every account that has a threshold.
        case balance
        /// A routing gateway marked offline by its OPTIONS checks (three missed probes).
        /// Subject: a routing gateway, or every one.
        case gatewayOffline = "gateway-offline"
        /// A routing gateway's answer-seizure ratio (answered attempts / attempts, in percent)
        /// under `threshold` over the last `windowSeconds`, once it had `minimumCalls` attempts.
        case asr
        /// Addresses added to the firewall's ban set, per minute over the last `windowSeconds`,
        /// above `threshold`. No subject: the host's one ban set.
        case banRate = "ban-rate"
        /// Calls refused or vendors skipped by the dynamic number blacklist in the last
        /// `windowSeconds`, above `threshold`. No subject.
        case blacklistHits = "blacklist-hits"
        /// A daemon started again after a previous run (`vos-controller`), or the controller's event
        /// connection to `vos-mediad` came back after it was lost. Active for `windowSeconds`.
        /// Subject: one of the two daemons, or both.
        case restart
    }

    public var name: String
    public var kind: Kind
    /// The account, routing gateway or daemon watched; nil = every one of its kind.
    public var subject: String?
    /// ASR percent, bans per minute, or blacklist hits; nil for the kinds that take none.
    public var threshold: Double?
    /// nil = the kind's default (`defaultWindowSeconds`).
    public var windowSeconds: Int?
    /// ASR only: attempts needed in the window before the ratio means anything; nil = default.
    public var minimumCalls: Int?
    /// A disabled rule raises nothing, and its active alarms are cleared.
    public var enabled: Bool = true

    public init(name: String, kind: Kind, subject: String? = nil, threshold: Double? = nil, windowSeconds: Int? = nil,
                minimumCalls: Int? = nil, enabled: Bool = true) {
        self.name = name
        self.kind = kind
        self.subject = subject
        self.threshold = threshold
        self.windowSeconds = windowSeconds
        self.minimumCalls = minimumCalls
        self.enabled = enabled
    }

    public static let windowRange = 10...86_400
    public static let minimumCallsRange = 1...1_000_000
    public static let defaultMinimumCalls = 10
    /// The two daemons a restart rule can name.
    public static let daemons = ["vos-controller", "vos-mediad"]

    /// The window a kind uses when the rule gives none; nil for kinds without a window.
    public static func defaultWindowSeconds(_ kind: Kind) -> Int? {
        switch kind {
        case .asr: return 600
        case .banRate, .blacklistHits: return 60
        case .restart: return 300
        case .balance, .gatewayOffline: return nil
        }
    }

    /// What `threshold` means for a kind, nil when the kind takes none.
    public static func thresholdMeaning(_ kind: Kind) -> String? {
        switch kind {
        case .asr: return "ASR percent (0-100) under which the alarm is raised"
        case .banRate: return "bans per minute above which the alarm is raised"
        case .blacklistHits: return "blacklist hits in the window above which the alarm is raised"
        case .balance, .gatewayOffline, .restart: return nil
        }
    }

    /// The window in effect.
    public var window: Int? { windowSeconds ?? Self.defaultWindowSeconds(kind) }

    /// The ASR attempt minimum in effect.
    public var minimumCallsInEffect: Int { minimumCalls ?? Self.defaultMinimumCalls }

    public func validate() throws(ModelError) {
        try GatewayName.validate(name, field: "alarm rule name")
        if let subject {
            if kind == .banRate || kind == .blacklistHits {
                throw ModelError.inconsistent("alarm rule '\(name)': a \(kind.rawValue) rule watches the whole host and takes no subject")
            }
            if kind == .restart {
                guard Self.daemons.contains(subject) else {
                    throw ModelError.invalid(field: "alarm rule '\(name)' subject", value: subject, expected: Self.daemons.joined(separator: " or "))
                }
            } else {
                try GatewayName.validate(subject, field: "alarm rule '\(name)' subject")
            }
        }
        if let meaning = Self.thresholdMeaning(kind) {
            guard let threshold else {
                throw ModelError.missing(field: "alarm rule '\(name)' threshold (\(meaning))")
            }
            guard threshold.isFinite, threshold >= 0 else {
                throw ModelError.invalid(field: "alarm rule '\(name)' threshold", value: "\(threshold)", expected: "a number of at least 0")
            }
            if kind == .asr && threshold > 100 {
                throw ModelError.outOfRange(field: "alarm rule '\(name)' ASR threshold", value: "\(threshold)", range: "0-100 percent")
            }
        } else if threshold != nil {
            let why = kind == .balance ? " (each account's own: `vosctl account set NAME --alarm AMOUNT`)" : ""
            throw ModelError.inconsistent("alarm rule '\(name)': a \(kind.rawValue) rule takes no threshold\(why)")
        }
        if let windowSeconds {
            guard Self.defaultWindowSeconds(kind) != nil else {
                throw ModelError.inconsistent("alarm rule '\(name)': a \(kind.rawValue) rule takes no window")
            }
            guard Self.windowRange.contains(windowSeconds) else {
                throw ModelError.outOfRange(field: "alarm rule '\(name)' window seconds", value: String(windowSeconds),
                                            range: "\(Self.windowRange.lowerBound)-\(Self.windowRange.upperBound)")
            }
        }
        if let minimumCalls {
            guard kind == .asr else {
                throw ModelError.inconsistent("alarm rule '\(name)': only an asr rule takes a minimum of calls")
            }
            guard Self.minimumCallsRange.contains(minimumCalls) else {
                throw ModelError.outOfRange(field: "alarm rule '\(name)' minimum calls", value: String(minimumCalls),
                                            range: "\(Self.minimumCallsRange.lowerBound)-\(Self.minimumCallsRange.upperBound)")
            }
        }
    }
}
