import VOSModel

/// The dynamic number blacklist's counting (requirements §7, §11; issue 14): per rule and number,
/// calls, concurrent calls, unanswered and short calls in a window; the entries that block a
/// number once it goes over a threshold; their expiry. Pure: no I/O, no clock (every call passes
/// wall-clock milliseconds in), so the B2BUA runs it on the SIP thread and tests run it in-process.
/// Persisting entries is the caller's business (`newEntries`).
///
/// Windows are fixed: a number's window opens with the first call counted in it and lasts the
/// rule's `windowSeconds`; the next event after that opens a new one with zero counts. A new entry
/// also starts the number's counts afresh, so once it expires the number has its full allowance.
///
/// Where a call is counted: central rules and the mapping gateway's at admission (once per call),
/// a routing gateway's when a vendor attempt is about to go to it. A call refused here (or by an
/// entry) is not counted anywhere: it never reached the gateway.
///
/// Memory is bounded: at most `maximumNumbersPerRule` numbers per rule (a number over that is not
/// counted, see `untrackedCalls`), and a number whose window ended with no call up is forgotten
/// by the sweep that runs at most every `sweepInterval` milliseconds.
public struct DynamicBlacklistTracker: Sendable {
    /// Where a call meets the blacklist.
    public enum Point: Sendable, Equatable {
        /// Admission: central rules and entries, and those of the call's mapping gateway.
        case admission(mappingGateway: String)
        /// A vendor attempt: the routing gateway's rules and entries only.
        case attempt(routingGateway: String)
    }

    /// What one call added to the counters, handed back when it ends.
    public struct Ticket: Sendable, Equatable {
        struct Counted: Sendable, Equatable {
            let rule: String
            let epoch: Int
            let number: String
        }

        var counted: [Counted] = []
        public var isEmpty: Bool { counted.isEmpty }
        public init() {}
    }

    /// The verdict on a call that starts.
    public struct Start: Sendable, Equatable {
        /// The entry that refuses the call (403 Blacklisted), or nil when it may go on.
        public var blockingEntry: DynamicBlacklistEntry?
        /// Entries this call's counting made (to persist and log); the first blocks this call.
        public var newEntries: [DynamicBlacklistEntry] = []
        /// What to hand back to `callEnded` (empty when refused or nothing counted).
        public var ticket = Ticket()
    }

    struct Counters: Sendable {
        var windowStart: Int64
        var calls = 0
        var unanswered = 0
        var short = 0
        var concurrent = 0

        init(now: Int64) { windowStart = now }

        mutating func roll(now: Int64, window: Int64) {
            guard now - windowStart >= window else { return }
            restart(now: now)
        }

        mutating func restart(now: Int64) {
            windowStart = now
            calls = 0
            unanswered = 0
            short = 0
        }

        func isIdle(now: Int64, window: Int64) -> Bool { concurrent == 0 && now - windowStart >= window }
    }

    struct RuleState: Sendable {
        var rule: DynamicBlacklistRule
        /// Changes when the rule's scope or target changes, so tickets of the old rule touch nothing.
        var epoch: Int
        var numbers: [String: Counters] = [:]
        var lastForcedSweep: Int64 = .min

        var windowMilliseconds: Int64 { Int64(rule.windowSeconds) * 1000 }
    }

    public let maximumNumbersPerRule: Int
    public let sweepInterval: Int64
    // States in an array mutated in place: a copy of a state out of a dictionary would copy its
    // number table on the next write, once per call.
    private var states: [RuleState] = []
    private var stateIndex: [String: Int] = [:]
    private var centralRules: [Int] = []
    private var gatewayRules: [String: [Int]] = [:]
    private var entries: [DynamicBlacklistEntry.Key: DynamicBlacklistEntry] = [:]
    private var nextEpoch = 1
    private var lastSweep: Int64 = .min
    /// Calls a rule could not count because it already tracked `maximumNumbersPerRule` numbers.
    public private(set) var untrackedCalls = 0

    public init(maximumNumbersPerRule: Int = 100_000, sweepInterval: Int64 = 10_000) {
        self.maximumNumbersPerRule = max(1, maximumNumbersPerRule)
        self.sweepInterval = sweepInterval
    }

    // MARK: Configuration and entries

