import Foundation
import Testing
import VOSModel
@testable import VOSStore

/// The CDR report index: written with every CDR, scanned by setup time, rebuilt for stores whose
/// CDRs predate it, carried by backups.
@Suite struct CDRReportIndexTests {
    static let day: Int64 = 1_795_996_800_000

    func makeStore(_ directory: TemporaryDirectory) throws -> Store {
        try Store.initialize(directory: directory.child("data")).store
    }

    static func record(_ index: Int, setup: Int64, gateway: String? = "ven1", answered: Bool = true) -> CallDetailRecord {
        var record = CallDetailRecord(id: 0, callID: "call-\(index)", setupTime: setup, endTime: setup + 40_000,
                                      callerReceived: "1001", calleeReceived: "4420\(index)", mappingGateway: "cust",
                                      endReason: answered ? .callerHangup : .vendorFailure, sipCode: answered ? 200 : 503,
                                      hangupSide: answered ? .caller : .system)
        record.routingGateway = gateway
        record.account = "acme"
        if answered {
            record.ringingTime = setup + 1500
            record.postDialDelayMilliseconds = 1500
            record.answerTime = setup + 4000
            record.durationSeconds = 36
            record.billedSeconds = 42
            record.customerCost = Money(units: 7000)
            record.vendorCost = Money(units: 3600)
        }
        return record
    }

    /// Appends `setups.count` CDRs, setup times deliberately out of id order (CDRs are appended
    /// when calls end, so a long call's CDR comes after shorter, later ones).
    func append(_ store: Store, _ setups: [Int64]) throws {
        try store.write(changesConfiguration: false) { transaction in
            for (index, setup) in setups.enumerated() {
                try transaction.appendCDR(Self.record(index, setup: setup, answered: index % 3 != 2))
            }
        }
    }

    func facts(_ store: Store, since: Int64? = nil, until: Int64? = nil) throws -> [CDRReportFact] {
        try store.read { transaction in
            var facts: [CDRReportFact] = []
            try transaction.forEachCDRReportFact(since: since, until: until) { facts.append($0) }
            return facts
        }
    }

