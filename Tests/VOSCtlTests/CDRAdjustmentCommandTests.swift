import Foundation
import Testing
import VOSTestSupport
import VOSModel
import VOSStore

/// `vosctl cdr rerate`, `cdr modify`, `cdr show` and `vosctl reconcile` as an operator runs them
/// (docs/BILLING.md "Re-rating and corrections", "Bilateral reconciliation").
@Suite struct CDRAdjustmentCommandTests {
    /// 2026-11-30T10:00:00Z.
    static let start: Int64 = 1_796_032_800_000
    /// Five answered calls (30, 61, 90, 5 and 600 s) and one unanswered, one a minute, settled
    /// through the billing API as the controller does.
    static let durations = [30, 61, 90, 0, 5, 600]

    func prepare(_ vosctl: Vosctl, _ scratch: Scratch) throws {
        try vosctl.ok("init")
        try vosctl.ok("rate", "import", "retail", try scratch.write("retail.csv", "prefix,price,first,next\n86,1.0,6,6\n"))
        try vosctl.ok("rate", "import", "wholesale", try scratch.write("wholesale.csv", "prefix,price,first,next\n0086,0.6,1,1\n"))
        try vosctl.ok("account", "add", "acme", "--type", "prepaid", "--balance", "1000", "--rate-table", "retail")
        try vosctl.ok("account", "add", "carrier", "--type", "prepaid", "--balance", "100", "--rate-table", "wholesale")
        try vosctl.ok("gateway", "add", "mapping", "cust", "--ip", "192.0.2.10", "--account", "acme")
        try vosctl.ok("gateway", "add", "routing", "ven", "--address", "198.51.100.20", "--prefix", "86", "--clearing-account", "carrier")
        let store = try Store(directory: vosctl.dataDirectory)
        try store.write(changesConfiguration: false) { transaction in
            for (index, duration) in Self.durations.enumerated() {
                let key = "k\(index)"
                let callee = "861380013800\(index)"
                let setup = Self.start + Int64(index) * 60_000
                let request = CallAuthorizationRequest(
                    key: key, callID: "cid-\(index)", account: "acme", caller: "1001", callee: callee, mappingGateway: "cust",
                    vendor: VendorLeg(gateway: "ven", clearingAccount: "carrier", callee: "00" + callee), now: setup)
                guard try transaction.authorizeCall(request).deadline != nil else { throw Failure("call \(index) refused") }
                var draft = CallDetailRecord(id: 0, callID: "cid-\(index)", setupTime: setup,
                                             endTime: setup + 2000 + Int64(max(duration, 3)) * 1000, callerReceived: "1001",
                                             calleeReceived: callee, mappingGateway: "cust",
                                             endReason: duration == 0 ? .callerCancel : .callerHangup,
                                             sipCode: duration == 0 ? 487 : 200, hangupSide: .caller)
                draft.calleeSent = "00" + callee
                if duration > 0 {
                    _ = try transaction.markAnswered(key, at: setup + 2000)
                    draft.answerTime = setup + 2000
                }
                guard try transaction.settleCall(key, draft: draft) != nil else { throw Failure("call \(index) not settled") }
            }
        }
    }

    static let window = ["--since", "2026-11-30", "--until", "2026-12-01"]

    func rerate(_ vosctl: Vosctl, _ extra: String...) throws -> [String: Any] {
        let result = try vosctl.run(["cdr", "rerate"] + Self.window + extra + ["--by", "ops", "--json"])
        guard result.status == 0 else { throw Failure("rerate failed: \(result.stderr)") }
        let output = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        return try #require(output["summary"] as? [String: Any])
    }

