/// One subject's measurement for one rule at one evaluation.
public struct AlarmObservation: Sendable, Hashable {
    /// The account, gateway or daemon; `firewall` or `dynamic-blacklist` for host-wide kinds.
    public var subject: String
    public var value: Double
    public var threshold: Double?
    /// true: in alarm; false: fine; nil: not enough data to say (an ASR window with too few
    /// calls): the subject keeps whatever state it had.
    public var breached: Bool?
    /// One line an operator reads in the log and the webhook, e.g. "account acme balance 3.0000
    /// is under its alarm threshold 5.0000".
    public var message: String

    public init(subject: String, value: Double, threshold: Double?, breached: Bool?, message: String) {
        self.subject = subject
        self.value = value
        self.threshold = threshold
        self.breached = breached
        self.message = message
    }
}

/// An alarm raised and not yet cleared. The controller stores these (`alarms` table) so a restart
/// neither raises them again nor forgets to clear them.
public struct ActiveAlarm: Sendable, Hashable, Codable {
    public var rule: String
    public var kind: AlarmRule.Kind
    public var subject: String
    /// The value and threshold when it was raised.
    public var value: Double
    public var threshold: Double?
    /// Wall-clock milliseconds since 1970.
    public var raisedAt: Int64
    public var message: String

    public init(rule: String, kind: AlarmRule.Kind, subject: String, value: Double, threshold: Double?, raisedAt: Int64, message: String) {
        self.rule = rule
        self.kind = kind
        self.subject = subject
        self.value = value
        self.threshold = threshold
        self.raisedAt = raisedAt
        self.message = message
    }

    /// Rule and subject: one alarm at most per pair.
    public var key: String { rule + "\u{0}" + subject }
}

/// A change the tracker reports: what gets logged and POSTed.
public struct AlarmTransition: Sendable, Hashable {
    public enum Event: String, Sendable, Codable {
        case raised = "alarm.raised"
        case cleared = "alarm.cleared"
    }

    public var event: Event
    /// Raised: the new alarm. Cleared: the alarm as raised, with `value`, `threshold` and
    /// `message` of the observation that cleared it (or the reason it stopped being watched).
    public var alarm: ActiveAlarm
    public var time: Int64

    public init(event: Event, alarm: ActiveAlarm, time: Int64) {
        self.event = event
        self.alarm = alarm
        self.time = time
    }
}

/// Which alarms are active, and the raised/cleared transitions each evaluation makes: an alarm is
/// raised once when its subject goes into breach and cleared once when it comes out, never repeated
/// while it stays (the de-duplication webhooks rely on). Pure: times are given, nothing is stored.
public struct AlarmTracker: Sendable {
    public private(set) var active: [String: ActiveAlarm] = [:]

    /// `active`: alarms raised before (the store's, after a restart).
    public init(active: [ActiveAlarm] = []) {
        for alarm in active { self.active[alarm.key] = alarm }
    }

    /// Active alarms, oldest first.
    public var activeAlarms: [ActiveAlarm] {
        active.values.sorted { ($0.raisedAt, $0.rule, $0.subject) < ($1.raisedAt, $1.rule, $1.subject) }
    }

    /// One rule's complete evaluation: every subject it watches now. A subject in breach that was
    /// not is raised; an active one observed fine, or no longer observed at all (the account was
    /// removed, its threshold cleared), is cleared; `breached == nil` changes nothing.
    public mutating func evaluate(_ rule: AlarmRule, observations: [AlarmObservation], at now: Int64) -> [AlarmTransition] {
        var transitions: [AlarmTransition] = []
        var seen = Set<String>()
        for observation in observations {
            let alarm = ActiveAlarm(rule: rule.name, kind: rule.kind, subject: observation.subject, value: observation.value,
                                    threshold: observation.threshold, raisedAt: now, message: observation.message)
            seen.insert(alarm.key)
            switch (observation.breached, active[alarm.key]) {
            case (true?, nil):
                active[alarm.key] = alarm
                transitions.append(AlarmTransition(event: .raised, alarm: alarm, time: now))
            case (false?, let raised?):
                active[alarm.key] = nil
                transitions.append(cleared(raised, value: observation.value, threshold: observation.threshold,
                                           message: observation.message, at: now))
            default:
                break
            }
        }
        for (key, raised) in active where raised.rule == rule.name && !seen.contains(key) {
            active[key] = nil
            transitions.append(cleared(raised, value: raised.value, threshold: raised.threshold,
                                       message: "\(raised.subject) is no longer watched by rule \(rule.name) (removed, or its threshold cleared)", at: now))
        }
        return transitions.sorted { $0.alarm.subject < $1.alarm.subject }
    }

    /// Clears the alarms of rules gone from `rules`, disabled, or changed to another kind.
    public mutating func retain(_ rules: [AlarmRule], at now: Int64) -> [AlarmTransition] {
        let current = Dictionary(rules.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var transitions: [AlarmTransition] = []
        for raised in activeAlarms {
            let why: String
            if let rule = current[raised.rule] {
                if !rule.enabled {
                    why = "rule \(raised.rule) was disabled"
                } else if rule.kind != raised.kind {
                    why = "rule \(raised.rule) now watches \(rule.kind.rawValue)"
                } else {
                    continue
                }
            } else {
                why = "rule \(raised.rule) was removed"
            }
            active[raised.key] = nil
            transitions.append(cleared(raised, value: raised.value, threshold: raised.threshold, message: "\(raised.subject): \(why)", at: now))
        }
        return transitions
    }

    private func cleared(_ raised: ActiveAlarm, value: Double, threshold: Double?, message: String, at now: Int64) -> AlarmTransition {
        var alarm = raised
        alarm.value = value
        alarm.threshold = threshold
        alarm.message = message
        return AlarmTransition(event: .cleared, alarm: alarm, time: now)
    }
}
