import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import VOSTestSupport
import VOSModel
@testable import VOSStore

/// `vosctl report` and the CDR columns it added to `cdr list`/`cdr export`, run as an operator
/// would against a store seeded with a hand-counted traffic mix (docs/REPORTS.md).
@Suite struct ReportCommandTests {
    /// 2026-11-30T00:00:00Z.
    static let day: Int64 = 1_795_996_800_000
    static let hour: Int64 = 3_600_000

    /// Eight calls: two answered on ven1, a busy on ven1 (a CDR from before the PDD field: only
    /// its ringing time), two 503s on ven2, a call with no route, a cancel while ringing on ven2
    /// the next day, and a cancel before any ringing.
    func seed(_ vosctl: Vosctl) throws {
        try vosctl.ok("init")
        let store = try Store(directory: vosctl.dataDirectory)
        try store.write(changesConfiguration: false) { transaction in
            func record(_ offset: Int64, _ gateway: String?, _ reason: EndReason, _ code: Int, pdd: Int64? = nil,
                        answered: (duration: Int, billed: Int, revenue: Int64, cost: Int64)? = nil,
                        legacyRinging: Bool = false) throws {
                let setup = Self.day + offset
                var cdr = CallDetailRecord(id: 0, callID: "c\(offset)-\(code)", setupTime: setup, endTime: setup + 90_000,
                                           callerReceived: "1001", calleeReceived: "44201", mappingGateway: "cust",
                                           endReason: reason, sipCode: code, hangupSide: .caller)
                cdr.routingGateway = gateway
                cdr.account = gateway == nil ? nil : "acme"
                if let pdd {
                    cdr.ringingTime = setup + pdd
                    if !legacyRinging { cdr.postDialDelayMilliseconds = Int(pdd) }
                }
                if let answered {
                    cdr.answerTime = setup + 5000
                    cdr.durationSeconds = answered.duration
                    cdr.billedSeconds = answered.billed
                    cdr.customerCost = Money(units: answered.revenue)
                    cdr.vendorCost = Money(units: answered.cost)
                    cdr.callerCodec = "PCMA"
                    cdr.calleeCodec = "G729"
                }
                try transaction.appendCDR(cdr)
            }
            try record(0, "ven1", .callerHangup, 200, pdd: 1000, answered: (60, 60, 10_000, 6000))
            try record(Self.hour, "ven1", .calleeHangup, 200, pdd: 3000, answered: (30, 36, 6000, 3000))
            try record(10, "ven1", .vendorFailure, 486, pdd: 2000, legacyRinging: true)
            try record(20, "ven2", .vendorFailure, 503)
            try record(Self.hour + 10, "ven2", .vendorFailure, 503)
            try record(30, nil, .noAvailableRouter, 503)
            try record(24 * Self.hour, "ven2", .callerCancel, 487, pdd: 4000)
            try record(40, "ven2", .callerCancel, 487)
        }
    }

    /// A table line's cells: columns are separated by two or more spaces (no cell is empty).
    func cells(_ line: Substring) -> [String] {
        line.split(separator: "  ", omittingEmptySubsequences: true).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }

    /// One column of a printed table, cut at its heading's position (cells may be empty).
    func column(_ name: String, of table: [Substring]) throws -> [String] {
        let header = String(table[0])
        let range = try #require(header.range(of: name + " "))
        let start = header.distance(from: header.startIndex, to: range.lowerBound)
        return table.dropFirst().map { line in
            let text = String(line.dropFirst(start))
            return String(text.prefix { $0 != " " })
        }
    }

