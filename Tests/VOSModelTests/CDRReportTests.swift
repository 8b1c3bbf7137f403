import Foundation
import Testing
@testable import VOSModel

/// The report arithmetic (docs/REPORTS.md): every column of a small, hand-counted traffic mix.
@Suite struct CDRReportTests {
    /// 2026-11-30T00:00:00Z.
    static let day: Int64 = 1_795_996_800_000

    static func fact(_ id: UInt64, at offset: Int64 = 0, gateway: String?, answered: Bool = false, code: Int,
                     reason: EndReason, pdd: Int? = nil, duration: Int = 0, billed: Int = 0,
                     revenue: String = "0", cost: String = "0", account: String? = "acme") throws -> CDRReportFact {
        CDRReportFact(id: id, setupTime: day + offset, postDialDelayMilliseconds: pdd, answered: answered,
                      durationSeconds: duration, billedSeconds: billed, sipCode: code, endReason: reason,
                      mappingGateway: "cust", routingGateway: gateway, account: account,
                      customerCost: try Money(parsing: revenue), vendorCost: try Money(parsing: cost))
    }

    /// Eight calls: two answered, a busy, two vendor 503s, no route, a cancel while ringing and
    /// a cancel before any ringing.
    static func mix() throws -> [CDRReportFact] {
        [
            try fact(1, gateway: "ven1", answered: true, code: 200, reason: .callerHangup, pdd: 1000, duration: 60, billed: 60,
                     revenue: "1.0", cost: "0.6"),
            try fact(2, at: 3_600_000, gateway: "ven1", answered: true, code: 200, reason: .calleeHangup, pdd: 3000,
                     duration: 30, billed: 36, revenue: "0.6", cost: "0.3"),
            try fact(3, gateway: "ven1", code: 486, reason: .vendorFailure, pdd: 2000),
            try fact(4, gateway: "ven2", code: 503, reason: .vendorFailure),
            try fact(5, at: 3_600_000, gateway: "ven2", code: 503, reason: .vendorFailure),
            try fact(6, gateway: nil, code: 503, reason: .noAvailableRouter, account: nil),
            try fact(7, at: 86_400_000, gateway: "ven2", code: 487, reason: .callerCancel, pdd: 4000),
            try fact(8, gateway: "ven2", code: 487, reason: .callerCancel),
        ]
    }

    static func report(_ grouping: CDRReportGrouping?, topFailureCodes: Int = 3) throws -> CDRReport {
        var accumulator = CDRReportAccumulator(grouping: grouping, topFailureCodes: topFailureCodes)
        for fact in try mix() { accumulator.add(fact) }
        return accumulator.report()
    }