    /// The rules from a new configuration. A rule that keeps its name, scope and target keeps its
    /// counts (calls up now stay counted); any other rule starts from nothing.
    public mutating func configure(_ configured: [DynamicBlacklistRule]) {
        var fresh: [RuleState] = []
        var freshIndex: [String: Int] = [:]
        for rule in configured where freshIndex[rule.name] == nil {
            if let old = stateIndex[rule.name], states[old].rule.gateway == rule.gateway, states[old].rule.target == rule.target {
                var kept = states[old]
                kept.rule = rule
                fresh.append(kept)
            } else {
                fresh.append(RuleState(rule: rule, epoch: nextEpoch))
                nextEpoch += 1
            }
            freshIndex[rule.name] = fresh.count - 1
        }
        states = fresh
        stateIndex = freshIndex
        centralRules = fresh.indices.filter { fresh[$0].rule.gateway == nil }
        gatewayRules = [:]
        for position in fresh.indices {
            if let gateway = fresh[position].rule.gateway { gatewayRules[gateway, default: []].append(position) }
        }
    }

    public var configuredRules: [DynamicBlacklistRule] { states.map(\.rule) }

    /// Entries read back from the store (at start): the ones still running are added, an entry
    /// already held for the same key is kept when it runs longer.
    public mutating func restore(_ stored: [DynamicBlacklistEntry], now: Int64) {
        for entry in stored where entry.isActive(at: now) { _ = insert(entry) }
    }

    /// The entries blocking a number now, ordered by scope, target and number.
    public func activeEntries(now: Int64) -> [DynamicBlacklistEntry] {
        entries.values.filter { $0.isActive(at: now) }.sorted {
            ($0.gateway ?? "", $0.target.rawValue, $0.number) < ($1.gateway ?? "", $1.target.rawValue, $1.number)
        }
    }

    /// Every entry held, expired or not (the sweep forgets expired ones).
    public var heldEntries: [DynamicBlacklistEntry] { Array(entries.values) }

    public func entry(for key: DynamicBlacklistEntry.Key) -> DynamicBlacklistEntry? { entries[key] }

    /// Drops an entry (the operator removed it); returns it if there was one.
    @discardableResult
    public mutating func removeEntry(_ key: DynamicBlacklistEntry.Key) -> DynamicBlacklistEntry? {
        entries.removeValue(forKey: key)
    }

    /// Numbers counted by `rule` now (for tests and status).
    public func trackedNumbers(rule: String) -> Int { stateIndex[rule].map { states[$0].numbers.count } ?? 0 }

    // MARK: Calls

    /// A call reaches `point` with these numbers (after the mapping gateway's dial plans). An empty
    /// number is neither checked nor counted.
    public mutating func callStarted(at point: Point, caller: String, callee: String, now: Int64) -> Start {
        sweepIfDue(now: now)
        var start = Start()
        let positions: [Int]
        switch point {
        case let .admission(mapping):
            start.blockingEntry = blocking(scope: nil, caller: caller, callee: callee, now: now)
                ?? blocking(scope: mapping, caller: caller, callee: callee, now: now)
            if let own = gatewayRules[mapping] { positions = centralRules + own } else { positions = centralRules }
        case let .attempt(routing):
            start.blockingEntry = blocking(scope: routing, caller: caller, callee: callee, now: now)
            positions = gatewayRules[routing] ?? []
        }
        if start.blockingEntry != nil || positions.isEmpty { return start }

        // First every rule says whether this call would take the number over it: such a call is
        // refused and counted nowhere, so the counts stay those of calls that went through.
        for position in positions {
            let rule = states[position].rule
            let number = rule.target == .caller ? caller : callee
            guard !number.isEmpty, var counters = states[position].numbers[number] else { continue }
            counters.roll(now: now, window: states[position].windowMilliseconds)
            if let reason = Self.startCrossing(rule, counters) {
                counters.restart(now: now)
                let entry = Self.entry(rule, number: number, reason: reason, now: now)
                if insert(entry) != nil { start.newEntries.append(entry) }
                start.blockingEntry = start.blockingEntry ?? entries[entry.key]
            }
            states[position].numbers[number] = counters
        }
        if start.blockingEntry != nil { return start }

        for position in positions {
            let number = states[position].rule.target == .caller ? caller : callee
            guard !number.isEmpty else { continue }
            var counters: Counters
            if let known = states[position].numbers[number] {
                counters = known
                counters.roll(now: now, window: states[position].windowMilliseconds)
            } else {
                guard makeRoom(position, now: now) else {
                    untrackedCalls += 1
                    continue
                }
                counters = Counters(now: now)
            }
            counters.calls += 1
            counters.concurrent += 1
            states[position].numbers[number] = counters
            start.ticket.counted.append(.init(rule: states[position].rule.name, epoch: states[position].epoch, number: number))
        }
        return start
    }

