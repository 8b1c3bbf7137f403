import CVOSSys
import CallControl
import Dispatch
import Foundation
import Logging
import MediaControl
import SIPStack
import Synchronization
import Telemetry
import VOSModel
import VOSStore

/// The controller's alarm monitor (issue 15, docs/OBSERVABILITY.md "Alarms and webhooks"): on a
/// thread of its own (`vos-alarms`), every SS_ALARM_CHECK_INTERVAL seconds, it gathers what the rules
/// watch, hands it to `AlarmEvaluation` and `AlarmTracker` (VOSModel), and for each raise or clear
/// logs it (warning, notice), stores it (`active_alarms`, so `vosctl alarm list` shows it and a
/// restart repeats nothing) and POSTs it to the webhooks that take alarms. It also hands the webhook
/// targets to `WebhookDelivery` whenever the configuration changes.
///
/// Where each kind's input comes from:
/// - balance: the accounts in the store, against each one's `alarmThreshold`;
/// - gateway-offline: `B2BUA.gatewayViews()` (OPTIONS health), read on the SIP loop through
///   `loop.execute` with a bounded wait, as the operator socket does;
/// - asr: the CDRs the ledger stores (`callRecorded`, on the ledger thread), bucketed per gateway;
/// - ban-rate: vos-mediad's ban set (`bans` over mediad.sock): each ban's age is its timeout less its
///   time left, so the bans added in the window are counted whoever added them (the kernel's flood
///   meters, the controller's BanFeed, an operator);
/// - blacklist-hits: `B2BUA.dynamicBlacklistHits`, read on the loop with the gateways;
/// - restart: the controller's run marker in the store (a start after an earlier run), and the
///   media-event connection to vos-mediad coming back after it was lost (`mediaDaemonReturned`).
///
/// It never blocks the SIP thread: the loop only runs the short read it is handed.
final class AlarmMonitor: @unchecked Sendable {
    // @unchecked: `tracker`, `rules`, `intervalSeconds`, `blacklistHits`, `banProblem` and
    // `loopReader` are touched on the monitor thread only (`loopReader` is set before it starts);
    // `shared` is guarded by its mutex; the rest is immutable or atomic.
    private let store: Store
    private let webhooks: WebhookDelivery
    private let logger: Logger
    private let node: String
    private var loopReader: (loop: any EventLoop, b2bua: B2BUA, mediaControlPath: String)?

    /// Fed from other threads: CDRs (ledger) and restarts (start-up, media events).
    private struct Shared {
        var calls = CallOutcomeWindow()
        var restarts: [AlarmEvaluation.Restart] = []
        /// Only while an asr rule exists are CDRs counted.
        var countsCalls = false
    }
    private let shared = Mutex(Shared())

    private var tracker: AlarmTracker
    private var rules: [AlarmRule] = []
    private var intervalSeconds = 5
    private var blacklistHits = CounterWindow()
    /// The last reason the ban set could not be read, logged once until it reads again.
    private var banProblem: String?
    private let configurationChangedFlag = Atomic<Bool>(true)
    private let stopping = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    init(store: Store, webhooks: WebhookDelivery, node: String, logger: Logger) throws {
        self.store = store
        self.webhooks = webhooks
        self.node = node
        self.logger = logger
        let (active, targets) = try store.read { transaction in (try transaction.activeAlarms(), try transaction.webhookTargets()) }
        tracker = AlarmTracker(active: active)
        // Before the first call: call-state events of the first calls must find their targets.
        webhooks.configure(targets)
        if !active.isEmpty { logger.notice("\(active.count) alarms active from before the restart (vosctl alarm list)") }
    }

    // MARK: Inputs from other threads

    /// Marks this start in the store and, when an earlier run exists, notes the restart.
    func controllerStarted(recoveredCalls: Int) {
        let now = MonotonicTime.wallMilliseconds()
        do {
            guard let previous = try store.write(changesConfiguration: false, { try $0.recordControllerStart(at: now) }) else { return }
            var detail = previous.stopped != nil ? "after a clean stop" : "after an unclean exit (the previous run did not stop cleanly)"
            if recoveredCalls > 0 { detail += "; \(recoveredCalls) interrupted calls settled with ControllerRestart" }
            noteRestart(AlarmEvaluation.Restart(daemon: "vos-controller", time: now, detail: detail))
        } catch {
            logger.error("cannot record the controller's start for restart alarms: \(error)")
        }
    }

