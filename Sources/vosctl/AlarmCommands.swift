import ArgumentParser
import VOSModel
import VOSStore

/// `vosctl alarm`: alarm rules and webhook targets (configuration; each change reaches the running
/// controller within a second), and the alarms active now (stored by the controller as it raises
/// and clears them). Evaluation and delivery are the controller's; this only reads and writes rows.
/// docs/OBSERVABILITY.md "Alarms and webhooks".
struct AlarmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alarm", abstract: "Alarms: rules, webhook targets (alarms and call-state events), active alarms.",
        subcommands: [AlarmList.self, AlarmRuleCommand.self, AlarmWebhookCommand.self])
}

extension AlarmRule.Kind: ExpressibleByArgument {}

// MARK: Active alarms

struct AlarmList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Alarms active now: rule, kind, subject, value and threshold when raised.",
        discussion: "The controller stores each alarm as it raises it and deletes it as it clears it; a stopped controller's alarms stay listed until it runs again and re-evaluates them.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON (times in milliseconds since 1970).") var json = false

    func run() throws {
        try runReportingErrors {
            let alarms = try global.openStore().read { try $0.activeAlarms() }
            if json { return try printJSON(alarms) }
            printTable(["RAISED", "RULE", "KIND", "SUBJECT", "VALUE", "THRESHOLD", "MESSAGE"], alarms.map { alarm in
                [CDRRows.time(alarm.raisedAt), alarm.rule, alarm.kind.rawValue, alarm.subject, AlarmRows.number(alarm.value),
                 alarm.threshold.map(AlarmRows.number) ?? "-", alarm.message]
            })
        }
    }
}

// MARK: Rules

struct AlarmRuleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rule", abstract: "Rules: what raises an alarm.",
        subcommands: [AlarmRuleAdd.self, AlarmRuleSet.self, AlarmRuleShow.self, AlarmRuleList.self, AlarmRuleRemove.self])
}

enum AlarmRows {
    /// Whole numbers without decimals, others with up to four (balances, ASR percent).
    static func number(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e15 { return String(Int64(value)) }
        let scaled = (value * 10_000).rounded() / 10_000
        return String(scaled)
    }

    static let ruleHeaders = ["RULE", "KIND", "SUBJECT", "THRESHOLD", "WINDOW", "MIN-CALLS", "ENABLED"]

    static func rule(_ rule: AlarmRule) -> [String] {
        let threshold: String
        switch rule.kind {
        case .balance: threshold = "account's --alarm"
        case .gatewayOffline, .restart: threshold = "-"
        case .asr: threshold = rule.threshold.map { "< \(number($0)) %" } ?? "-"
        case .banRate: threshold = rule.threshold.map { "> \(number($0))/min" } ?? "-"
        case .blacklistHits: threshold = rule.threshold.map { "> \(number($0))" } ?? "-"
        }
        return [rule.name, rule.kind.rawValue, subject(rule), threshold, rule.window.map { "\($0) s" } ?? "-",
                rule.kind == .asr ? String(rule.minimumCallsInEffect) : "-", onOff(rule.enabled)]
    }

    static func subject(_ rule: AlarmRule) -> String {
        if let subject = rule.subject { return subject }
        switch rule.kind {
        case .balance: return "every account with --alarm"
        case .gatewayOffline, .asr: return "every routing gateway"
        case .restart: return "both daemons"
        case .banRate: return AlarmEvaluation.firewallSubject
        case .blacklistHits: return AlarmEvaluation.blacklistSubject
        }
    }
}

/// The options `rule add` and `rule set` share; nil means "not given", '' clears (set only).
struct AlarmRuleOptions: ParsableArguments {
    @Option(help: "Account (balance), routing gateway (gateway-offline, asr) or daemon (restart: vos-controller, vos-mediad); leave out for every one.")
    var subject: String?
    @Option(help: "asr: percent under which it raises; ban-rate: bans per minute over which; blacklist-hits: hits in the window over which.")
    var threshold: String?
    @Option(help: "Seconds (10-86400) the rate is measured over (asr 600, ban-rate and blacklist-hits 60), or a restart alarm stays active (300).")
    var window: String?
    @Option(name: .customLong("min-calls"), help: "asr: attempts in the window before the ratio is judged (default 10).")
    var minCalls: String?
    @Option(help: "on or off: an off rule raises nothing and its active alarms clear.")
    var enabled: OnOff?

    var givesAny: Bool { subject != nil || threshold != nil || window != nil || minCalls != nil || enabled != nil }

