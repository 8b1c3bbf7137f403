import Testing
import VOSModel
@testable import VOSStore

@Suite struct CrashRecoveryTests {
    @Test func everyInterruptedCallGetsOneCDRForItsCheckpointedTime() throws {
        let fixture = try BillingFixture(balance: Money(whole: 10))
        let checkpoints: [String: Int?] = ["a": 10, "b": 25, "c": 40, "d": 0, "e": nil]
        try fixture.write { transaction in
            for key in checkpoints.keys.sorted() {
                #expect(try transaction.authorizeCall(fixture.request(key)).deadline != nil)
            }
            for (key, seconds) in checkpoints {
                guard let seconds else { continue }
                _ = try transaction.markAnswered(key, at: BillingFixture.start)
                if seconds > 0 {
                    try transaction.checkpoint(key, connectedSeconds: seconds, at: BillingFixture.start + .seconds(seconds))
                }
            }
        }
        #expect(try fixture.read { try $0.accountReservation(BillingFixture.customer).liveCalls } == 5)

        // The controller dies: nothing but the committed store survives.
        fixture.closeStore()
        try fixture.reopenStore()

        let now = BillingFixture.start + .seconds(300)
        let recovered = try fixture.write { try $0.recoverInterruptedCalls(now: now) }
        #expect(recovered.count == 5)
        let byCall = Dictionary(uniqueKeysWithValues: recovered.map { ($0.callID, $0) })
        for (key, seconds) in checkpoints {
            let record = try #require(byCall["call-\(key)"])
            #expect(record.endReason == .controllerRestart)
            #expect(record.hangupSide == .system)
            #expect(record.durationSeconds == (seconds ?? 0))
            #expect(record.billedSeconds == BillingFixture.standardRate.billedSeconds(forDuration: seconds ?? 0))
            #expect(record.customerCost == BillingFixture.standardRate.cost(billedSeconds: record.billedSeconds))
            #expect(record.sipCode == (seconds == nil ? 500 : 200))
        }
        // a: 12 s, b: 30 s, c: 42 s billed; d answered but unproven; e never answered.
        let charged = recovered.reduce(Money.zero) { $0 + $1.customerCost }
        #expect(charged == Money(units: 14000))
        #expect(try fixture.account().balance == Money(whole: 10) - charged)
        #expect(try fixture.read { try $0.accountReservation(BillingFixture.customer) } == .none)
        #expect(try fixture.read { try $0.liveCalls() }.isEmpty)
        let history = try fixture.read { try $0.accountHistory(account: BillingFixture.customer) }
        #expect(history.count == 3)
        #expect(history.allSatisfy { $0.time == now })

        let again = try fixture.write { try $0.recoverInterruptedCalls(now: now + 1000) }
        #expect(again.isEmpty)
        #expect(try fixture.read { try $0.cdrs() }.count == 5)
        #expect(try fixture.account().balance == Money(whole: 10) - charged)
    }

    @Test func aCrashDuringRecoveryLeavesEveryCallForTheNextOne() throws {
        let fixture = try BillingFixture(balance: Money(whole: 10))
        try fixture.write { transaction in
            for key in ["a", "b"] {
                _ = try transaction.authorizeCall(fixture.request(key))
                _ = try transaction.markAnswered(key, at: BillingFixture.start)
                try transaction.checkpoint(key, connectedSeconds: 30, at: BillingFixture.start + .seconds(30))
            }
        }
        struct Killed: Error {}
        #expect(throws: Killed.self) {
            try fixture.write { transaction in
                _ = try transaction.recoverInterruptedCalls(now: BillingFixture.start)
                throw Killed()
            }
        }
        fixture.closeStore()
        try fixture.reopenStore()
        #expect(try fixture.read { try $0.liveCalls() }.count == 2)
        #expect(try fixture.write { try $0.recoverInterruptedCalls(now: BillingFixture.start) }.count == 2)
        #expect(try fixture.account().balance == Money(units: 90000))
    }
}
