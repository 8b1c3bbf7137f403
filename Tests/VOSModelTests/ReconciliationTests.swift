import Testing
import VOSModel
import VOSTestSupport

/// The vendor CDR file parser and bilateral matching (docs/BILLING.md "Bilateral reconciliation"),
/// plus the arithmetic of CDR adjustments.
@Suite struct ReconciliationTests {
    /// 2026-11-30T00:00:00Z.
    static let day: Int64 = 1_795_996_800_000

    // MARK: The file

    @Test func readsBothTimeFormsQuotesAndExtraColumns() throws {
        let rows = try VendorCDRFile.parse("""
            # exported by the vendor's switch
            callee,START_TIME,duration,cost,caller,trunk
            4420100,2026-11-30 00:00:05,61,0.0610,1001,t1
            "+4420101",1795996810,60.5,"0.0605",,t2

            4420102,2026-11-30T00:00:20.250Z,0,0,1002,"a ""quoted"" trunk, with a comma"\r
            """)
        #expect(rows.count == 3)
        #expect(rows[0] == VendorCDR(line: 3, startTime: Self.day + 5000, caller: "1001", callee: "4420100", durationSeconds: 61, cost: Money(units: 610)))
        #expect(rows[1].line == 4)
        #expect(rows[1].startTime == Self.day + 10_000)
        #expect(rows[1].caller == "")
        #expect(rows[1].callee == "+4420101")
        #expect(rows[1].durationSeconds == 61, "a fraction of a second is rounded up, as vos rounds its own")
        #expect(rows[2].line == 6)
        #expect(rows[2].startTime == Self.day + 20_250)
        #expect(rows[2].durationSeconds == 0)
    }

    @Test func parsesCivilTimesExactly() {
        #expect(VendorCDRFile.parseTime("1970-01-01 00:00:00") == 0)
        #expect(VendorCDRFile.parseTime("2000-02-29 12:00:00") == 951_825_600_000)
        #expect(VendorCDRFile.parseTime("2026-11-30 00:00:00") == Self.day)
        #expect(VendorCDRFile.parseTime("2026-02-29 00:00:00") == nil)
        #expect(VendorCDRFile.parseTime("2026-11-30 24:00:00") == nil)
        #expect(VendorCDRFile.parseTime("30/11/2026 10:00") == nil)
        #expect(VendorCDRFile.parseTime("1795996800.5") == Self.day + 500)
    }

    @Test(arguments: [
        ("start_time,caller,callee,duration,cost\n2026-11-30 00:00:05,1001,4420100,61,0.0610\nyesterday,1001,4420100,61,0.0610\n",
         "line 3, field start_time"),
        ("start_time,caller,callee,duration,cost\n\n2026-11-30 00:00:05,1001,4420100,61,0.0610\n2026-11-30 00:00:05,1001,4420100,61,$0.06\n",
         "line 4, field cost"),
        ("start_time,caller,callee,duration,cost\n2026-11-30 00:00:05,1001,4420100,-3,0.06\n", "line 2, field duration"),
        ("start_time,caller,callee,duration,cost\n2026-11-30 00:00:05,1001,,61,0.06\n", "line 2, field callee"),
        ("start_time,caller,callee,duration,cost\n2026-11-30 00:00:05,1001,44-20,61,0.06\n", "line 2, field callee"),
        ("start_time,caller,callee,duration,cost\n2026-11-30 00:00:05,1001,4420100,61,-0.06\n", "line 2, field cost"),
        ("start_time,caller,callee,duration,cost\n2026-11-30 00:00:05,1001,4420100,61\n", "line 2: 4 fields, the header has 5"),
        ("start_time,caller,callee,duration,cost\n2026-11-30 00:00:05,1001,\"4420100,61,0.06\n", "line 2: unterminated"),
        ("start,caller,callee,duration,cost\n", "line 1: the header lacks start_time"),
        ("", "line 1: no header line"),
    ])
    func refusesABadLineNamingItsNumberAndField(text: String, expected: String) throws {
        let error = try #require(throws: VendorCDRFile.LineError.self) { try VendorCDRFile.parse(text) }
        #expect(error.description.hasPrefix(expected), "\(error)")
    }