    func apply(to rule: inout AlarmRule) throws {
        if let subject { rule.subject = subject.trimmingSpaces.isEmpty ? nil : subject.trimmingSpaces }
        if let threshold {
            if threshold.trimmingSpaces.isEmpty { rule.threshold = nil } else {
                guard let value = Double(threshold.trimmingSpaces) else {
                    throw ValidationError("--threshold '\(threshold)': expected a number such as 50 or 2.5")
                }
                rule.threshold = value
            }
        }
        if let window { rule.windowSeconds = try Self.integer(window, option: "--window") }
        if let minCalls { rule.minimumCalls = try Self.integer(minCalls, option: "--min-calls") }
        if let enabled { rule.enabled = enabled.value }
    }

    /// '' is nil (the kind's default).
    private static func integer(_ text: String, option: String) throws -> Int? {
        if text.trimmingSpaces.isEmpty { return nil }
        guard let value = Int(text.trimmingSpaces) else { throw ValidationError("\(option) '\(text)': expected a whole number") }
        return value
    }
}

struct AlarmRuleAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Add an alarm rule.",
        discussion: """
        Kinds: balance (an account's balance under its own --alarm threshold), gateway-offline (a \
        routing gateway marked offline by OPTIONS checks), asr (a routing gateway's ASR under \
        --threshold percent over --window, after --min-calls attempts), ban-rate (addresses added to \
        the firewall's ban set per minute over --threshold), blacklist-hits (dynamic blacklist \
        refusals in --window over --threshold), restart (a daemon restarted; active for --window).
        """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Rule name.") var name: String
    @Option(help: "balance, gateway-offline, asr, ban-rate, blacklist-hits or restart.") var kind: AlarmRule.Kind
    @OptionGroup var options: AlarmRuleOptions

    func run() throws {
        try runReportingErrors {
            var rule = AlarmRule(name: name, kind: kind)
            try options.apply(to: &rule)
            try global.openStore().write { try $0.addAlarmRule(rule) }
            print("added alarm rule \(name) (\(kind.rawValue), \(AlarmRows.subject(rule)))")
        }
    }
}

struct AlarmRuleSet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Change fields of a rule; fields not named keep their values, '' clears one.",
        discussion: "The kind cannot change: remove the rule and add it again. --window '' and --min-calls '' go back to the kind's default.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Rule name.") var name: String
    @OptionGroup var options: AlarmRuleOptions

    func run() throws {
        try runReportingErrors {
            guard options.givesAny else { throw ValidationError("nothing to change: give at least one option") }
            try global.openStore().write { transaction in
                guard var rule = try transaction.alarmRule(named: name) else { throw StoreError.notFound(kind: "alarm rule", name: name) }
                try options.apply(to: &rule)
                try transaction.saveAlarmRule(rule)
            }
            print("updated alarm rule \(name)")
        }
    }
}

struct AlarmRuleShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "One rule, every field, and its active alarms.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Rule name.") var name: String
    @Flag(help: "Print JSON (the stored rule; absent fields are at their defaults).") var json = false

    func run() throws {
        try runReportingErrors {
            let (found, alarms) = try global.openStore().read { transaction in
                (try transaction.alarmRule(named: name), try transaction.activeAlarms().filter { $0.rule == name })
            }
            guard let rule = found else { throw StoreError.notFound(kind: "alarm rule", name: name) }
            if json { return try printJSON(rule) }
            let row = AlarmRows.rule(rule)
            printTable(["FIELD", "VALUE"], zip(AlarmRows.ruleHeaders.map { $0.lowercased() }, row).map { [$0, $1] }
                + [["active", alarms.isEmpty ? "none" : alarms.map { "\($0.subject) since \(CDRRows.time($0.raisedAt))" }.joined(separator: "; ")]])
        }
    }
}

struct AlarmRuleList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the alarm rules.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try runReportingErrors {
            let rules = try global.openStore().read { try $0.alarmRules() }
            if json { return try printJSON(rules) }
            printTable(AlarmRows.ruleHeaders, rules.map(AlarmRows.rule))
        }
    }
}

struct AlarmRuleRemove: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Remove a rule; the controller clears its active alarms (and reports the clear).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Rule name.") var name: String

    func run() throws {
        try runReportingErrors {
            try global.openStore().write { try $0.removeAlarmRule(named: name) }
            print("removed alarm rule \(name)")
        }
    }
}

// MARK: Webhooks

struct AlarmWebhookCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook", abstract: "Webhook targets: where alarms and call-state events are POSTed as JSON.",
        subcommands: [AlarmWebhookAdd.self, AlarmWebhookSet.self, AlarmWebhookShow.self, AlarmWebhookList.self, AlarmWebhookRemove.self])
}

enum WebhookRows {
    static let headers = ["WEBHOOK", "URL", "EVENTS", "RETRIES", "RETRY-INTERVAL", "TIMEOUT"]

    static func row(_ target: WebhookTarget) -> [String] {
        [target.name, target.url, target.events.map(\.rawValue).joined(separator: ","), String(target.retries),
         "\(target.retryIntervalSeconds) s", "\(target.timeoutSeconds) s"]
    }
}

