/// Turns what the controller measured into `AlarmObservation`s, one function per rule kind, and
/// keeps the windows the rate kinds need (`CallOutcomeWindow` for ASR, `CounterWindow` for
/// blacklist hits). Pure: the controller's `AlarmMonitor` gathers the inputs (store, event loop,
/// vos-mediad) and hands them here with the time; nothing here reads a clock or does I/O.
public enum AlarmEvaluation {
    /// Subjects of the host-wide kinds.
    public static let firewallSubject = "firewall"
    public static let blacklistSubject = "dynamic-blacklist"

    /// Accounts with an alarm threshold (the rule's subject only, when it names one): in alarm
    /// while the balance is under it.
    public static func balance(_ rule: AlarmRule, accounts: [Account]) -> [AlarmObservation] {
        accounts.compactMap { account -> AlarmObservation? in
            guard rule.subject == nil || rule.subject == account.name, let threshold = account.alarmThreshold else { return nil }
            let under = account.balance < threshold
            return AlarmObservation(
                subject: account.name, value: decimal(account.balance), threshold: decimal(threshold), breached: under,
                message: under ? "account \(account.name) balance \(account.balance) is under its alarm threshold \(threshold)"
                    : "account \(account.name) balance \(account.balance) is back at or above its alarm threshold \(threshold)")
        }
    }

    /// Routing gateways by name with whether they are online (OPTIONS checks, resolved address).
    public static func gatewayOffline(_ rule: AlarmRule, gateways: [(name: String, online: Bool)]) -> [AlarmObservation] {
        gateways.compactMap { gateway -> AlarmObservation? in
            guard rule.subject == nil || rule.subject == gateway.name else { return nil }
            return AlarmObservation(
                subject: gateway.name, value: gateway.online ? 0 : 1, threshold: nil, breached: !gateway.online,
                message: gateway.online ? "routing gateway \(gateway.name) is online again"
                    : "routing gateway \(gateway.name) is offline (unanswered OPTIONS probes)")
        }
    }

    /// Each routing gateway's ASR over the rule's window ending at `now`; a gateway with fewer
    /// attempts than the rule's minimum keeps its state (too few calls to judge).
    public static func asr(_ rule: AlarmRule, calls: CallOutcomeWindow, now: Int64) -> [AlarmObservation] {
        guard let threshold = rule.threshold, let window = rule.window else { return [] }
        let since = now - Int64(window) * 1000
        return calls.gateways.compactMap { gateway -> AlarmObservation? in
            guard rule.subject == nil || rule.subject == gateway else { return nil }
            let counts = calls.counts(gateway: gateway, since: since)
            guard counts.attempts > 0 else { return nil }
            let ratio = Double(counts.answered) * 100 / Double(counts.attempts)
            let shown = percent(ratio)
            let text = "routing gateway \(gateway) ASR \(shown) % (\(counts.answered) of \(counts.attempts) attempts in \(window) s)"
            guard counts.attempts >= rule.minimumCallsInEffect else {
                return AlarmObservation(subject: gateway, value: ratio, threshold: threshold, breached: nil,
                                        message: text + ", fewer than \(rule.minimumCallsInEffect) to judge")
            }
            let low = ratio < threshold
            return AlarmObservation(subject: gateway, value: ratio, threshold: threshold, breached: low,
                                    message: text + (low ? " is under \(percent(threshold)) %" : " is at or above \(percent(threshold)) %"))
        }
    }

    /// The ban set's additions per minute over the window. `banAges` are the seconds since each
    /// address in the set was (last) banned: vos-mediad reports each ban's timeout and time left.
    public static func banRate(_ rule: AlarmRule, banAges: [Int]) -> [AlarmObservation] {
        guard let threshold = rule.threshold, let window = rule.window else { return [] }
        let added = banAges.filter { $0 >= 0 && $0 < window }.count
        let perMinute = Double(added) * 60 / Double(window)
        let high = perMinute > threshold
        let text = "\(added) addresses banned in the last \(window) s (\(percent(perMinute)) per minute)"
        return [AlarmObservation(subject: firewallSubject, value: perMinute, threshold: threshold, breached: high,
                                 message: text + (high ? ", over \(percent(threshold)) per minute" : ", at or under \(percent(threshold)) per minute"))]
    }

    /// Calls refused or vendors skipped by the dynamic blacklist within the window.
    public static func blacklistHits(_ rule: AlarmRule, hits: Int) -> [AlarmObservation] {
        guard let threshold = rule.threshold, let window = rule.window else { return [] }
        let high = Double(hits) > threshold
        return [AlarmObservation(subject: blacklistSubject, value: Double(hits), threshold: threshold, breached: high,
                                 message: "\(hits) dynamic blacklist hits in the last \(window) s" + (high ? ", over \(percent(threshold))" : ", at or under \(percent(threshold))"))]
    }

