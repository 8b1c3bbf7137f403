import ArgumentParser
import Foundation
import VOSModel
import VOSStore

/// `vosctl reconcile`: bilateral reconciliation of a vendor's CDR export against the calls vos
/// routed to that vendor (docs/BILLING.md "Bilateral reconciliation"). Parsing and printing only:
/// VOSModel's `VendorCDRFile` reads the file, `Reconciliation` pairs the rows.
struct ReconcileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Match a vendor's CDR file against the calls vos routed to it: matched, differing, missing on either side.",
        discussion: """
            The file is CSV with the header start_time,caller,callee,duration,cost (times UTC \
            'YYYY-MM-DD HH:MM:SS' or Unix seconds); a bad line refuses the whole file, naming the \
            line and the field. vos's side: the answered CDRs whose routing gateway is --vendor, \
            answered within the file's first and last start time (± the time tolerance), or \
            within --since ..< --until. Exit status: 0 when everything matched within tolerance, \
            2 when some row differs or is missing on either side, 1 when it could not be done, 64 \
            for bad arguments.
            """)

    /// The exit status of a reconciliation that found differences: not 1, which means it failed.
    static let differencesExitCode: Int32 = 2
    /// How long before its answer a call may have been set up (ringing, failover), for the
    /// setup-time index scan that finds vos's calls by answer time.
    static let setupLookback: Int64 = 6 * 3_600_000

    @OptionGroup var global: GlobalOptions
    @Option(help: "The routing gateway (vendor) whose calls are compared.") var vendor: String
    @Option(help: "The vendor's CDR export (CSV: start_time,caller,callee,duration,cost).") var file: String
    @Option(help: "Only calls answered (vendor: started) at or after T (ISO 8601, a date, or Unix seconds).") var since: String?
    @Option(help: "Only calls answered (vendor: started) before T.") var until: String?
    @Option(help: "Seconds between the vendor's start and vos's answer time of one call.") var timeTolerance = 5
    @Option(help: "Duration difference in seconds that is not reported.") var durationTolerance = 1
    @Option(help: "Cost difference that is not reported.") var costTolerance = "0"
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        guard (0...3600).contains(timeTolerance) else { throw ValidationError("--time-tolerance must be 0-3600 seconds") }
        guard (0...3600).contains(durationTolerance) else { throw ValidationError("--duration-tolerance must be 0-3600 seconds") }
    }

    struct Output: Encodable {
        var vendor: String
        var file: String
        var since: String
        var until: String
        var agrees: Bool
        var tolerance: Reconciliation.Tolerance
        var matched: Int
        var differing: [Reconciliation.Pair]
        var missingOnOurSide: [VendorCDR]
        var missingOnTheirSide: [Reconciliation.Call]
        /// Vendor rows outside --since/--until, left out.
        var outsideWindow: Int
        var totals: Reconciliation.Totals
    }

    func run() throws {
        try runReportingErrors {
            let costTolerance = try parseMoney(self.costTolerance, option: "--cost-tolerance")
            guard costTolerance >= .zero else { throw ValidationError("--cost-tolerance must be zero or more") }
            let tolerance = Reconciliation.Tolerance(timeSeconds: timeTolerance, durationSeconds: durationTolerance, cost: costTolerance)
            let text: String
            do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
                throw StoreError.io(path: file, reason: "cannot read: \(error.localizedDescription)")
            }
            let rows: [VendorCDR]
            do { rows = try VendorCDRFile.parse(text) } catch {
                throw ValidationError("\(file): \(error); nothing reconciled")
            }
            let (start, end) = try window(rows)
            let theirs = rows.filter { $0.startTime >= start && $0.startTime < end }

            let store = try global.openStore()
            if try store.read({ try $0.routingGateway(named: vendor) }) == nil {
                printError("vosctl: no routing gateway '\(vendor)' now: matching the CDRs that name it")
            }
            if try store.read({ try $0.cdrReportIndexLag() }) > 0 { try store.updateCDRReportIndex() }
            let ours: [Reconciliation.Call] = try store.read { transaction in
                var ids: [UInt64] = []
                try transaction.forEachCDRReportFact(since: start - Self.setupLookback, until: end) { fact in
                    if fact.answered && fact.routingGateway == vendor { ids.append(fact.id) }
                }
                return try ids.compactMap { id in
                    guard let record = try transaction.cdr(id: id) else { return nil }
                    guard let call = Reconciliation.Call(try transaction.effectiveCDR(record)),
                          call.answerTime >= start && call.answerTime < end else { return nil }
                    return call
                }
            }
            let report = Reconciliation.match(ours: ours, theirs: theirs, tolerance: tolerance)
            if json {
                try printJSON(Output(vendor: vendor, file: file, since: CDRRows.time(start), until: CDRRows.time(end),
                                     agrees: report.agrees, tolerance: tolerance, matched: report.matched.count,
                                     differing: report.differing, missingOnOurSide: report.missingOnOurSide,
                                     missingOnTheirSide: report.missingOnTheirSide, outsideWindow: rows.count - theirs.count,
                                     totals: report.totals))
            } else {
                printReport(report, start: start, end: end, outside: rows.count - theirs.count)
            }
            if !report.agrees { throw ExitCode(Self.differencesExitCode) }
        }
    }

    /// --since/--until, else the file's first and last start widened by the time tolerance.
    private func window(_ rows: [VendorCDR]) throws -> (Int64, Int64) {
        let slack = Int64(timeTolerance) * 1000
        let first = rows.map(\.startTime).min()
        let last = rows.map(\.startTime).max()
        let start = try since.map { try CDRFilter.parseTime($0, option: "--since") } ?? first.map { $0 - slack }
        let end = try until.map { try CDRFilter.parseTime($0, option: "--until") } ?? last.map { $0 + slack + 1 }
        guard let start, let end else {
            throw ValidationError("\(file) has no rows: give --since and --until to list vos's calls to \(vendor)")
        }
        guard end > start else { throw ValidationError("--until is not after --since: the window holds no time") }
        return (start, end)
    }

    private func signedCount(_ count: Int) -> String { count > 0 ? "+\(count)" : String(count) }

    private func printReport(_ report: Reconciliation.Report, start: Int64, end: Int64, outside: Int) {
        print("vendor \(vendor), \(file): \(CDRRows.time(start)) ..< \(CDRRows.time(end))"
              + (outside > 0 ? " (\(outside) rows of the file outside it left out)" : ""))
        let totals = report.totals
        printTable(["", "CALLS", "SECONDS", "COST"], [
            ["vos", String(totals.ours.calls), String(totals.ours.seconds), totals.ours.cost.description],
            ["vendor", String(totals.theirs.calls), String(totals.theirs.seconds), totals.theirs.cost.description],
            ["vendor - vos", signedCount(totals.theirs.calls - totals.ours.calls), signedCount(totals.theirs.seconds - totals.ours.seconds),
             signed(totals.costDifference)],
        ])
        print("")
        print("matched \(report.matched.count), differing \(report.differing.count), missing on our side \(report.missingOnOurSide.count), missing on their side \(report.missingOnTheirSide.count)")
        if !report.differing.isEmpty {
            print("\ndiffering (vendor - vos):")
            printTable(["CDR", "LINE", "ANSWER", "CALLEE", "DURATION", "VENDOR-DURATION", "COST", "VENDOR-COST", "DIFFERS"],
                       report.differing.map { pair in
                           [String(pair.ours.cdrID), String(pair.theirs.line), CDRRows.time(pair.ours.answerTime), pair.ours.callee,
                            String(pair.ours.durationSeconds), String(pair.theirs.durationSeconds), pair.ours.cost.description,
                            pair.theirs.cost.description, pair.differences.map(\.rawValue).joined(separator: ",")]
                       })
        }
        if !report.missingOnOurSide.isEmpty {
            print("\nmissing on our side (the vendor bills them, vos has no such call):")
            printTable(["LINE", "START", "CALLER", "CALLEE", "DURATION", "COST"], report.missingOnOurSide.map { row in
                [String(row.line), CDRRows.time(row.startTime), row.caller.isEmpty ? "-" : row.caller, row.callee,
                 String(row.durationSeconds), row.cost.description]
            })
        }
        if !report.missingOnTheirSide.isEmpty {
            print("\nmissing on their side (vos routed them to \(vendor), the file does not list them):")
            printTable(["CDR", "ANSWER", "CALLER", "CALLEE", "DURATION", "COST"], report.missingOnTheirSide.map { call in
                [String(call.cdrID), CDRRows.time(call.answerTime), call.caller, call.callee, String(call.durationSeconds),
                 call.cost.description]
            })
        }
    }
}