    /// The media-event connection to vos-mediad is back after it was lost.
    func mediaDaemonReturned() {
        noteRestart(AlarmEvaluation.Restart(daemon: "vos-mediad", time: MonotonicTime.wallMilliseconds(),
                                            detail: "(the controller lost its connection to vos-mediad and has it again)"))
        wake.signal()
    }

    private func noteRestart(_ restart: AlarmEvaluation.Restart) {
        shared.withLock { state in
            state.restarts.removeAll { $0.daemon == restart.daemon }
            state.restarts.append(restart)
        }
    }

    /// A CDR the ledger stored (ledger thread).
    func callRecorded(_ record: CallDetailRecord) {
        shared.withLock { state in
            if state.countsCalls { state.calls.record(record) }
        }
    }

    /// The configuration generation moved: reload rules and webhooks now.
    func configurationChanged() {
        configurationChangedFlag.store(true, ordering: .relaxed)
        wake.signal()
    }

    // MARK: Lifecycle

    func start(loop: any EventLoop, b2bua: B2BUA, mediaControlPath: String) {
        loopReader = (loop, b2bua, mediaControlPath)
        let thread = Thread { [self] in
            vos_set_thread_name("vos-alarms")
            while !stopping.load(ordering: .relaxed) {
                evaluate()
                _ = wake.wait(timeout: .now() + .seconds(intervalSeconds))
            }
            finished.signal()
        }
        thread.start()
    }

    /// Stops the thread and marks the run stopped cleanly (the next start is "after a clean stop").
    func stop() {
        stopping.store(true, ordering: .relaxed)
        wake.signal()
        if loopReader != nil, finished.wait(timeout: .now() + 5) == .timedOut {
            logger.warning("the alarm monitor did not finish its evaluation within 5 s")
        }
        do { try store.write(changesConfiguration: false) { try $0.recordControllerStop(at: MonotonicTime.wallMilliseconds()) } } catch {
            logger.error("cannot record the controller's clean stop: \(error)")
        }
    }

    // MARK: Evaluation (monitor thread)

    private func evaluate() {
        var transitions: [AlarmTransition] = []
        if configurationChangedFlag.exchange(false, ordering: .relaxed) {
            transitions += reloadConfiguration()
        }
        let now = MonotonicTime.wallMilliseconds()
        let enabled = rules.filter(\.enabled)
        guard !enabled.isEmpty else { return record(transitions) }
        let kinds = Set(enabled.map(\.kind))

        let loopView = (kinds.contains(.gatewayOffline) || kinds.contains(.blacklistHits)) && !stopping.load(ordering: .relaxed) ? readLoop() : nil
        if let hits = loopView?.hits { blacklistHits.add(hits, at: now) }
        let accounts = kinds.contains(.balance) ? readAccounts() : nil
        let banAges = kinds.contains(.banRate) ? readBanAges() : nil
        let (calls, restarts) = shared.withLock { ($0.calls, $0.restarts) }

        for rule in enabled {
            let observations: [AlarmObservation]?
            switch rule.kind {
            case .balance: observations = accounts.map { AlarmEvaluation.balance(rule, accounts: $0) }
            case .gatewayOffline: observations = loopView.map { AlarmEvaluation.gatewayOffline(rule, gateways: $0.gateways) }
            case .asr: observations = AlarmEvaluation.asr(rule, calls: calls, now: now)
            case .banRate: observations = banAges.map { AlarmEvaluation.banRate(rule, banAges: $0) }
            case .blacklistHits:
                observations = loopView.map { _ in
                    AlarmEvaluation.blacklistHits(rule, hits: blacklistHits.increase(seconds: rule.window ?? 60, now: now))
                }
            case .restart: observations = AlarmEvaluation.restart(rule, restarts: restarts, now: now)
            }
            // nil: the input could not be read this time; the rule's alarms stay as they are.
            if let observations { transitions += tracker.evaluate(rule, observations: observations, at: now) }
        }
        let longestASR = enabled.filter { $0.kind == .asr }.compactMap(\.window).max() ?? 0
        shared.withLock { $0.calls.prune(before: now - Int64(longestASR) * 1000) }
        let longestHits = enabled.filter { $0.kind == .blacklistHits }.compactMap(\.window).max() ?? 0
        blacklistHits.prune(seconds: longestHits, now: now)
        record(transitions)
    }

