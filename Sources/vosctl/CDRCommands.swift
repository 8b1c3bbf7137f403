import ArgumentParser
import Foundation
import VOSModel
import VOSStore

struct CDRCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cdr", abstract: "Call detail records: query, export, re-rate and correct.",
        subcommands: [CDRList.self, CDRExport.self, CDRShow.self, CDRRerate.self, CDRModify.self])
}

/// The setup-time window shared by `cdr list`, `cdr export` and `report`: `since` inclusive,
/// `until` exclusive, so `--since 2026-11-01 --until 2026-12-01` is exactly November.
struct CDRTimeWindow: ParsableArguments {
    @Option(help: "Only calls set up at or after T (ISO 8601 such as 2026-11-23T10:00:00Z, a date (UTC midnight), or Unix seconds).") var since: String?
    @Option(help: "Only calls set up before T (same forms as --since).") var until: String?

    /// Epoch milliseconds; refuses an empty or reversed window.
    func bounds() throws -> (since: Int64?, until: Int64?) {
        let sinceMilliseconds = try since.map { try CDRFilter.parseTime($0, option: "--since") }
        let untilMilliseconds = try until.map { try CDRFilter.parseTime($0, option: "--until") }
        if let sinceMilliseconds, let untilMilliseconds, untilMilliseconds <= sinceMilliseconds {
            throw ValidationError("--until \(until ?? "") is not after --since \(since ?? ""): the window holds no time")
        }
        return (sinceMilliseconds, untilMilliseconds)
    }
}

/// Filters shared by `cdr list` and `cdr export`.
struct CDRFilter: ParsableArguments {
    @OptionGroup var window: CDRTimeWindow
    @Option(help: "Only this account.") var account: String?
    @Option(help: "Only calls through this mapping or routing gateway.") var gateway: String?
    @Option(help: "Only this end reason, e.g. NoAvailableRouter.") var reason: String?

    func predicate() throws -> (CallDetailRecord) -> Bool {
        let (sinceMilliseconds, untilMilliseconds) = try window.bounds()
        let endReason = try reason.map { text -> EndReason in
            guard let match = EndReason.allCases.first(where: { $0.rawValue.lowercased() == text.lowercased() }) else {
                throw ValidationError("unknown end reason '\(text)'; one of: \(EndReason.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return match
        }
        let account = self.account
        let gateway = self.gateway
        return { record in
            if let sinceMilliseconds, record.setupTime < sinceMilliseconds { return false }
            if let untilMilliseconds, record.setupTime >= untilMilliseconds { return false }
            if let account, record.account != account { return false }
            if let gateway, record.mappingGateway != gateway, record.routingGateway != gateway,
               !record.attempts.contains(where: { $0.gateway == gateway }) { return false }
            if let endReason, record.endReason != endReason { return false }
            return true
        }
    }

    static func parseTime(_ text: String, option: String = "--since") throws -> Int64 {
        if let seconds = Int64(text) { return seconds * 1000 }
        let full = ISO8601DateFormatter()
        if let date = full.date(from: text) { return Int64(date.timeIntervalSince1970 * 1000) }
        let dateOnly = ISO8601DateFormatter()
        dateOnly.formatOptions = [.withFullDate]
        if let date = dateOnly.date(from: text) { return Int64(date.timeIntervalSince1970 * 1000) }
        throw ValidationError("\(option) '\(text)' is not a time: use ISO 8601 (2026-11-23T10:00:00Z or 2026-11-23) or Unix seconds")
    }
}

enum CDRRows {
    static let headers = ["ID", "SETUP", "CALLER", "CALLEE", "ACCOUNT", "MAPPING", "ROUTING", "DURATION", "BILLED",
                          "REASON", "CODE", "PDD-MS", "CODECS", "HANGUP", "COST", "VENDOR-COST", "QUALITY", "ONE-WAY"]

    static func time(_ milliseconds: Int64?) -> String {
        guard let milliseconds else { return "" }
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    static func row(_ record: CallDetailRecord) -> [String] {
        [String(record.id), time(record.setupTime), record.callerReceived, record.calleeReceived, record.account ?? "",
         record.mappingGateway, record.routingGateway ?? "", "\(record.durationSeconds)", billed(record),
         record.endReason.rawValue, String(record.sipCode), postDialDelay(record), codecs(record), record.hangupSide.rawValue,
         record.customerCost.description, record.vendorCost.description, quality(record), oneWay(record)]
    }

    /// Billed seconds, with those a package's free minutes paid for: "120 (pkg 60)".
    static func billed(_ record: CallDetailRecord) -> String {
        guard let seconds = record.packageSeconds, seconds > 0 else { return String(record.billedSeconds) }
        return "\(record.billedSeconds) (pkg \(seconds))"
    }

    /// Milliseconds from the INVITE to the first 180/183 (or the answer); "-" when it neither
    /// rang nor was answered. Records from before the field existed show it from their ringing time.
    static func postDialDelay(_ record: CallDetailRecord) -> String {
        postDialDelayMilliseconds(record).map(String.init) ?? "-"
    }

    static func postDialDelayMilliseconds(_ record: CallDetailRecord) -> Int? {
        record.postDialDelayMilliseconds ?? CallDetailRecord.postDialDelay(setupTime: record.setupTime, ringingTime: record.ringingTime)
    }

    /// "PCMA/G729": the codec negotiated with the caller, then with the vendor; "-" for a leg without one.
    static func codecs(_ record: CallDetailRecord) -> String {
        guard record.callerCodec != nil || record.calleeCodec != nil else { return "-" }
        return "\(record.callerCodec ?? "-")/\(record.calleeCodec ?? "-")"
    }

    /// The caller's and the callee's band ("good/warning"), "-" without media statistics.
    static func quality(_ record: CallDetailRecord) -> String {
        guard record.callerMedia != nil || record.calleeMedia != nil else { return "-" }
        return "\(MediaQualityText.band(record.callerMedia?.quality))/\(MediaQualityText.band(record.calleeMedia?.quality))"
    }

    /// "A", "B", "A,B": the legs with one-way audio during the call; "-" for none.
    static func oneWay(_ record: CallDetailRecord) -> String {
        MediaQualityText.oneWayLegs([record.callerMedia?.oneWayAudio, record.calleeMedia?.oneWayAudio])
    }
}

struct CDRList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List CDRs, oldest first; costs and billed seconds include adjustments (re-rating, `cdr modify`).")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var filter: CDRFilter
    @Option(help: "Show at most the last N matching records.") var limit: Int?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try runReportingErrors {
            let predicate = try filter.predicate()
            var records = try global.openStore().read { try $0.effectiveCDRs($0.cdrs(matching: predicate)) }
            if let limit { records = Array(records.suffix(max(0, limit))) }
            if json { return try printJSON(records) }
            printTable(CDRRows.headers, records.map(CDRRows.row))
        }
    }
}

struct CDRExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write matching CDRs to a CSV file; costs and billed seconds include adjustments (re-rating, `cdr modify`).")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var filter: CDRFilter
    @Option(help: "Destination CSV file.") var csv: String