    /// A daemon restart seen by the controller.
    public struct Restart: Sendable, Hashable {
        /// `vos-controller` or `vos-mediad`.
        public var daemon: String
        /// Wall-clock milliseconds.
        public var time: Int64
        /// e.g. "after an unclean exit; 2 calls recovered".
        public var detail: String

        public init(daemon: String, time: Int64, detail: String) {
            self.daemon = daemon
            self.time = time
            self.detail = detail
        }
    }

    /// Each daemon is in alarm for the rule's window after its latest restart.
    public static func restart(_ rule: AlarmRule, restarts: [Restart], now: Int64) -> [AlarmObservation] {
        guard let window = rule.window else { return [] }
        var latest: [String: Restart] = [:]
        for restart in restarts where rule.subject == nil || rule.subject == restart.daemon {
            if let seen = latest[restart.daemon], seen.time >= restart.time { continue }
            latest[restart.daemon] = restart
        }
        return latest.values.sorted { $0.daemon < $1.daemon }.map { restart in
            let recent = now - restart.time < Int64(window) * 1000
            return AlarmObservation(subject: restart.daemon, value: 1, threshold: nil, breached: recent,
                                    message: recent ? "\(restart.daemon) restarted \(restart.detail)"
                                        : "\(restart.daemon) has run \(window) s since its restart")
        }
    }

    static func decimal(_ money: Money) -> Double { Double(money.units) / Double(Money.unitsPerWhole) }

    /// One decimal, without a trailing ".0" (ASR 66.7, 50).
    static func percent(_ value: Double) -> String {
        let tenths = (value * 10).rounded()
        return tenths.truncatingRemainder(dividingBy: 10) == 0 ? String(Int(tenths / 10)) : String(tenths / 10)
    }
}

/// Attempts and answers per routing gateway in time buckets, from stored CDRs: what ASR rules
/// read. Bucketed so a busy switch keeps a few counters per gateway and 5 s, not every call.
public struct CallOutcomeWindow: Sendable {
    public static let bucketMilliseconds: Int64 = 5_000

    struct Counts: Sendable {
        var attempts = 0
        var answered = 0
    }

    private var buckets: [String: [Int64: Counts]] = [:]

    public init() {}

    public var gateways: [String] { buckets.keys.sorted() }

    /// Counts a call's vendor attempts at its end time: each attempt on a gateway is a seizure,
    /// and the gateway that answered has one answer.
    public mutating func record(_ record: CallDetailRecord) {
        guard !record.attempts.isEmpty else { return }
        let bucket = record.endTime - record.endTime % Self.bucketMilliseconds
        let answeredBy = record.answerTime != nil ? record.routingGateway : nil
        var seen = Set<String>()
        for attempt in record.attempts {
            buckets[attempt.gateway, default: [:]][bucket, default: Counts()].attempts += 1
            if attempt.gateway == answeredBy, seen.insert(attempt.gateway).inserted {
                buckets[attempt.gateway, default: [:]][bucket, default: Counts()].answered += 1
            }
        }
    }

    /// Forgets buckets wholly before `time` (the longest window in use).
    public mutating func prune(before time: Int64) {
        for (gateway, counts) in buckets {
            let kept = counts.filter { $0.key + Self.bucketMilliseconds > time }
            buckets[gateway] = kept.isEmpty ? nil : kept
        }
    }

    /// Attempts and answers in buckets that end after `since`.
    public func counts(gateway: String, since: Int64) -> (attempts: Int, answered: Int) {
        var attempts = 0, answered = 0
        for (start, counts) in buckets[gateway] ?? [:] where start + Self.bucketMilliseconds > since {
            attempts += counts.attempts
            answered += counts.answered
        }
        return (attempts, answered)
    }
}

/// Samples of an ever-growing counter (the B2BUA's dynamic blacklist hits) so the increase over a
/// window can be read: the latest value less the value at the start of the window.
public struct CounterWindow: Sendable {
    private var samples: [(time: Int64, total: Int)] = []

    public init() {}

    public mutating func add(_ total: Int, at time: Int64) {
        // A smaller total is a counter that started again (a new B2BUA): older samples mean nothing.
        if let last = samples.last, total < last.total { samples.removeAll() }
        samples.append((time, total))
    }

    /// The increase within `seconds` before `now`: from the newest sample at or before the window's
    /// start (else the oldest one) to the latest.
    public func increase(seconds: Int, now: Int64) -> Int {
        guard let latest = samples.last else { return 0 }
        let start = now - Int64(seconds) * 1000
        let base = samples.last { $0.time <= start } ?? samples[0]
        return latest.total - base.total
    }

    /// Drops samples no window of `seconds` needs any more (keeps one at or before its start).
    public mutating func prune(seconds: Int, now: Int64) {
        let start = now - Int64(seconds) * 1000
        guard let keep = samples.lastIndex(where: { $0.time <= start }), keep > 0 else { return }
        samples.removeFirst(keep)
    }
}
