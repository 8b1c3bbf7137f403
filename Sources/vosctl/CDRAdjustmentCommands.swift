import ArgumentParser
import Foundation
import VOSModel
import VOSStore
#if canImport(Glibc)
import Glibc
#endif

/// `vosctl cdr rerate`, `cdr modify` and `cdr show`: corrections of CDR charges as audited
/// adjustments (docs/BILLING.md "Re-rating and corrections"). Parsing and printing only: the
/// arithmetic is VOSModel's `CallCharging`, the bookkeeping VOSStore's `rerateCDRs`/`modifyCDR`.
enum Operator {
    /// Who is making a change: `--by`, else the login behind sudo, else the user.
    static func name(_ by: String?) throws -> String {
        if let by {
            let trimmed = by.trimmingSpaces
            guard !trimmed.isEmpty else { throw ValidationError("--by is empty: name who makes the change") }
            return trimmed
        }
        let environment = ProcessInfo.processInfo.environment
        for key in ["SUDO_USER", "USER", "LOGNAME"] {
            if let value = environment[key]?.trimmingSpaces, !value.isEmpty { return value }
        }
        return "uid \(getuid())"
    }
}

struct CDRRerate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rerate",
        abstract: "Charge the answered CDRs of a window again with the current rate tables; differences become audited adjustments.",
        discussion: """
            Customer side: the account's rate table now; vendor side: the rate table of the clearing \
            account the CDR's routing gateway has now; the same charge rule as settlement. A CDR is \
            compared with what it costs now (earlier adjustments included) and gets an adjustment, \
            with the balance change and an account-history entry (kind rerate), only where they \
            differ, so running it twice changes nothing the second time. The CDR row itself never \
            changes. CDRs whose account, gateway or rate is gone are skipped and counted by reason.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "Re-rate calls set up at or after T (ISO 8601 such as 2026-11-01T00:00:00Z, a date (UTC midnight), or Unix seconds).") var since: String
    @Option(help: "Re-rate calls set up before T (same forms as --since).") var until: String
    @Option(help: "Only this customer account's CDRs.") var account: String?
    @Flag(help: "Count what would change; write nothing.") var dryRun = false
    @Option(help: "Reason kept with each adjustment.") var reason = "re-rated with the current rate tables"
    @Option(help: "Who re-rates (default: $SUDO_USER, else $USER).") var by: String?
    @Flag(help: "Print JSON.") var json = false

    struct Output: Encodable {
        var since: String
        var until: String
        var account: String?
        var seconds: Double
        var summary: RerateSummary
    }

    func run() throws {
        try runReportingErrors {
            let window = try CDRTimeWindow.parse(since: since, until: until)
            let who = try Operator.name(by)
            let store = try global.openStore()
            if let account, try store.read({ try $0.account(named: account) }) == nil {
                printError("vosctl: no account '\(account)' now: only the vendor side of its CDRs can be re-rated")
            }
            let started = Date()
            var reported = 0
            let summary = try store.rerateCDRs(
                RerateRequest(since: window.since, until: window.until, account: account, dryRun: dryRun,
                              reason: reason, by: who)) { done, total in
                guard total > 50_000, done == total || done - reported >= 50_000 else { return }
                reported = done
                printError("vosctl: re-rated \(done) of \(total) answered CDRs")
            }
            let seconds = Date().timeIntervalSince(started)
            if json {
                return try printJSON(Output(since: CDRRows.time(window.since), until: CDRRows.time(window.until),
                                            account: account, seconds: (seconds * 1000).rounded() / 1000, summary: summary))
            }
            print("CDRs set up \(CDRRows.time(window.since)) ..< \(CDRRows.time(window.until))"
                  + (account.map { ", account \($0)" } ?? "")
                  + (dryRun ? " (dry run: nothing written)" : "") + String(format: ", %.2f s", seconds))
            var rows: [[String]] = [
                ["examined", String(summary.examined)],
                ["unanswered", String(summary.unanswered)],
                ["changed", String(summary.changed)],
                ["customer", "\(summary.customerAdjustments) adjustments, revenue \(signed(summary.customerDelta))"],
                ["vendor", "\(summary.vendorAdjustments) adjustments, cost \(signed(summary.vendorDelta))"],
                ["skipped", String(summary.skippedTotal)],
            ]
            for (reason, count) in summary.skipped.sorted(by: { ($1.value, $0.key) < ($0.value, $1.key) }) {
                rows.append(["  \(count)", reason])
            }
            printTable(["SUMMARY", dryRun ? "(dry run)" : ""], rows)
            guard !summary.balanceChanges.isEmpty else { return }
            // The largest changes; a month's re-rate can touch every account (--json lists all).
            let shown = 20
            let changes = summary.balanceChanges.sorted { (abs($0.value.units), $1.key) > (abs($1.value.units), $0.key) }
            print("")
            printTable(["ACCOUNT", "BALANCE-CHANGE"], changes.prefix(shown).map { [$0.key, signed($0.value)] })
            if changes.count > shown { print("... \(changes.count - shown) more accounts (--json lists every one)") }
        }
    }
}

/// `+1.2000`, `-0.5000`, `0.0000`.
func signed(_ money: Money) -> String {
    money > .zero ? "+" + money.description : money.description
}

extension CDRTimeWindow {
    /// A required window, for commands that change CDR charges: naming it is the confirmation.
    static func parse(since: String, until: String) throws -> (since: Int64, until: Int64) {
        let start = try CDRFilter.parseTime(since, option: "--since")
        let end = try CDRFilter.parseTime(until, option: "--until")
        guard end > start else {
            throw ValidationError("--until \(until) is not after --since \(since): the window holds no time")
        }
        return (start, end)
    }
}

struct CDRModify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "modify",
        abstract: "Correct a CDR's customer or vendor cost by hand, as an audited adjustment.",
        discussion: """
            The CDR row is kept as written; the correction is an adjustment (who, when, why, old and \
            new value) listed by `vosctl cdr show ID`, and the difference moves the balance of the \
            customer account (or of the clearing account the routing gateway has now), with an \
            account-history entry of kind cdr-modify.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "CDR id (the ID column of `vosctl cdr list`).") var id: UInt64
    @Option(help: "What the customer should have been charged.") var customerCost: String?
    @Option(help: "What the vendor should have charged.") var vendorCost: String?
    @Option(help: "Why (kept in the audit trail).") var reason: String
    @Option(help: "Who corrects it (default: $SUDO_USER, else $USER).") var by: String?
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if customerCost == nil && vendorCost == nil {
            throw ValidationError("give --customer-cost, --vendor-cost or both: the value the CDR should have")
        }
        if reason.trimmingSpaces.isEmpty { throw ValidationError("--reason is empty: say why the CDR is corrected") }
    }

    func run() throws {
        try runReportingErrors {
            let customer = try customerCost.map { try parseMoney($0, option: "--customer-cost") }
            let vendor = try vendorCost.map { try parseMoney($0, option: "--vendor-cost") }
            let who = try Operator.name(by)
            let result = try global.openStore().write(changesConfiguration: false) {
                try $0.modifyCDR(id: id, customerCost: customer, vendorCost: vendor, reason: reason, by: who)
            }
            for warning in result.warnings { printError("vosctl: warning: \(warning)") }
            if json { return try printJSON(result) }
            for adjustment in result.adjustments {
                let side = adjustment.field == .customerCost ? "customer cost" : "vendor cost"
                let balance = adjustment.account.map { ", \($0) balance \(signed(-adjustment.difference))" } ?? ""
                print("CDR \(id): \(side) \(adjustment.oldValue) -> \(adjustment.newValue) (\(signed(adjustment.difference))\(balance))")
            }
        }
    }
}