    /// A counted call ended: its concurrency is released, and an unanswered or short call counted.
    /// Returns the entries that made (to persist and log); they refuse the number's next calls.
    public mutating func callEnded(_ ticket: Ticket, answered: Bool, durationMilliseconds: Int64, now: Int64) -> [DynamicBlacklistEntry] {
        var made: [DynamicBlacklistEntry] = []
        for counted in ticket.counted {
            guard let position = stateIndex[counted.rule], states[position].epoch == counted.epoch,
                  var counters = states[position].numbers[counted.number] else { continue }
            let rule = states[position].rule
            counters.concurrent = max(0, counters.concurrent - 1)
            counters.roll(now: now, window: states[position].windowMilliseconds)
            var reason: String?
            if !answered {
                counters.unanswered += 1
                if rule.maxUnanswered > 0 && counters.unanswered > rule.maxUnanswered {
                    reason = "\(counters.unanswered) unanswered calls in \(rule.windowSeconds) s > \(rule.maxUnanswered)"
                }
            } else if durationMilliseconds < Int64(rule.shortCallSeconds) * 1000 {
                counters.short += 1
                if rule.maxShortCalls > 0 && counters.short > rule.maxShortCalls {
                    reason = "\(counters.short) calls shorter than \(rule.shortCallSeconds) s in \(rule.windowSeconds) s > \(rule.maxShortCalls)"
                }
            }
            if let reason {
                counters.restart(now: now)
                let entry = Self.entry(rule, number: counted.number, reason: reason, now: now)
                if insert(entry) != nil { made.append(entry) }
            }
            states[position].numbers[counted.number] = counters
        }
        return made
    }

    // MARK: Internals

    private mutating func blocking(scope: String?, caller: String, callee: String, now: Int64) -> DynamicBlacklistEntry? {
        guard !entries.isEmpty else { return nil }
        return active(DynamicBlacklistEntry.Key(gateway: scope, target: .caller, number: caller), now: now)
            ?? active(DynamicBlacklistEntry.Key(gateway: scope, target: .callee, number: callee), now: now)
    }

    /// The entry for `key` if it still blocks; an expired one is forgotten on the way.
    private mutating func active(_ key: DynamicBlacklistEntry.Key, now: Int64) -> DynamicBlacklistEntry? {
        guard !key.number.isEmpty, let entry = entries[key] else { return nil }
        if entry.isActive(at: now) { return entry }
        entries[key] = nil
        return nil
    }

    /// Why starting one more call takes the number over the rule, if it does.
    private static func startCrossing(_ rule: DynamicBlacklistRule, _ counters: Counters) -> String? {
        if rule.maxCalls > 0 && counters.calls + 1 > rule.maxCalls {
            return "\(counters.calls + 1) calls in \(rule.windowSeconds) s > \(rule.maxCalls)"
        }
        if rule.maxConcurrent > 0 && counters.concurrent + 1 > rule.maxConcurrent {
            return "\(counters.concurrent + 1) concurrent calls > \(rule.maxConcurrent)"
        }
        return nil
    }

    private static func entry(_ rule: DynamicBlacklistRule, number: String, reason: String, now: Int64) -> DynamicBlacklistEntry {
        DynamicBlacklistEntry(number: number, target: rule.target, gateway: rule.gateway, rule: rule.name, reason: reason,
                              created: now, expires: now + Int64(rule.blockSeconds) * 1000)
    }

    /// Adds `entry` unless one for its key already blocks at least as long; returns it if added.
    private mutating func insert(_ entry: DynamicBlacklistEntry) -> DynamicBlacklistEntry? {
        if let held = entries[entry.key], held.expires >= entry.expires { return nil }
        entries[entry.key] = entry
        return entry
    }

    /// Whether a new number fits under the cap, forgetting the rule's idle numbers (at most once a
    /// second, so a flood of new numbers cannot make every call scan the table).
    private mutating func makeRoom(_ position: Int, now: Int64) -> Bool {
        if states[position].numbers.count < maximumNumbersPerRule { return true }
        let last = states[position].lastForcedSweep
        guard last == .min || now - last >= 1000 else { return false }
        states[position].lastForcedSweep = now
        forgetIdleNumbers(position, now: now)
        return states[position].numbers.count < maximumNumbersPerRule
    }

    private mutating func forgetIdleNumbers(_ position: Int, now: Int64) {
        let window = states[position].windowMilliseconds
        guard states[position].numbers.contains(where: { $0.value.isIdle(now: now, window: window) }) else { return }
        states[position].numbers = states[position].numbers.filter { !$0.value.isIdle(now: now, window: window) }
    }

    private mutating func sweepIfDue(now: Int64) {
        guard lastSweep == .min || now - lastSweep >= sweepInterval else { return }
        lastSweep = now
        if entries.contains(where: { !$0.value.isActive(at: now) }) {
            entries = entries.filter { $0.value.isActive(at: now) }
        }
        for position in states.indices { forgetIdleNumbers(position, now: now) }
    }
}