    @Test func rerateAfterAPriceChangeCorrectsChargesOnce() throws {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try prepare(vosctl, scratch)
        let unchanged = try rerate(vosctl)
        #expect(unchanged["examined"] as? Int == 6)
        #expect(unchanged["unanswered"] as? Int == 1)
        #expect(unchanged["changed"] as? Int == 0)

        try vosctl.ok("rate", "import", "retail", try scratch.write("retail2.csv", "prefix,price,first,next\n86,1.2,6,6\n"))
        let dry = try rerate(vosctl, "--dry-run")
        #expect(dry["changed"] as? Int == 5)
        #expect(dry["dryRun"] as? Bool == true)
        #expect(try object(try vosctl.json("cdr", "show", "1"))["adjustments"] as? [Any] != nil)
        #expect((try object(try vosctl.json("cdr", "show", "1"))["adjustments"] as? [Any])?.isEmpty == true, "a dry run writes nothing")

        let summary = try rerate(vosctl)
        // Billed 30, 66, 90, 6, 600 s: 792 s; 0.2000/min more is 2.6400.
        #expect(summary["changed"] as? Int == 5)
        #expect(summary["customerAdjustments"] as? Int == 5)
        #expect(summary["vendorAdjustments"] as? Int == 0)
        #expect(summary["customerDelta"] as? String == "2.6400")
        #expect((summary["balanceChanges"] as? [String: String])?["acme"] == "-2.6400")
        #expect(try rerate(vosctl)["changed"] as? Int == 0, "a second run finds nothing")

        // What each view shows now.
        let records = try #require(try vosctl.json("cdr", "list") as? [[String: Any]])
        #expect(records.map { $0["customerCost"] as? String } == ["0.6000", "1.3200", "1.8000", "0.0000", "0.1200", "12.0000"])
        let report = try object(try vosctl.json("report"))
        #expect((report["total"] as? [String: Any])?["revenue"] as? String == "15.8400")
        let shown = try object(try vosctl.json("account", "show", "acme"))
        #expect(shown["balance"] as? String == "984.1600")
        let history = try #require(try vosctl.json("account", "history", "acme") as? [[String: Any]])
        #expect(history.filter { $0["kind"] as? String == "rerate" }.count == 5)
        let detail = try object(try vosctl.json("cdr", "show", "2"))
        let adjustments = try #require(detail["adjustments"] as? [[String: Any]])
        #expect(adjustments.count == 1)
        #expect(adjustments.first?["kind"] as? String == "rerate")
        #expect(adjustments.first?["oldValue"] as? String == "1.1000")
        #expect(adjustments.first?["newValue"] as? String == "1.3200")
        #expect(adjustments.first?["by"] as? String == "ops")
        #expect(adjustments.first?["rate"] as? String == "retail/86")
        #expect((detail["original"] as? [String: Any])?["customerCost"] as? String == "1.1000")
        #expect((detail["cdr"] as? [String: Any])?["customerCost"] as? String == "1.3200")
        let text = try vosctl.ok("cdr", "show", "2")
        #expect(text.contains("1.3200 (was 1.1000)"))
        #expect(text.contains("rerate"))
    }

    @Test func modifyIsAuditedAndRefusesBadInput() throws {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try prepare(vosctl, scratch)
        let output = try vosctl.ok("cdr", "modify", "2", "--customer-cost", "0.5", "--vendor-cost", "0.5",
                                   "--reason", "dispute 4411: short call", "--by", "alice")
        #expect(output.contains("CDR 2: customer cost 1.1000 -> 0.5000 (-0.6000, acme balance +0.6000)"))
        #expect(output.contains("CDR 2: vendor cost 0.6100 -> 0.5000 (-0.1100, carrier balance +0.1100)"))
        let text = try vosctl.ok("cdr", "show", "2")
        #expect(text.contains("modify"))
        #expect(text.contains("alice"))
        #expect(text.contains("dispute 4411: short call"))
        let history = try #require(try vosctl.json("account", "history", "acme") as? [[String: Any]])
        #expect(history.last?["kind"] as? String == "cdr-modify")
        #expect(history.last?["amount"] as? String == "0.6000")
        #expect(history.last?["cdrID"] as? Int == 2)

        #expect(try vosctl.fails("cdr", "modify", "2", "--customer-cost", "0.5").contains("--reason"))
        #expect(try vosctl.fails("cdr", "modify", "2", "--reason", "x").contains("--customer-cost"))
        #expect(try vosctl.fails("cdr", "modify", "2", "--customer-cost", "abc", "--reason", "x").contains("--customer-cost"))
        #expect(try vosctl.fails("cdr", "modify", "99", "--customer-cost", "1", "--reason", "x").contains("CDR '99' does not exist"))
        #expect(try vosctl.fails("cdr", "modify", "2", "--customer-cost", "0.5", "--reason", "x").contains("nothing to change"))
        let adjustments = try #require(try object(try vosctl.json("cdr", "show", "2"))["adjustments"] as? [Any])
        #expect(adjustments.count == 2, "refused corrections leave nothing")
    }