    // MARK: Matching

    /// `count` answered calls to a vendor, one every 7 s, and the vendor's file for them: its
    /// clock 0-2 s off, durations and costs as vos has them.
    static func generated(count: Int) -> ([Reconciliation.Call], [VendorCDR]) {
        var random = SeededGenerator(seed: 7)
        var ours: [Reconciliation.Call] = []
        var theirs: [VendorCDR] = []
        for index in 0..<count {
            let answer = day + Int64(index) * 7000 + Int64(random.next() % 1000)
            let callee = "44" + String(20_000_000 + random.next() % 50)  // numbers called many times
            let duration = Int(random.next() % 600)
            let cost = Money(units: Int64(duration) * 10)
            ours.append(Reconciliation.Call(cdrID: UInt64(index + 1), callID: "c\(index)", answerTime: answer, caller: "1001",
                                            callee: "00" + callee, durationSeconds: duration, cost: cost))
            theirs.append(VendorCDR(line: index + 2, startTime: answer + Int64(random.next() % 2000), caller: index % 3 == 0 ? "" : "1001",
                                    callee: "00" + callee, durationSeconds: duration, cost: cost))
        }
        return (ours, theirs)
    }

    @Test func aCleanFileMatchesEveryCall() {
        let (ours, theirs) = Self.generated(count: 2000)
        let report = Reconciliation.match(ours: ours, theirs: theirs.reversed())
        #expect(report.agrees)
        #expect(report.matched.count == 2000)
        #expect(report.matched.allSatisfy { $0.ours.callID == "c\($0.theirs.line - 2)" })
        #expect(report.totals.costDifference == .zero)
    }

    @Test func findsPlantedDifferences() throws {
        var (ours, theirs) = Self.generated(count: 2000)
        // Missing on their side: calls 100 and 1500 are not in their file.
        theirs.removeAll { $0.line == 102 || $0.line == 1502 }
        // Missing on our side: a call they bill that vos never routed, and one to a number vos did
        // call but an hour later than any call of ours.
        theirs.append(VendorCDR(line: 3000, startTime: Self.day + 40_000, caller: "", callee: "0099999", durationSeconds: 30, cost: Money(units: 300)))
        theirs.append(VendorCDR(line: 3001, startTime: Self.day + 3_600_000 * 10, caller: "1001", callee: ours[5].callee,
                                durationSeconds: 30, cost: Money(units: 300)))
        // A duration difference (beyond 1 s) and a cost difference.
        let durationIndex = try #require(theirs.firstIndex { $0.line == 502 })
        theirs[durationIndex].durationSeconds += 7
        let costIndex = try #require(theirs.firstIndex { $0.line == 802 })
        theirs[costIndex].cost += Money(units: 500)
        // Within tolerance: a 1 s duration difference is not reported.
        let nearIndex = try #require(theirs.firstIndex { $0.line == 902 })
        theirs[nearIndex].durationSeconds += 1
        // A caller mismatch: the vendor's row names another caller, so it pairs with nothing.
        let callerIndex = try #require(theirs.firstIndex { $0.line == 1202 })
        theirs[callerIndex].caller = "9999"

        let report = Reconciliation.match(ours: ours, theirs: theirs)
        #expect(!report.agrees)
        #expect(report.missingOnTheirSide.map(\.callID) == ["c100", "c1200", "c1500"])
        #expect(report.missingOnOurSide.map(\.line) == [3000, 1202, 3001])
        #expect(report.differing.count == 2)
        let duration = try #require(report.differing.first { $0.theirs.line == 502 })
        #expect(duration.differences == [.duration])
        #expect(duration.durationDifference == 7)
        #expect(duration.theirs.durationSeconds == duration.ours.durationSeconds + 7)
        let cost = try #require(report.differing.first { $0.theirs.line == 802 })
        #expect(cost.differences == [.cost])
        #expect(cost.costDifference == Money(units: 500))
        #expect(report.matched.count == 2000 - 3 - 2)
        #expect(report.totals.ours.calls == 2000)
        #expect(report.totals.theirs.calls == 2000 - 2 + 2)
        #expect(report.totals.costDifference == report.totals.theirs.cost - report.totals.ours.cost)

        // A tolerance wide enough takes the cost difference back.
        let lenient = Reconciliation.match(ours: ours, theirs: theirs,
                                           tolerance: Reconciliation.Tolerance(timeSeconds: 5, durationSeconds: 10, cost: Money(units: 500)))
        #expect(lenient.differing.isEmpty)
    }