    static func quoted(_ field: String) -> String {
        field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" })
            ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
    }

    /// Atomically for a regular file (never a half-written CSV); in place for a device or pipe
    /// (`/dev/stdout`), which an atomic write would replace with a regular file.
    static func write(_ text: String, to path: String) throws {
        let type = (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType
        try text.write(toFile: path, atomically: type == nil || type == .typeRegular, encoding: .utf8)
    }

    /// Quality columns, caller then callee for each; empty where not measured.
    static func mediaFields(_ caller: LegMediaStatistics?, _ callee: LegMediaStatistics?) -> [String] {
        func number(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "" }
        let legs = [caller, callee]
        return legs.map { $0?.quality?.rawValue ?? "" } + legs.map { number($0?.rtcpLossPercent) }
            + legs.map { number($0?.rtcpJitterMilliseconds) } + legs.map { number($0?.roundTripMilliseconds) }
            + legs.map { leg in leg.map { $0.oneWayAudio == true ? "1" : "0" } ?? "" }
    }

    func run() throws {
        try runReportingErrors {
            let predicate = try filter.predicate()
            let records = try global.openStore().read { try $0.effectiveCDRs($0.cdrs(matching: predicate)) }
            let headers = ["id", "call_id", "setup", "ringing", "answer", "pdd_ms", "end", "duration", "billed", "caller_in", "callee_in",
                           "caller_out", "callee_out", "account", "mapping_gateway", "routing_gateway", "attempts",
                           "caller_codec", "callee_codec", "caller_dtmf", "callee_dtmf", "end_reason", "sip_code", "hangup", "customer_cost", "vendor_cost", "margin",
                           "caller_quality", "callee_quality", "caller_rtcp_loss_pct", "callee_rtcp_loss_pct",
                           "caller_rtcp_jitter_ms", "callee_rtcp_jitter_ms", "caller_rtt_ms", "callee_rtt_ms",
                           "caller_one_way", "callee_one_way"]
            var text = headers.joined(separator: ",") + "\n"
            for record in records {
                let attempts = record.attempts.map { "\($0.gateway):\($0.sipCode.map(String.init) ?? "-")" }.joined(separator: ";")
                let fields = [String(record.id), record.callID, CDRRows.time(record.setupTime), CDRRows.time(record.ringingTime),
                              CDRRows.time(record.answerTime), CDRRows.postDialDelayMilliseconds(record).map(String.init) ?? "",
                              CDRRows.time(record.endTime), String(record.durationSeconds),
                              String(record.billedSeconds), record.callerReceived, record.calleeReceived, record.callerSent,
                              record.calleeSent, record.account ?? "", record.mappingGateway, record.routingGateway ?? "",
                              attempts, record.callerCodec ?? "", record.calleeCodec ?? "", record.callerDTMF ?? "",
                              record.calleeDTMF ?? "", record.endReason.rawValue,
                              String(record.sipCode), record.hangupSide.rawValue, record.customerCost.description,
                              record.vendorCost.description, record.margin.description]
                    + Self.mediaFields(record.callerMedia, record.calleeMedia)
                text += fields.map(CDRExport.quoted).joined(separator: ",") + "\n"
            }
            do { try Self.write(text, to: csv) } catch {
                throw StoreError.io(path: csv, reason: "cannot write: \(error.localizedDescription)")
            }
            print("exported \(records.count) CDRs to \(csv)")
        }
    }
}