struct CDRShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "One CDR with its charges as they are now and the adjustments that made them.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "CDR id.") var id: UInt64
    @Flag(help: "Print JSON.") var json = false

    struct Output: Encodable {
        /// The CDR as it is charged now.
        var cdr: CallDetailRecord
        var original: Charges
        var adjustments: [CDRAdjustment]
    }

    struct Charges: Encodable {
        var customerCost: Money
        var vendorCost: Money
        var billedSeconds: Int
    }

    func run() throws {
        try runReportingErrors {
            let (record, adjustments) = try global.openStore().read { transaction -> (CallDetailRecord, [CDRAdjustment]) in
                guard let record = try transaction.cdr(id: id) else { throw StoreError.notFound(kind: "CDR", name: String(id)) }
                return (record, try transaction.cdrAdjustments(cdrID: id))
            }
            let effective = record.adjusted(by: adjustments)
            if json {
                return try printJSON(Output(cdr: effective, original: Charges(
                    customerCost: record.customerCost, vendorCost: record.vendorCost, billedSeconds: record.billedSeconds),
                                            adjustments: adjustments))
            }
            let fields: [(String, String)] = [
                ("id", String(record.id)), ("call id", record.callID), ("setup", CDRRows.time(record.setupTime)),
                ("answer", record.answerTime == nil ? "-" : CDRRows.time(record.answerTime)), ("end", CDRRows.time(record.endTime)),
                ("caller", "\(record.callerReceived) -> \(record.callerSent)"),
                ("callee", "\(record.calleeReceived) -> \(record.calleeSent)"),
                ("account", record.account ?? "-"), ("mapping gateway", record.mappingGateway),
                ("routing gateway", record.routingGateway ?? "-"),
                ("end reason", "\(record.endReason.rawValue) (\(record.sipCode), \(record.hangupSide.rawValue))"),
                ("duration", "\(record.durationSeconds) s"),
                ("billed", adjustedText("\(record.billedSeconds) s", "\(effective.billedSeconds) s")),
                ("customer cost", adjustedText(record.customerCost.description, effective.customerCost.description)),
                ("vendor cost", adjustedText(record.vendorCost.description, effective.vendorCost.description)),
                ("margin", effective.margin.description),
            ]
            printTable(["FIELD", "VALUE"], fields.map { [$0.0, $0.1] })
            guard !adjustments.isEmpty else { return print("\nno adjustments") }
            print("")
            printTable(["SEQ", "TIME", "KIND", "FIELD", "OLD", "NEW", "DIFFERENCE", "ACCOUNT", "RATE", "BY", "REASON"],
                       adjustments.map { adjustment in
                           [String(adjustment.sequence), CDRRows.time(adjustment.time), adjustment.kind.rawValue,
                            adjustment.field.rawValue, adjustment.oldValue.description, adjustment.newValue.description,
                            signed(adjustment.difference), adjustment.account ?? "-", adjustment.rate ?? "-", adjustment.by,
                            adjustment.reason]
                       })
        }
    }

    /// "0.6000" when unchanged, "0.5000 (was 0.6000)" when adjusted.
    private func adjustedText(_ original: String, _ now: String) -> String {
        original == now ? now : "\(now) (was \(original))"
    }
}