    @Test func pairsNearestFirstAndOneToOne() {
        let call = { (id: UInt64, at: Int64) in
            Reconciliation.Call(cdrID: id, callID: "c\(id)", answerTime: Self.day + at, caller: "1001", callee: "4420",
                                durationSeconds: 60, cost: Money(units: 600))
        }
        let row = { (line: Int, at: Int64) in
            VendorCDR(line: line, startTime: Self.day + at, caller: "", callee: "+4420", durationSeconds: 60, cost: Money(units: 600))
        }
        // Two calls to one number 4 s apart, rows 3.9 s and 0.5 s after the first: the nearer row
        // takes the first call, the other row the second call.
        let report = Reconciliation.match(ours: [call(1, 0), call(2, 4000)], theirs: [row(2, 3900), row(3, 500)])
        #expect(report.agrees)
        #expect(report.matched.map { "\($0.ours.cdrID):\($0.theirs.line)" } == ["1:3", "2:2"])
        // Outside the time tolerance nothing pairs.
        let far = Reconciliation.match(ours: [call(1, 0)], theirs: [row(2, 6000)])
        #expect(far.matched.isEmpty)
        #expect(far.missingOnOurSide.count == 1)
        #expect(far.missingOnTheirSide.count == 1)
    }

    // MARK: Adjustments

    @Test func adjustmentsAddUpToTheChargeNow() {
        var record = CallDetailRecord(id: 7, callID: "c", setupTime: 0, endTime: 1, callerReceived: "1", calleeReceived: "2",
                                      mappingGateway: "m", endReason: .callerHangup, sipCode: 200, hangupSide: .caller)
        record.customerCost = Money(units: 1000)
        record.vendorCost = Money(units: 600)
        record.billedSeconds = 60
        let first = CDRAdjustment(cdrID: 7, sequence: 1, time: 2, kind: .rerate, field: .customerCost, oldValue: Money(units: 1000),
                                  newValue: Money(units: 1200), oldBilledSeconds: 60, newBilledSeconds: 61, account: "acme",
                                  reason: "r", by: "x")
        let second = CDRAdjustment(cdrID: 7, sequence: 2, time: 3, kind: .modify, field: .vendorCost, oldValue: Money(units: 600),
                                   newValue: Money(units: 500), account: "carrier", reason: "r", by: "x")
        let other = CDRAdjustment(cdrID: 8, sequence: 1, time: 3, kind: .modify, field: .vendorCost, oldValue: .zero,
                                  newValue: Money(units: 99), account: nil, reason: "r", by: "x")
        #expect(first.difference == Money(units: 200))
        #expect(second.difference == Money(units: -100))
        let adjusted = record.adjusted(by: [first, second, other])
        #expect(adjusted.customerCost == Money(units: 1200))
        #expect(adjusted.vendorCost == Money(units: 500))
        #expect(adjusted.billedSeconds == 61)
        #expect(adjusted.margin == Money(units: 700))
        #expect(record.adjusted(by: []) == record)
        #expect(CDRAdjustment.Kind.modify.historyKind == .cdrModify)
    }
}