    private func reloadConfiguration() -> [AlarmTransition] {
        do {
            let (rules, targets, parameters) = try store.read { transaction in
                (try transaction.alarmRules(), try transaction.webhookTargets(), try transaction.parameters())
            }
            self.rules = rules
            intervalSeconds = parameters.int(.alarmCheckInterval)
            webhooks.configure(targets)
            let countsCalls = rules.contains { $0.enabled && $0.kind == .asr }
            shared.withLock { state in
                if !countsCalls { state.calls = CallOutcomeWindow() }
                state.countsCalls = countsCalls
            }
            return tracker.retain(rules, at: MonotonicTime.wallMilliseconds())
        } catch {
            logger.error("cannot load alarm rules and webhooks: \(error); keeping the previous ones")
            return []
        }
    }

    /// Routing gateways' online state and the blacklist hit count, read on the SIP loop.
    private func readLoop() -> (gateways: [(name: String, online: Bool)], hits: Int)? {
        guard let reader = loopReader else { return nil }
        let b2bua = reader.b2bua
        let read = reader.loop.waitForResult(timeout: .seconds(2)) {
            let gateways = b2bua.gatewayViews().filter { $0.kind == "routing" }.map { (name: $0.name, online: $0.online) }
            return (gateways: gateways, hits: b2bua.dynamicBlacklistHits)
        }
        guard let read else {
            // At stop the loop ends before this thread: its silence then is no news.
            if !stopping.load(ordering: .relaxed) {
                logger.warning("alarms: the SIP loop did not answer within 2 s; gateway and blacklist rules skipped this time")
            }
            return nil
        }
        return read
    }

    private func readAccounts() -> [Account]? {
        do { return try store.read { try $0.accounts() } } catch {
            logger.error("alarms: cannot read accounts: \(error)")
            return nil
        }
    }

    /// Seconds since each address in vos-mediad's ban set was banned.
    private func readBanAges() -> [Int]? {
        guard let path = loopReader?.mediaControlPath else { return nil }
        do {
            let client = try MediaControlClient(path: path, replyTimeoutMilliseconds: 2000)
            let report = try client.firewall(.bans)
            if banProblem != nil { logger.info("alarms: the firewall's ban set can be read again") }
            banProblem = nil
            return (report.bans ?? []).compactMap { ban in
                guard let timeout = ban.timeoutSeconds, let left = ban.expiresInSeconds else { return nil }
                return timeout - left
            }
        } catch {
            let problem = "\(error)"
            if banProblem != problem {
                logger.notice("alarms: ban-rate rules cannot read the firewall's ban set through vos-mediad (\(problem)); they keep their state until it can")
            }
            banProblem = problem
            return nil
        }
    }

    /// Stores, logs and posts each transition, in order.
    private func record(_ transitions: [AlarmTransition]) {
        guard !transitions.isEmpty else { return }
        do {
            try store.write(changesConfiguration: false) { transaction in
                for transition in transitions { try transaction.recordAlarmTransition(transition) }
            }
        } catch {
            logger.error("cannot store \(transitions.count) alarm changes: \(error) (vosctl alarm list is behind; webhooks still get them)")
        }
        for transition in transitions {
            let alarm = transition.alarm
            let text = "alarm \(alarm.rule) (\(alarm.kind.rawValue)) on \(alarm.subject): \(alarm.message)"
            switch transition.event {
            case .raised: logger.warning("raised \(text)")
            case .cleared: logger.notice("cleared \(text)")
            }
            let body = AlarmEventBody(transition, node: node)
            webhooks.post(.alarms) {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                return (try? encoder.encode(body)).map { Array($0) }
            }
        }
    }
}

/// The JSON an alarm webhook receives: `{"event":"alarm.raised"|"alarm.cleared","rule":...,
/// "kind":...,"subject":...,"value":...,"threshold":...,"time":...,"raisedAt":...,"message":...,
/// "node":...}`. Times are milliseconds since 1970; `threshold` is absent for kinds without one.
struct AlarmEventBody: Encodable, Sendable {
    var event: String
    var rule: String
    var kind: String
    var subject: String
    var value: Double
    var threshold: Double?
    var time: Int64
    var raisedAt: Int64
    var message: String
    var node: String

    init(_ transition: AlarmTransition, node: String) {
        event = transition.event.rawValue
        rule = transition.alarm.rule
        kind = transition.alarm.kind.rawValue
        subject = transition.alarm.subject
        value = transition.alarm.value
        threshold = transition.alarm.threshold
        time = transition.time
        raisedAt = transition.alarm.raisedAt
        message = transition.alarm.message
        self.node = node
    }
}