    @Test func totalTableShowsEveryColumn() throws {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try seed(vosctl)
        let lines = try vosctl.ok("report").split(separator: "\n")
        #expect(lines.count == 2)
        #expect(cells(lines[0]) == ["GROUP", "ATTEMPTS", "ANSWERED", "ASR", "ACD-S", "PDD50-MS", "PDD95-MS", "NER", "MINUTES",
                                    "REVENUE", "COST", "MARGIN", "TOP-FAILURES"])
        #expect(cells(lines[1]) == ["total", "8", "2", "25.0%", "45.0", "2000", "4000", "50.0%", "1.60", "1.6000", "0.9000",
                                    "0.7000", "503:3 487:2 486:1"])
    }

    @Test func byGatewayAsTableJSONAndCSV() throws {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try seed(vosctl)
        let table = try vosctl.ok("report", "--by", "gateway").split(separator: "\n").map(cells)
        #expect(table.map { $0.first ?? "" } == ["GATEWAY", "ven2", "ven1", "-", "total"])
        #expect(table[2] == ["ven1", "3", "2", "66.7%", "45.0", "2000", "3000", "100.0%", "1.60", "1.6000", "0.9000", "0.7000", "486:1"])
        #expect(table[1] == ["ven2", "4", "0", "0.0%", "-", "4000", "4000", "25.0%", "0.00", "0.0000", "0.0000", "0.0000", "487:2 503:2"])

        let json = try #require(try vosctl.json("report", "--by", "gateway") as? [String: Any])
        #expect(json["by"] as? String == "gateway")
        let rows = try #require(json["rows"] as? [[String: Any]])
        #expect(rows.map { $0["key"] as? String } == ["ven2", "ven1", "-"])
        let ven1 = rows[1]
        #expect(ven1["attempts"] as? Int == 3 && ven1["answered"] as? Int == 2 && ven1["effective"] as? Int == 3)
        #expect(ven1["acdSeconds"] as? Double == 45 && ven1["ner"] as? Double == 1)
        #expect(ven1["pddP50Milliseconds"] as? Int == 2000 && ven1["pddP95Milliseconds"] as? Int == 3000)
        #expect(ven1["billedSeconds"] as? Int == 96 && ven1["connectedSeconds"] as? Int == 90)
        #expect(ven1["revenue"] as? String == "1.6000" && ven1["cost"] as? String == "0.9000" && ven1["margin"] as? String == "0.7000")
        #expect((ven1["topFailureCodes"] as? [[String: Int]]) == [["code": 486, "count": 1]])
        #expect(rows[0]["acdSeconds"] == nil, "no answered call, no ACD")
        let total = try #require(json["total"] as? [String: Any])
        #expect(total["attempts"] as? Int == 8 && total["asr"] as? Double == 0.25 && total["ner"] as? Double == 0.5)

        let csv = try vosctl.ok("report", "--by", "gateway", "--csv").split(separator: "\n")
        #expect(csv.first == "key,attempts,answered,effective,asr,ner,acd_s,pdd_p50_ms,pdd_p95_ms,pdd_calls,connected_s,billed_s,minutes,revenue,cost,margin,top_failure_codes")
        #expect(csv.dropFirst().map(String.init) == [
            "ven2,4,0,1,0.0000,0.2500,,4000,4000,1,0,0,0.00,0.0000,0.0000,0.0000,487:2;503:2",
            "ven1,3,2,3,0.6667,1.0000,45.0,2000,3000,3,90,96,1.60,1.6000,0.9000,0.7000,486:1",
            "-,1,0,0,0.0000,0.0000,,,,0,0,0,0.00,0.0000,0.0000,0.0000,503:1",
            "total,8,2,4,0.2500,0.5000,45.0,2000,4000,4,90,96,1.60,1.6000,0.9000,0.7000,503:3;487:2;486:1",
        ])
    }

    @Test func byHourAndDayWithinAWindow() throws {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try seed(vosctl)
        let hours = try #require(try vosctl.json("report", "--by", "hour", "--since", "2026-11-30", "--until", "2026-12-01") as? [String: Any])
        let rows = try #require(hours["rows"] as? [[String: Any]])
        #expect(rows.map { $0["key"] as? String } == ["2026-11-30T00:00Z", "2026-11-30T01:00Z"])
        #expect(rows.map { $0["attempts"] as? Int } == [5, 2])
        #expect(hours["since"] as? String == "2026-11-30T00:00:00Z" && hours["until"] as? String == "2026-12-01T00:00:00Z")
        #expect((hours["total"] as? [String: Any])?["attempts"] as? Int == 7)
        let days = try vosctl.ok("report", "--by", "day").split(separator: "\n").map(cells)
        #expect(days.map { $0.prefix(2) } == [["DAY (UTC)", "ATTEMPTS"], ["2026-11-30", "7"], ["2026-12-01", "1"], ["total", "8"]])
        let late = try #require(try vosctl.json("report", "--since", "1796000400") as? [String: Any])
        #expect((late["total"] as? [String: Any])?["attempts"] as? Int == 3, "Unix seconds: from 01:00:00, two that hour and the next day's")
        #expect(try vosctl.fails("report", "--since", "2026-12-01", "--until", "2026-11-30").contains("is not after --since"))
        #expect(try vosctl.fails("report", "--until", "soon").contains("--until 'soon' is not a time"))
        #expect(try vosctl.fails("report", "--by", "vendor").contains("vendor"))
        #expect(try vosctl.fails("report", "--json", "--csv").contains("exclusive"))
    }

    @Test func aStoreFromBeforeTheIndexIsIndexedOnce() throws {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try seed(vosctl)
        do {
            let store = try Store(directory: vosctl.dataDirectory)
            try store.write(changesConfiguration: false) { try $0.clear(.cdrReportFacts) }
        }
        let first = try vosctl.run(["report", "--by", "gateway", "--json"])
        #expect(first.status == 0)
        #expect(first.stderr.contains("indexing 8 CDRs for reports"), "\(first.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any])
        #expect((report["total"] as? [String: Any])?["attempts"] as? Int == 8)
        #expect((report["total"] as? [String: Any])?["pddP50Milliseconds"] as? Int == 2000)
        let second = try vosctl.run(["report"])
        #expect(second.status == 0 && second.stderr.isEmpty, "\(second.stderr)")
        #expect(second.stdout.contains("503:3 487:2 486:1"))
    }

    @Test func cdrListAndExportShowPDDAndCodecsAndTakeUntil() throws {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try seed(vosctl)
        let before = try #require(try vosctl.json("cdr", "list", "--until", "2026-11-30T01:00:00Z") as? [[String: Any]])
        #expect(before.count == 5, "setup before 01:00, exclusive")
        #expect(before.first?["postDialDelayMilliseconds"] as? Int == 1000)
        let window = try #require(try vosctl.json("cdr", "list", "--since", "2026-11-30T01:00:00Z", "--until", "2026-12-01") as? [[String: Any]])
        #expect(window.map { $0["sipCode"] as? Int } == [200, 503])
        #expect(try vosctl.fails("cdr", "list", "--until", "later").contains("--until 'later' is not a time"))

        let table = try vosctl.ok("cdr", "list").split(separator: "\n")
        #expect(try column("PDD-MS", of: table) == ["1000", "3000", "2000", "-", "-", "-", "4000", "-"], "the busy CDR's PDD from its ringing time")
        #expect(try column("CODECS", of: table) == ["PCMA/G729", "PCMA/G729", "-", "-", "-", "-", "-", "-"])

        try vosctl.ok("cdr", "export", "--csv", scratch.child("cdrs.csv"), "--until", "2026-11-30T00:00:01Z")
        let lines = try String(contentsOfFile: scratch.child("cdrs.csv"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 6, "header and the five calls set up in the first second")
        let columns = lines[0].split(separator: ",", omittingEmptySubsequences: false)
        let pddColumn = try #require(columns.firstIndex(of: "pdd_ms"))
        let codecColumn = try #require(columns.firstIndex(of: "callee_codec"))
        let first = lines[1].split(separator: ",", omittingEmptySubsequences: false)
        #expect(first[pddColumn] == "1000" && first[codecColumn] == "G729")
        #expect(lines[2].split(separator: ",", omittingEmptySubsequences: false)[pddColumn] == "2000")
        #expect(lines[3].split(separator: ",", omittingEmptySubsequences: false)[pddColumn] == "")
    }

    /// An export to a pipe or device writes through it: an atomic write would put a regular file
    /// in its place (as root, `--csv /dev/null` used to replace /dev/null itself).
    @Test func exportToAPipeWritesThroughItAndLeavesItAPipe() throws {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try seed(vosctl)
        let fifo = scratch.child("cdrs.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/bin/cat")
        reader.arguments = [fifo]
        let output = Pipe()
        reader.standardOutput = output
        try reader.run()
        defer { if reader.isRunning { reader.terminate() } }
        let result = try vosctl.run(["cdr", "export", "--csv", fifo])
        let type = try FileManager.default.attributesOfItem(atPath: fifo)[.type] as? FileAttributeType
        #expect(type != nil && type != .typeRegular, "the pipe is still a pipe, not a regular file")
        if type == .typeRegular { reader.terminate() }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        reader.waitUntilExit()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(text.hasPrefix("id,call_id,setup,ringing,answer,pdd_ms,end,"))
        #expect(text.split(separator: "\n").count == 9, "header and eight CDRs")
    }
}
