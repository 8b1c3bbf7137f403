import VOSModel

/// The rows of alarms and webhooks (issue 15): rules and webhook targets (configuration, written by
/// vosctl, each change bumping the generation), the active alarms (written by the controller on
/// each raise and clear, without a bump), and the controller's run marker in `meta` (how a restart
/// is told from a first start). It validates and stores; it evaluates nothing.
extension Transaction {
    // MARK: Rules

    public func alarmRules() throws -> [AlarmRule] {
        try records(AlarmRule.self, in: .alarmRules)
    }

    public func alarmRule(named name: String) throws -> AlarmRule? {
        try record(AlarmRule.self, in: .alarmRules, key: name)
    }

    public func addAlarmRule(_ rule: AlarmRule) throws {
        if try alarmRule(named: rule.name) != nil { throw StoreError.duplicate(kind: "alarm rule", name: rule.name) }
        try saveAlarmRule(rule)
    }

    /// Validates and writes (insert or replace) a rule. A subject must exist when the rule is
    /// saved: an account for balance, a routing gateway for gateway-offline and asr. Removing the
    /// subject later is allowed: the rule then watches nothing, and its alarm clears.
    public func saveAlarmRule(_ rule: AlarmRule) throws {
        do { try rule.validate() } catch { throw StoreError.invalid(error) }
        if let subject = rule.subject {
            switch rule.kind {
            case .balance:
                guard try account(named: subject) != nil else {
                    throw StoreError.conflict("account '\(subject)' given as the subject of alarm rule '\(rule.name)' does not exist")
                }
            case .gatewayOffline, .asr:
                guard try routingGateway(named: subject) != nil else {
                    throw StoreError.conflict("routing gateway '\(subject)' given as the subject of alarm rule '\(rule.name)' does not exist (\(rule.kind.rawValue) watches routing gateways)")
                }
            case .restart, .banRate, .blacklistHits:
                break
            }
        }
        try putRecord(rule, in: .alarmRules, key: rule.name)
    }

    public func removeAlarmRule(named name: String) throws {
        guard try delete(.alarmRules, Array(name.utf8)) else { throw StoreError.notFound(kind: "alarm rule", name: name) }
    }

    // MARK: Webhook targets

    public func webhookTargets() throws -> [WebhookTarget] {
        try records(WebhookTarget.self, in: .webhookTargets)
    }

    public func webhookTarget(named name: String) throws -> WebhookTarget? {
        try record(WebhookTarget.self, in: .webhookTargets, key: name)
    }

    public func addWebhookTarget(_ target: WebhookTarget) throws {
        if try webhookTarget(named: target.name) != nil { throw StoreError.duplicate(kind: "webhook", name: target.name) }
        try saveWebhookTarget(target)
    }

    public func saveWebhookTarget(_ target: WebhookTarget) throws {
        do { try target.validate() } catch { throw StoreError.invalid(error) }
        try putRecord(target, in: .webhookTargets, key: target.name)
    }

    public func removeWebhookTarget(named name: String) throws {
        guard try delete(.webhookTargets, Array(name.utf8)) else { throw StoreError.notFound(kind: "webhook", name: name) }
    }

    // MARK: Active alarms (the controller's)

    public func activeAlarms() throws -> [ActiveAlarm] {
        try records(ActiveAlarm.self, in: .activeAlarms).sorted { ($0.raisedAt, $0.key) < ($1.raisedAt, $1.key) }
    }

    /// Writes a raise (stores the alarm) or a clear (deletes it).
    public func recordAlarmTransition(_ transition: AlarmTransition) throws {
        switch transition.event {
        case .raised: try putRecord(transition.alarm, in: .activeAlarms, key: transition.alarm.key)
        case .cleared: try delete(.activeAlarms, Array(transition.alarm.key.utf8))
        }
    }

    // MARK: Controller runs

    /// Marks the controller started at `time` and returns the previous run's marker (nil on the
    /// first start of this store), whose `stopped` is nil when that run ended without `stop`.
    public func recordControllerStart(at time: Int64) throws -> ControllerRun? {
        let previous = try controllerRun()
        try putControllerRun(ControllerRun(started: time, stopped: nil))
        return previous
    }

    /// Marks the current run stopped cleanly.
    public func recordControllerStop(at time: Int64) throws {
        guard var run = try controllerRun() else { return }
        run.stopped = time
        try putControllerRun(run)
    }

    private func controllerRun() throws -> ControllerRun? {
        guard let bytes = try get(.meta, Array(MetaKey.controllerRun.utf8)) else { return nil }
        return try Transaction.decode(ControllerRun.self, from: bytes, table: .meta, key: MetaKey.controllerRun)
    }

    private func putControllerRun(_ run: ControllerRun) throws {
        try put(.meta, Array(MetaKey.controllerRun.utf8), Transaction.encode(run, table: .meta, key: MetaKey.controllerRun))
    }
}

/// The controller's last start and clean stop, wall-clock milliseconds (bookkeeping in `meta`).
public struct ControllerRun: Sendable, Hashable, Codable {
    public var started: Int64
    public var stopped: Int64?

    public init(started: Int64, stopped: Int64?) {
        self.started = started
        self.stopped = stopped
    }
}

extension MetaKey {
    static let controllerRun = "controller_run"
}
