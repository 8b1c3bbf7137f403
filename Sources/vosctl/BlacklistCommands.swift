import ArgumentParser
import Foundation
import VOSModel
import VOSStore

/// `vosctl blacklist`: the dynamic number blacklist's rules (configuration) and the entries the
/// controller made from them. Counting and blocking are the controller's; this only reads and
/// writes rows. Removing an entry bumps the generation, which is how the running controller
/// learns to admit the number again.
struct BlacklistCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blacklist", abstract: "Dynamic number blacklist: rules, and the numbers they block.",
        subcommands: [BlacklistRuleCommand.self, BlacklistList.self, BlacklistRemove.self])
}

struct BlacklistRuleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rule", abstract: "Rules: the thresholds over which a number is blocked.",
        subcommands: [BlacklistRuleAdd.self, BlacklistRuleSet.self, BlacklistRuleList.self, BlacklistRuleRemove.self])
}

extension DynamicBlacklistRule.Target: ExpressibleByArgument {}

/// The thresholds `rule add` and `rule set` share; each nil means "not given".
struct BlacklistThresholds: ParsableArguments {
    @Option(help: "Seconds a window lasts (1-86400); counts start again in each.") var window: Int?
    @Option(name: .customLong("max-calls"), help: "Calls per window; the next is refused and blocks the number (0 = off).") var maxCalls: Int?
    @Option(name: .customLong("max-concurrent"), help: "Calls up at once (0 = off).") var maxConcurrent: Int?
    @Option(name: .customLong("max-unanswered"), help: "Unanswered calls per window (0 = off).") var maxUnanswered: Int?
    @Option(name: .customLong("max-short"), help: "Answered calls shorter than --short-seconds per window (0 = off).") var maxShort: Int?
    @Option(name: .customLong("short-seconds"), help: "An answered call shorter than this is short (1-3600, default 10).") var shortSeconds: Int?
    @Option(help: "Seconds a number stays blocked (1-2592000).") var block: Int?

    var givesAny: Bool {
        [window, maxCalls, maxConcurrent, maxUnanswered, maxShort, shortSeconds, block].contains { $0 != nil }
    }

    func apply(to rule: inout DynamicBlacklistRule) {
        if let window { rule.windowSeconds = window }
        if let maxCalls { rule.maxCalls = maxCalls }
        if let maxConcurrent { rule.maxConcurrent = maxConcurrent }
        if let maxUnanswered { rule.maxUnanswered = maxUnanswered }
        if let maxShort { rule.maxShortCalls = maxShort }
        if let shortSeconds { rule.shortCallSeconds = shortSeconds }
        if let block { rule.blockSeconds = block }
    }

    /// `--short-seconds` means nothing to a rule that counts no short calls.
    static func checkShortSeconds(_ rule: DynamicBlacklistRule, given: Bool) throws {
        if given && rule.maxShortCalls == 0 {
            throw ValidationError("--short-seconds applies only with --max-short above 0 (rule '\(rule.name)' counts no short calls)")
        }
    }
}

enum BlacklistRows {
    static let ruleHeaders = ["RULE", "SCOPE", "TARGET", "WINDOW", "MAX-CALLS", "MAX-CONCURRENT", "MAX-UNANSWERED", "MAX-SHORT",
                              "SHORT-SECONDS", "BLOCK"]

    static func scope(_ gateway: String?) -> String { gateway ?? "central" }

    static func threshold(_ value: Int) -> String { value == 0 ? "off" : String(value) }

    static func rule(_ rule: DynamicBlacklistRule) -> [String] {
        [rule.name, scope(rule.gateway), rule.target.rawValue, "\(rule.windowSeconds) s", threshold(rule.maxCalls),
         threshold(rule.maxConcurrent), threshold(rule.maxUnanswered), threshold(rule.maxShortCalls),
         rule.maxShortCalls == 0 ? "-" : "\(rule.shortCallSeconds) s", "\(rule.blockSeconds) s"]
    }

    static let entryHeaders = ["NUMBER", "TARGET", "SCOPE", "RULE", "REASON", "EXPIRES"]

    static func entry(_ entry: DynamicBlacklistEntry, now: Int64) -> [String] {
        let left = max(0, (entry.expires - now + 999) / 1000)
        return [entry.number, entry.target.rawValue, scope(entry.gateway), entry.rule, entry.reason,
                "\(CDRRows.time(entry.expires)) (in \(left) s)"]
    }
}