    /// The vendor's file for the prepared calls: start = vos's answer time (+1 s), durations and
    /// costs as vos has them, then the planted differences.
    func vendorFile(_ vosctl: Vosctl, plant: Bool) throws -> String {
        let records = try #require(try vosctl.json("cdr", "list") as? [[String: Any]])
        var lines = ["start_time,caller,callee,duration,cost"]
        for record in records {
            guard let answer = (record["answerTime"] as? NSNumber)?.int64Value, let id = record["id"] as? Int else { continue }
            if plant && id == 3 { continue }  // missing on their side
            let start = Date(timeIntervalSince1970: Double(answer + 1000) / 1000)
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
            var duration = try #require(record["durationSeconds"] as? Int)
            var cost = try #require(record["vendorCost"] as? String)
            if plant && id == 2 { duration += 10 }
            if plant && id == 5 { cost = "9.9900" }
            lines.append("\(formatter.string(from: start)),1001,\(record["calleeSent"] as? String ?? ""),\(duration),\(cost)")
        }
        if plant { lines.append("2026-11-30 10:30:00,,00999,60,0.6000") }  // missing on our side
        return lines.joined(separator: "\n") + "\n"
    }

    @Test func reconcileFindsPlantedDifferencesAndSaysSoInItsExitStatus() throws {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try prepare(vosctl, scratch)
        let clean = try scratch.write("clean.csv", try vendorFile(vosctl, plant: false))
        let agreed = try vosctl.run(["reconcile", "--vendor", "ven", "--file", clean])
        #expect(agreed.status == 0, "\(agreed.stdout)\(agreed.stderr)")
        #expect(agreed.stdout.contains("matched 5, differing 0, missing on our side 0, missing on their side 0"))

        let planted = try scratch.write("planted.csv", try vendorFile(vosctl, plant: true))
        let result = try vosctl.run(["reconcile", "--vendor", "ven", "--file", planted, "--json"])
        #expect(result.status == 2, "differences exit 2: \(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(report["agrees"] as? Bool == false)
        #expect(report["matched"] as? Int == 2)
        let differing = try #require(report["differing"] as? [[String: Any]])
        #expect(differing.compactMap { ($0["ours"] as? [String: Any])?["cdrID"] as? Int } == [2, 5])
        #expect(differing.map { $0["differences"] as? [String] ?? [] } == [["duration"], ["cost"]])
        let missingOurs = try #require(report["missingOnOurSide"] as? [[String: Any]])
        #expect(missingOurs.map { $0["callee"] as? String } == ["00999"])
        let missingTheirs = try #require(report["missingOnTheirSide"] as? [[String: Any]])
        #expect(missingTheirs.map { $0["cdrID"] as? Int } == [3])
        let totals = try #require(report["totals"] as? [String: Any])
        #expect((totals["ours"] as? [String: Any])?["calls"] as? Int == 5)
        #expect((totals["theirs"] as? [String: Any])?["calls"] as? Int == 5)

        let table = try vosctl.run(["reconcile", "--vendor", "ven", "--file", planted])
        #expect(table.status == 2)
        #expect(table.stdout.contains("missing on our side (the vendor bills them"))
        #expect(table.stdout.contains("missing on their side"))
    }

    @Test func aReconciliationFileWithABadLineIsRefusedNamingTheLine() throws {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try prepare(vosctl, scratch)
        let bad = try scratch.write("bad.csv", """
            start_time,caller,callee,duration,cost
            2026-11-30 10:00:03,1001,00861380013800,30,0.3000
            2026-11-30 10:01:03,1001,00861380013801,61,EUR 0.61
            """)
        let result = try vosctl.run(["reconcile", "--vendor", "ven", "--file", bad])
        #expect(result.status == 64)
        #expect(result.stderr.contains("line 3, field cost"))
        #expect(result.stdout.isEmpty, "nothing else is reported")
        #expect(try vosctl.fails("reconcile", "--vendor", "ven", "--file", scratch.child("absent.csv")).contains("cannot read"))
    }
}

/// A JSON object from `Vosctl.json`, or a test failure.
private func object(_ value: Any) throws -> [String: Any] { try #require(value as? [String: Any]) }
