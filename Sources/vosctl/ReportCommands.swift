import ArgumentParser
import Foundation
import VOSModel
import VOSStore

extension CDRReportGrouping: ExpressibleByArgument {}

/// `vosctl report`: traffic analysis over the CDRs (requirements §10). Parsing and printing only:
/// the index upkeep and scan are VOSStore's (`CDRReportIndex`), the arithmetic is VOSModel's
/// (`CDRReportAccumulator`); docs/REPORTS.md defines every column.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Traffic report from the CDRs: attempts, ASR, ACD, PDD, NER, minutes, revenue, cost, margin, failure codes.",
        discussion: """
            Rows group the CDRs set up in --since ..< --until (all by default) by the --by field, \
            with a total row last. The first report after an upgrade indexes the existing CDRs once \
            (progress on stderr). Definitions: docs/REPORTS.md.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "One row per: gateway (the routing gateway that connected the call, else the last one tried), mapping (mapping gateway), account, reason (end reason), hour or day (of the setup time, UTC). Without it, the total only.")
    var by: CDRReportGrouping?
    @OptionGroup var window: CDRTimeWindow
    @Option(help: "How many SIP codes of unanswered calls each row lists, most frequent first.") var topCodes = 3
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Print CSV (a header line, the rows, the total last).") var csv = false

    func validate() throws {
        if json && csv { throw ValidationError("--json and --csv are exclusive: pick one output") }
        if topCodes < 0 { throw ValidationError("--top-codes must be 0 or more") }
    }

    /// What `--json` prints: the window as given, then the report.
    struct Output: Encodable {
        var by: CDRReportGrouping?
        var since: String?
        var until: String?
        var rows: [CDRReportRow]
        var total: CDRReportRow
    }

    func run() throws {
        try runReportingErrors {
            let (since, until) = try window.bounds()
            let store = try global.openStore()
            try catchUpIndex(store)
            let (report, lag) = try store.read { transaction in
                (try transaction.cdrReport(grouping: by, since: since, until: until, topFailureCodes: topCodes),
                 try transaction.cdrReportIndexLag())
            }
            if lag > 0 {
                printError("vosctl: \(lag) CDRs appended since indexing are not in this report (an older vos-controller is running?); run the report again")
            }
            if json {
                return try printJSON(Output(by: by, since: since.map(CDRRows.time), until: until.map(CDRRows.time),
                                            rows: report.rows, total: report.total))
            }
            if csv { return print(ReportRows.csv(report), terminator: "") }
            printTable(ReportRows.headers(by), (report.rows + [report.total]).map(ReportRows.row))
        }
    }

    /// CDRs written before the index existed are indexed once, in batches, with a line on stderr.
    private func catchUpIndex(_ store: Store) throws {
        let lag = try store.read { try $0.cdrReportIndexLag() }
        guard lag > 0 else { return }
        printError("vosctl: indexing \(lag) CDRs for reports (once, after an upgrade or an older restore)")
        let started = Date()
        let indexed = try store.updateCDRReportIndex()
        printError("vosctl: indexed \(indexed) CDRs in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    }
}

/// The report's table and CSV forms.
enum ReportRows {
    static func headers(_ grouping: CDRReportGrouping?) -> [String] {
        [grouping?.heading ?? "GROUP", "ATTEMPTS", "ANSWERED", "ASR", "ACD-S", "PDD50-MS", "PDD95-MS", "NER", "MINUTES",
         "REVENUE", "COST", "MARGIN", "TOP-FAILURES"]
    }

    static func row(_ row: CDRReportRow) -> [String] {
        [row.key, String(row.attempts), String(row.answered), percent(row.asr), decimal(row.acdSeconds, 1),
         row.pddP50Milliseconds.map(String.init) ?? "-", row.pddP95Milliseconds.map(String.init) ?? "-",
         percent(row.ner), decimal(row.billedMinutes, 2), row.revenue.description, row.cost.description,
         row.margin.description, failures(row.topFailureCodes, separator: " ")]
    }

    static let csvHeaders = ["key", "attempts", "answered", "effective", "asr", "ner", "acd_s", "pdd_p50_ms", "pdd_p95_ms",
                             "pdd_calls", "connected_s", "billed_s", "minutes", "revenue", "cost", "margin", "top_failure_codes"]

    static func csv(_ report: CDRReport) -> String {
        var text = csvHeaders.joined(separator: ",") + "\n"
        for row in report.rows + [report.total] {
            let fields = [row.key, String(row.attempts), String(row.answered), String(row.effective), decimal(row.asr, 4, empty: ""),
                          decimal(row.ner, 4, empty: ""), decimal(row.acdSeconds, 1, empty: ""),
                          row.pddP50Milliseconds.map(String.init) ?? "", row.pddP95Milliseconds.map(String.init) ?? "",
                          String(row.pddCalls), String(row.connectedSeconds), String(row.billedSeconds),
                          decimal(row.billedMinutes, 2), row.revenue.description, row.cost.description, row.margin.description,
                          row.topFailureCodes.isEmpty ? "" : failures(row.topFailureCodes, separator: ";")]
            text += fields.map(CDRExport.quoted).joined(separator: ",") + "\n"
        }
        return text
    }

    /// "503:120 486:80": code and count.
    static func failures(_ counts: [CDRFailureCount], separator: String) -> String {
        counts.isEmpty ? "-" : counts.map { "\($0.code):\($0.count)" }.joined(separator: separator)
    }

    static func percent(_ ratio: Double?) -> String {
        ratio.map { String(format: "%.1f%%", $0 * 100) } ?? "-"
    }

    static func decimal(_ value: Double?, _ digits: Int, empty: String = "-") -> String {
        value.map { String(format: "%.\(digits)f", $0) } ?? empty
    }
}