struct BlacklistRuleAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Add a rule: central, or on one mapping or routing gateway.",
        discussion: """
        A number over any threshold in a window is blocked for --block seconds: its calls get 403 \
        Blacklisted, on every gateway (central) or on --gateway only (a mapping gateway's calls, or \
        that routing gateway as a route). Give at least one threshold.
        """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Rule name.") var name: String
    @Option(help: "The number counted and blocked: caller or callee.") var target: DynamicBlacklistRule.Target
    @Option(help: "A mapping or routing gateway (standalone mode); leave out for a central rule.") var gateway: String?
    @OptionGroup var thresholds: BlacklistThresholds

    func run() throws {
        try runReportingErrors {
            guard let window = thresholds.window else { throw ValidationError("--window SECONDS is required") }
            guard let block = thresholds.block else { throw ValidationError("--block SECONDS is required") }
            var rule = DynamicBlacklistRule(name: name, gateway: gateway, target: target, windowSeconds: window, blockSeconds: block)
            thresholds.apply(to: &rule)
            try BlacklistThresholds.checkShortSeconds(rule, given: thresholds.shortSeconds != nil)
            try global.openStore().write { try $0.addDynamicBlacklistRule(rule) }
            print("added dynamic blacklist rule \(name) (\(BlacklistRows.scope(gateway)), \(target.rawValue))")
        }
    }
}

struct BlacklistRuleSet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Change fields of a rule; fields not named keep their values.",
        discussion: "--gateway '' makes the rule central. Counts of calls up now are kept unless the scope or target changes.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Rule name.") var name: String
    @Option(help: "caller or callee.") var target: DynamicBlacklistRule.Target?
    @Option(help: "A mapping or routing gateway, '' for central.") var gateway: String?
    @OptionGroup var thresholds: BlacklistThresholds

    func run() throws {
        try runReportingErrors {
            guard target != nil || gateway != nil || thresholds.givesAny else {
                throw ValidationError("nothing to change: give at least one option")
            }
            try global.openStore().write { transaction in
                guard var rule = try transaction.dynamicBlacklistRule(named: name) else {
                    throw StoreError.notFound(kind: "dynamic blacklist rule", name: name)
                }
                if let target { rule.target = target }
                if let gateway { rule.gateway = gateway.isEmpty ? nil : gateway }
                thresholds.apply(to: &rule)
                try BlacklistThresholds.checkShortSeconds(rule, given: thresholds.shortSeconds != nil)
                try transaction.saveDynamicBlacklistRule(rule)
            }
            print("updated dynamic blacklist rule \(name)")
        }
    }
}

struct BlacklistRuleList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the rules.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try runReportingErrors {
            let rules = try global.openStore().read { try $0.dynamicBlacklistRules() }
            if json { return try printJSON(rules) }
            printTable(BlacklistRows.ruleHeaders, rules.map(BlacklistRows.rule))
        }
    }
}

struct BlacklistRuleRemove: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Remove a rule (entries it made run out on their own, or `blacklist remove` them).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Rule name.") var name: String

    func run() throws {
        try runReportingErrors {
            try global.openStore().write { try $0.removeDynamicBlacklistRule(named: name) }
            print("removed dynamic blacklist rule \(name)")
        }
    }
}

struct BlacklistList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Numbers blocked now: target, scope, rule, reason and expiry.",
        discussion: "An entry appears once the controller has stored it (a few milliseconds after the call that made it).")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON (times in milliseconds since 1970).") var json = false

    func run() throws {
        try runReportingErrors {
            let now = wallClockMilliseconds
            let entries = try global.openStore().read { try $0.dynamicBlacklistEntries(activeAt: now) }
            if json { return try printJSON(entries) }
            printTable(BlacklistRows.entryHeaders, entries.map { BlacklistRows.entry($0, now: now) })
        }
    }
}

struct BlacklistRemove: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Unblock a number now (every entry of it, or one scope's).",
        discussion: "The running controller admits the number again within about a second (its next configuration reload).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The number as listed.") var number: String
    @Option(help: "Only the entry on this gateway.") var gateway: String?
    @Flag(help: "Only the central entry.") var central = false

    func run() throws {
        try runReportingErrors {
            if gateway != nil && central { throw ValidationError("give --gateway or --central, not both") }
            let now = wallClockMilliseconds
            let removed = try global.openStore().write { transaction in
                let removed = try transaction.removeDynamicBlacklistEntries(number: number, gateway: gateway, central: central)
                    .filter { $0.isActive(at: now) }
                try transaction.purgeDynamicBlacklistEntries(expiredAt: now)
                guard !removed.isEmpty else {
                    let scope = gateway.map { " on gateway \($0)" } ?? (central ? " (central)" : "")
                    throw StoreError.conflict("no dynamic blacklist entry blocks \(number)\(scope) now (see `vosctl blacklist list`)")
                }
                return removed
            }
            for entry in removed {
                print("removed \(entry.target.rawValue) \(entry.number) (\(BlacklistRows.scope(entry.gateway)), rule \(entry.rule))")
            }
        }
    }
}