    @Test func appendCDRWritesAFactThatReadsBackEveryField() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        var unusual = Self.record(0, setup: Self.day, gateway: nil, answered: false)
        unusual.account = nil
        unusual.mappingGateway = "客户-网关"
        unusual.vendorCost = Money(units: -12345)
        let written = try store.write(changesConfiguration: false) { transaction in
            (try transaction.appendCDR(Self.record(1, setup: Self.day + 1)), try transaction.appendCDR(unusual))
        }
        #expect(try store.read { try $0.count(.cdrReportFacts) } == 2)
        let facts = try facts(store)
        #expect(facts == [CDRReportFact(written.1), CDRReportFact(written.0)], "ordered by setup time, then id")
        let answered = facts[1]
        #expect(answered.id == 1 && answered.answered && answered.postDialDelayMilliseconds == 1500)
        #expect(answered.durationSeconds == 36 && answered.billedSeconds == 42 && answered.sipCode == 200)
        #expect(answered.routingGateway == "ven1" && answered.account == "acme" && answered.endReason == .callerHangup)
        #expect(answered.customerCost == Money(units: 7000) && answered.vendorCost == Money(units: 3600))
        let failed = facts[0]
        #expect(failed.id == 2 && !failed.answered && failed.postDialDelayMilliseconds == nil)
        #expect(failed.routingGateway == nil && failed.account == nil && failed.mappingGateway == "客户-网关")
        #expect(failed.vendorCost == Money(units: -12345) && failed.endReason == .vendorFailure && failed.sipCode == 503)
        #expect(try store.read { try $0.cdrReportIndexLag() } == 0)
    }

    @Test func anOverlongNameIsCutAtACharacterBoundaryInsteadOfFailingTheCall() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        var record = Self.record(0, setup: Self.day)
        record.mappingGateway = String(repeating: "é", count: 40_000)  // 80,000 UTF-8 bytes
        try store.write(changesConfiguration: false) { try $0.appendCDR(record) }
        // 65,535 bytes allowed: 32,767 whole "é" and half of the next, which is dropped.
        #expect(try facts(store).first?.mappingGateway == String(repeating: "é", count: 32_767))
        #expect(try store.read { try $0.cdrs() }.first?.mappingGateway == record.mappingGateway, "the CDR keeps it whole")
    }

    @Test func settlingACallIndexesItsCharges() throws {
        let fixture = try BillingFixture(balance: Money(whole: 10))
        _ = try fixture.authorize("a")
        let answer = BillingFixture.start + 3000
        _ = try fixture.write { try $0.markAnswered("a", at: answer) }
        var draft = BillingFixture.draft("a", answeredAt: answer, endedAt: answer + 61_200)
        draft.postDialDelayMilliseconds = 2200
        _ = try fixture.write { try $0.settleCall("a", draft: draft) }
        let report = try fixture.read { try $0.cdrReport(grouping: .gateway) }
        #expect(report.rows.map(\.key) == ["vendor-gw"])
        #expect(report.total.attempts == 1 && report.total.answered == 1)
        #expect(report.total.revenue == Money(units: 11000) && report.total.cost == Money(units: 6200))
        #expect(report.total.billedSeconds == 66 && report.total.pddP50Milliseconds == 2200)
    }

    @Test func sinceAndUntilAreARangeScanOverSetupTime() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        let hour: Int64 = 3_600_000
        // ids 1...6 with setup times out of id order.
        try append(store, [Self.day + 5 * hour, Self.day + 1 * hour, Self.day + 3 * hour, Self.day, Self.day + 4 * hour, Self.day + 1 * hour])
        #expect(try facts(store).map(\.id) == [4, 2, 6, 3, 5, 1])
        #expect(try facts(store, since: Self.day + hour).map(\.id) == [2, 6, 3, 5, 1], "since is inclusive")
        #expect(try facts(store, until: Self.day + 3 * hour).map(\.id) == [4, 2, 6], "until is exclusive")
        #expect(try facts(store, since: Self.day + hour, until: Self.day + 4 * hour).map(\.id) == [2, 6, 3])
        #expect(try facts(store, since: Self.day + 6 * hour).isEmpty)
        let byHour = try store.read { try $0.cdrReport(grouping: .hour, since: Self.day + hour, until: Self.day + 5 * hour) }
        #expect(byHour.rows.map(\.key) == ["2026-11-30T01:00Z", "2026-11-30T03:00Z", "2026-11-30T04:00Z"])
        #expect(byHour.rows.map(\.attempts) == [2, 1, 1])
        #expect(byHour.total.attempts == 4)
    }

    /// A store whose CDRs were written before the index existed: the facts table is empty.
    @Test func anOldStoreIsIndexedOnceInBatches() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        let setups = (0..<25).map { Self.day + Int64($0) * 60_000 }
        try append(store, setups)
        let expected = try facts(store)
        try store.write(changesConfiguration: false) { try $0.clear(.cdrReportFacts) }
        #expect(try store.read { try $0.cdrReportIndexLag() } == 25)
        #expect(try store.read { try $0.cdrReport(grouping: nil) }.total.attempts == 0)

        var batches: [Int] = []
        let indexed = try store.updateCDRReportIndex(batchSize: 10) { batches.append($0) }
        #expect(indexed == 25)
        #expect(batches == [10, 20, 25])
        #expect(try facts(store) == expected)
        #expect(try store.read { try $0.cdrReportIndexLag() } == 0)
        #expect(try store.updateCDRReportIndex(batchSize: 10) == 0, "nothing to do once caught up")
        let generation = try store.generation()
        #expect(try store.read { try $0.cdrReport(grouping: nil) }.total.attempts == 25)
        #expect(try store.generation() == generation, "indexing is no configuration change")
    }

    /// CDRs appended without facts after indexed ones (an older controller still running after
    /// vosctl was upgraded) are indexed from the mark, and none is counted twice.
    @Test func cdrsAppendedByAnOlderWriterAreCaughtUpWithoutDoubleCounting() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        try append(store, (0..<6).map { Self.day + Int64($0) * 1000 })
        try store.write(changesConfiguration: false) { try $0.clear(.cdrReportFacts) }
        #expect(try store.updateCDRReportIndex(batchSize: 4) == 6)
        // Two written the old way (CDR only), then one the new way.
        try store.write(changesConfiguration: false) { transaction in
            for index in 6..<8 {
                var record = Self.record(index, setup: Self.day + Int64(index) * 1000)
                record.id = UInt64(index + 1)
                try transaction.put(.cdrs, BigEndianKey.bytes(record.id), Transaction.encode(record, table: .cdrs, key: "\(record.id)"))
                try transaction.setMetaInteger(MetaKey.nextCDRID, record.id + 1)
            }
            try transaction.appendCDR(Self.record(8, setup: Self.day + 8000))
        }
        #expect(try store.read { try $0.cdrReportIndexLag() } == 2)
        #expect(try store.updateCDRReportIndex(batchSize: 4) == 3, "the two old-style CDRs and the new one, rewritten in place")
        #expect(try facts(store).map(\.id) == Array(1...9))
        #expect(try store.read { try $0.cdrReport(grouping: .gateway) }.total.attempts == 9)
    }

    @Test func factsWithoutACDRAreDroppedAndRebuilt() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        try append(store, [Self.day, Self.day + 1])
        try store.write(changesConfiguration: false) { transaction in
            var stray = CDRReportFact(Self.record(9, setup: Self.day + 5))
            stray.id = 99
            try transaction.putCDRReportFact(stray)
        }
        #expect(try store.updateCDRReportIndex() == 2)
        #expect(try facts(store).map(\.id) == [1, 2])
    }

    @Test func aCorruptFactIsReportedWithItsTableAndKey() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        try store.write(changesConfiguration: false) { transaction in
            try transaction.put(.cdrReportFacts, CDRReportIndex.key(setupTime: Self.day, id: 7), [0xC1, 0, 1])
        }
        #expect {
            try store.read { try $0.cdrReport(grouping: nil) }
        } throws: { error in
            "\(error)".contains("cdr_report_facts") && "\(error)".contains("id 7") && "\(error)".contains("header")
        }
    }

    @Test func backupAndRestoreCarryTheIndex() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        try append(store, [Self.day, Self.day + 1, Self.day + 2])
        let file = directory.child("node.vosbak")
        let manifest = try Backup.create(from: store, to: file)
        #expect(manifest.tables["cdr_report_facts"] == 3)
        let report = try Backup.restore(from: file, into: directory.child("restored"))
        #expect(report.after["cdr_report_facts"] == 3)
        let restored = try Store(directory: directory.child("restored"))
        #expect(try restored.read { try $0.cdrReportIndexLag() } == 0)
        #expect(try restored.read { try $0.cdrReport(grouping: nil) }.total.answered == 2)
    }
}