    @Test func totalsOfTheMix() throws {
        let report = try Self.report(nil)
        #expect(report.rows.isEmpty)
        let total = report.total
        #expect(total.key == "total")
        #expect(total.attempts == 8)
        #expect(total.answered == 2)
        #expect(total.asr == 0.25)
        // Answered 2, busy 486, the cancel while ringing; not the 503s, no route or the early cancel.
        #expect(total.effective == 4)
        #expect(total.ner == 0.5)
        #expect(total.acdSeconds == 45)
        #expect(total.connectedSeconds == 90)
        #expect(total.billedSeconds == 96)
        #expect(total.billedMinutes == 1.6)
        #expect(total.pddCalls == 4)
        // Delays 1000, 2000, 3000, 4000: nearest rank 2 of 4 and 4 of 4.
        #expect(total.pddP50Milliseconds == 2000)
        #expect(total.pddP95Milliseconds == 4000)
        #expect(total.revenue == Money(units: 16000))
        #expect(total.cost == Money(units: 9000))
        #expect(total.margin == Money(units: 7000))
        #expect(total.topFailureCodes == [CDRFailureCount(code: 503, count: 3), CDRFailureCount(code: 487, count: 2),
                                          CDRFailureCount(code: 486, count: 1)])
        #expect(try Self.report(nil, topFailureCodes: 1).total.topFailureCodes == [CDRFailureCount(code: 503, count: 3)])
    }

    @Test func byGatewayOrdersByAttemptsAndNamesCallsWithoutAVendor() throws {
        let report = try Self.report(.gateway)
        #expect(report.rows.map(\.key) == ["ven2", "ven1", "-"])
        #expect(report.rows.map(\.attempts) == [4, 3, 1])
        let ven1 = report.rows[1]
        #expect(ven1.answered == 2)
        #expect(ven1.asr == 2.0 / 3.0)
        #expect(ven1.ner == 1)
        #expect(ven1.acdSeconds == 45)
        #expect(ven1.pddP50Milliseconds == 2000 && ven1.pddP95Milliseconds == 3000)
        #expect(ven1.margin == Money(units: 7000))
        #expect(ven1.topFailureCodes == [CDRFailureCount(code: 486, count: 1)])
        let ven2 = report.rows[0]
        #expect(ven2.answered == 0 && ven2.asr == 0 && ven2.acdSeconds == nil)
        #expect(ven2.ner == 0.25)
        #expect(ven2.pddP50Milliseconds == 4000 && ven2.pddCalls == 1)
        #expect(ven2.topFailureCodes == [CDRFailureCount(code: 487, count: 2), CDRFailureCount(code: 503, count: 2)])
        #expect(report.rows[2].topFailureCodes == [CDRFailureCount(code: 503, count: 1)])
        #expect(report.total.attempts == 8)
    }

    @Test func byAccountMappingAndReason() throws {
        #expect(try Self.report(.account).rows.map(\.key) == ["acme", "-"])
        #expect(try Self.report(.mapping).rows.map { "\($0.key)=\($0.attempts)" } == ["cust=8"])
        let reasons = try Self.report(.reason).rows
        #expect(reasons.map { "\($0.key)=\($0.attempts)" } == ["VendorFailure=3", "CallerCancel=2", "CalleeHangup=1",
                                                                "CallerHangup=1", "NoAvailableRouter=1"])
    }

    @Test func byHourAndDayAreChronologicalUTC() throws {
        let hours = try Self.report(.hour).rows
        #expect(hours.map(\.key) == ["2026-11-30T00:00Z", "2026-11-30T01:00Z", "2026-12-01T00:00Z"])
        #expect(hours.map(\.attempts) == [5, 2, 1])
        let days = try Self.report(.day).rows
        #expect(days.map(\.key) == ["2026-11-30", "2026-12-01"])
        #expect(days.map(\.attempts) == [7, 1])
    }

    @Test func calendarLabelsAcrossLeapDaysAndBeforeTheEpoch() {
        #expect(CDRReportAccumulator.dayLabel(951_782_400_000) == "2000-02-29")
        #expect(CDRReportAccumulator.dayLabel(951_782_400_000 + 86_400_000) == "2000-03-01")
        #expect(CDRReportAccumulator.dayLabel(0) == "1970-01-01")
        var accumulator = CDRReportAccumulator(grouping: .hour)
        accumulator.add(CDRReportFact(id: 1, setupTime: -1, postDialDelayMilliseconds: nil, answered: false, durationSeconds: 0,
                                      billedSeconds: 0, sipCode: 503, endReason: .noAvailableRouter, mappingGateway: "c",
                                      routingGateway: nil, account: nil, customerCost: .zero, vendorCost: .zero))
        #expect(accumulator.report().rows.map(\.key) == ["1969-12-31T23:00Z"])
    }

    @Test func nearestRankPercentiles() {
        #expect(CDRReportAccumulator.percentile(50, of: [Int]()) == nil)
        #expect(CDRReportAccumulator.percentile(95, of: [7]) == 7)
        let hundred = Array(1...100)
        #expect(CDRReportAccumulator.percentile(50, of: hundred) == 50)
        #expect(CDRReportAccumulator.percentile(95, of: hundred) == 95)
        #expect(CDRReportAccumulator.percentile(95, of: Array(1...19)) == 19, "rank ceil(0.95 x 19) = 19")
        #expect(CDRReportAccumulator.percentile(50, of: [10, 20, 30]) == 20)
    }

    @Test func networkEffectivenessFollowsE425() throws {
        func effective(code: Int, reason: EndReason, answered: Bool = false, pdd: Int? = nil) throws -> Bool {
            try Self.fact(1, gateway: "v", answered: answered, code: code, reason: reason, pdd: pdd).isNetworkEffective
        }
        #expect(try effective(code: 200, reason: .callerHangup, answered: true))
        #expect(try effective(code: 486, reason: .vendorFailure))
        #expect(try effective(code: 600, reason: .vendorFailure))
        #expect(try effective(code: 480, reason: .vendorFailure))
        #expect(try effective(code: 603, reason: .vendorFailure))
        #expect(try effective(code: 408, reason: .ringingTimeout, pdd: 900))
        #expect(try effective(code: 487, reason: .callerCancel, pdd: 900))
        #expect(try !effective(code: 487, reason: .callerCancel))
        #expect(try !effective(code: 503, reason: .vendorFailure))
        #expect(try !effective(code: 404, reason: .vendorFailure))
        #expect(try !effective(code: 408, reason: .inviteTimeout))
        #expect(try !effective(code: 403, reason: .blacklisted))
        #expect(try !effective(code: 503, reason: .noAvailableRouter))
    }

    @Test func factFromARecordTakesPDDFromTheFieldOrFromOldRecordsRingingTime() throws {
        var record = CallDetailRecord(id: 9, callID: "c", setupTime: Self.day, endTime: Self.day + 70_000, callerReceived: "1",
                                      calleeReceived: "2", mappingGateway: "cust", endReason: .callerHangup, sipCode: 200,
                                      hangupSide: .caller)
        record.ringingTime = Self.day + 2500
        record.answerTime = Self.day + 10_000
        record.durationSeconds = 60
        record.billedSeconds = 66
        record.routingGateway = "ven1"
        record.customerCost = Money(units: 11000)
        record.vendorCost = Money(units: 5000)
        let old = CDRReportFact(record)
        #expect(old.postDialDelayMilliseconds == 2500)
        #expect(old.answered && old.durationSeconds == 60 && old.billedSeconds == 66 && old.routingGateway == "ven1")
        #expect(old.account == nil && old.customerCost == Money(units: 11000))
        record.postDialDelayMilliseconds = 2400
        #expect(CDRReportFact(record).postDialDelayMilliseconds == 2400, "the stored PDD wins")
        #expect(CallDetailRecord.postDialDelay(setupTime: 5000, ringingTime: 4000) == 0, "a wall-clock step never gives a negative delay")
        #expect(CallDetailRecord.postDialDelay(setupTime: 5000, ringingTime: nil) == nil)
    }

    @Test func recordsWithoutThePDDFieldStillDecode() throws {
        var record = CallDetailRecord(id: 3, callID: "c", setupTime: 1, endTime: 2, callerReceived: "1", calleeReceived: "2",
                                      mappingGateway: "m", endReason: .callerHangup, sipCode: 200, hangupSide: .caller)
        record.postDialDelayMilliseconds = 1200
        let encoded = try JSONEncoder().encode(record)
        var object = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
        #expect(object["postDialDelayMilliseconds"] as? Int == 1200)
        object["postDialDelayMilliseconds"] = nil
        let older = try JSONDecoder().decode(CallDetailRecord.self, from: try JSONSerialization.data(withJSONObject: object))
        #expect(older.postDialDelayMilliseconds == nil)
        #expect(older.id == 3)
    }

    @Test func emptyReportHasAZeroTotal() {
        let report = CDRReportAccumulator(grouping: .gateway).report()
        #expect(report.rows.isEmpty)
        #expect(report.total.attempts == 0 && report.total.asr == nil && report.total.ner == nil)
        #expect(report.total.pddP50Milliseconds == nil && report.total.margin == .zero)
    }
}