/// The options `webhook add` and `webhook set` share; nil means "not given", '' puts a number back
/// to its default.
struct WebhookOptions: ParsableArguments {
    @Option(help: "http://HOST[:PORT][/PATH] (https is not supported: the appliance has no TLS library; use a local TLS proxy).")
    var url: String?
    @Option(help: "alarms, calls, or alarms,calls (default alarms).") var events: String?
    @Option(help: "Attempts after a failed one (0-100, default 3).") var retries: String?
    @Option(name: .customLong("retry-interval"), help: "Seconds between attempts (1-3600, default 5).") var retryInterval: String?
    @Option(help: "Seconds an attempt may take: connect, send, answer (1-60, default 5).") var timeout: String?

    var givesAny: Bool { url != nil || events != nil || retries != nil || retryInterval != nil || timeout != nil }

    func apply(to target: inout WebhookTarget) throws {
        if let url { target.url = url.trimmingSpaces }
        if let events {
            var parsed: [WebhookTarget.Events] = []
            for word in parseNameList(events) {
                guard let kind = WebhookTarget.Events(rawValue: word.lowercased()) else {
                    throw ValidationError("--events '\(events)': expected alarms, calls or alarms,calls")
                }
                parsed.append(kind)
            }
            target.events = parsed.isEmpty ? [.alarms] : parsed
        }
        if let retries { target.retries = try Self.integer(retries, option: "--retries") ?? WebhookTarget.defaultRetries }
        if let retryInterval {
            target.retryIntervalSeconds = try Self.integer(retryInterval, option: "--retry-interval") ?? WebhookTarget.defaultRetryIntervalSeconds
        }
        if let timeout { target.timeoutSeconds = try Self.integer(timeout, option: "--timeout") ?? WebhookTarget.defaultTimeoutSeconds }
    }

    private static func integer(_ text: String, option: String) throws -> Int? {
        if text.trimmingSpaces.isEmpty { return nil }
        guard let value = Int(text.trimmingSpaces) else { throw ValidationError("\(option) '\(text)': expected a whole number") }
        return value
    }
}

struct AlarmWebhookAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Add a webhook target.",
        discussion: """
        Alarms are POSTed as {"event":"alarm.raised"|"alarm.cleared","rule",...}; call-state events \
        as {"event":"call.start"|"call.answer"|"call.end","call":{...}} with the CDR's field names \
        (call.end carries the stored CDR). A failed POST is tried again --retries times, \
        --retry-interval seconds apart.
        """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Webhook name.") var name: String
    @OptionGroup var options: WebhookOptions

    func run() throws {
        try runReportingErrors {
            guard let url = options.url else { throw ValidationError("--url URL is required") }
            var target = WebhookTarget(name: name, url: url)
            try options.apply(to: &target)
            try global.openStore().write { try $0.addWebhookTarget(target) }
            print("added webhook \(name) (\(target.url), \(target.events.map(\.rawValue).joined(separator: ",")))")
        }
    }
}

struct AlarmWebhookSet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Change fields of a webhook; fields not named keep their values, '' puts a number back to its default.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Webhook name.") var name: String
    @OptionGroup var options: WebhookOptions

    func run() throws {
        try runReportingErrors {
            guard options.givesAny else { throw ValidationError("nothing to change: give at least one option") }
            try global.openStore().write { transaction in
                guard var target = try transaction.webhookTarget(named: name) else { throw StoreError.notFound(kind: "webhook", name: name) }
                try options.apply(to: &target)
                try transaction.saveWebhookTarget(target)
            }
            print("updated webhook \(name)")
        }
    }
}

struct AlarmWebhookShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "One webhook, every field.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Webhook name.") var name: String
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try runReportingErrors {
            guard let target = try global.openStore().read({ try $0.webhookTarget(named: name) }) else {
                throw StoreError.notFound(kind: "webhook", name: name)
            }
            if json { return try printJSON(target) }
            printTable(["FIELD", "VALUE"], zip(WebhookRows.headers.map { $0.lowercased() }, WebhookRows.row(target)).map { [$0, $1] })
        }
    }
}

struct AlarmWebhookList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the webhook targets.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try runReportingErrors {
            let targets = try global.openStore().read { try $0.webhookTargets() }
            if json { return try printJSON(targets) }
            printTable(WebhookRows.headers, targets.map(WebhookRows.row))
        }
    }
}

struct AlarmWebhookRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a webhook target (what it still queued is dropped).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Webhook name.") var name: String

    func run() throws {
        try runReportingErrors {
            try global.openStore().write { try $0.removeWebhookTarget(named: name) }
            print("removed webhook \(name)")
        }
    }
}
