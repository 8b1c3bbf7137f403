import Testing
import VOSModel
@testable import VOSStore

@Suite struct CallSettlementTests {
    @Test func settlingChargesBothSidesWritesTheCDRAndHistory() throws {
        let fixture = try BillingFixture(balance: Money(whole: 10))
        _ = try fixture.authorize("a")
        let answer = BillingFixture.start + .seconds(3)
        _ = try fixture.write { try $0.markAnswered("a", at: answer) }
        let record = try #require(try fixture.write {
            try $0.settleCall("a", draft: BillingFixture.draft("a", answeredAt: answer, endedAt: answer + 61_200))
        })
        #expect(record.durationSeconds == 62)
        #expect(record.billedSeconds == 66)
        #expect(record.customerCost == Money(units: 11000))
        // Vendor: 0.6000/min per second for 62 s.
        #expect(record.vendorCost == Money(units: 6200))
        #expect(record.margin == Money(units: 4800))
        #expect(record.account == BillingFixture.customer)
        #expect(record.routingGateway == "vendor-gw")
        #expect(record.id == 1)
        #expect(try fixture.account().balance == Money(units: 89000))
        #expect(try fixture.account(BillingFixture.vendor).balance == Money(units: 993_800))
        let history = try fixture.read { try $0.accountHistory(account: BillingFixture.customer) }
        #expect(history.map(\.kind) == [.charge])
        #expect(history.first?.amount == Money(units: -11000))
        #expect(history.first?.balanceAfter == Money(units: 89000))
        #expect(history.first?.cdrID == 1)
        #expect(history.first?.callID == "call-a")
        let vendorHistory = try fixture.read { try $0.accountHistory(account: BillingFixture.vendor) }
        #expect(vendorHistory.map(\.kind) == [.vendorCharge])
        #expect(try fixture.read { try $0.accountReservation(BillingFixture.customer) } == .none)
        #expect(try fixture.read { try $0.cdrs() }.count == 1)
    }

    @Test func settlingTwiceChargesOnce() throws {
        let fixture = try BillingFixture(balance: Money(whole: 10))
        _ = try fixture.authorize("a")
        _ = try fixture.write { try $0.markAnswered("a", at: BillingFixture.start) }
        let draft = BillingFixture.draft("a", answeredAt: BillingFixture.start, endedAt: BillingFixture.start + .seconds(30))
        let (first, second) = try fixture.write { transaction in
            (try transaction.settleCall("a", draft: draft), try transaction.settleCall("a", draft: draft))
        }
        #expect(first != nil)
        #expect(second == nil)
        #expect(try fixture.write { try $0.settleCall("a", draft: draft) } == nil)
        #expect(try fixture.account().balance == Money(units: 95000))
        #expect(try fixture.read { try $0.cdrs() }.count == 1)
        #expect(try fixture.read { try $0.accountHistory(account: BillingFixture.customer) }.count == 1)
    }

    @Test func anAbortedSettlementLeavesTheCallLive() throws {
        let fixture = try BillingFixture(balance: Money(whole: 10))
        _ = try fixture.authorize("a")
        struct Crash: Error {}
        #expect(throws: Crash.self) {
            try fixture.write { transaction in
                _ = try transaction.settleCall("a", draft: BillingFixture.draft("a", answeredAt: BillingFixture.start,
                                                                               endedAt: BillingFixture.start + .seconds(30)))
                throw Crash()
            }
        }
        #expect(try fixture.read { try $0.liveCall(key: "a") } != nil)
        #expect(try fixture.read { try $0.cdrs() }.isEmpty)
        #expect(try fixture.account().balance == Money(whole: 10))
    }

    @Test func anUnansweredCallCostsNothing() throws {
        let fixture = try BillingFixture(balance: Money(whole: 10))
        _ = try fixture.authorize("a")
        let record = try #require(try fixture.write {
            try $0.settleCall("a", draft: BillingFixture.draft("a", answeredAt: nil, endedAt: BillingFixture.start + .seconds(20), reason: .callerCancel))
        })
        #expect(record.durationSeconds == 0 && record.billedSeconds == 0)
        #expect(record.customerCost == .zero && record.vendorCost == .zero)
        #expect(try fixture.account().balance == Money(whole: 10))
        #expect(try fixture.read { try $0.accountHistory(account: BillingFixture.customer) }.isEmpty)
    }

    @Test func reachingTheLimitLocksAndATopUpUnlocks() throws {
        let fixture = try BillingFixture(balance: Money(units: 5000), limitMoney: Money(units: 1000))
        // 0.6000 of credit: the call gets exactly 36 s, final.
        let deadline = try #require(try fixture.authorize("a").deadline)
        #expect(deadline.connectedSeconds == 36 && deadline.isFinal)
        _ = try fixture.write { try $0.markAnswered("a", at: BillingFixture.start) }
        _ = try fixture.write {
            try $0.settleCall("a", draft: BillingFixture.draft("a", answeredAt: BillingFixture.start,
                                                               endedAt: BillingFixture.start + .seconds(36), reason: .balanceExhausted))
        }
        var account = try fixture.account()
        #expect(account.balance == Money(units: -1000))
        #expect(account.status == .locked)
        #expect(try fixture.authorize("b").refusal?.cause == .accountLocked)
        // Back exactly to the limit is not enough; above it unlocks.
        account = try fixture.write { _ = try $0.topUp(account: BillingFixture.customer, amount: Money(units: 1)); return try $0.requireAccount(named: BillingFixture.customer) }
        #expect(account.status == .normal)
        let history = try fixture.read { try $0.accountHistory(account: BillingFixture.customer) }
        #expect(history.map(\.kind) == [.charge, .topUp])
        #expect(history.last?.balanceAfter == Money(units: -999))
    }

    @Test func aLateReleaseIsBilledOnlyUpToTheCredit() throws {
        // 0.6000 buys 36 s; the controller releases 4 s late.
        let fixture = try BillingFixture(balance: Money(units: 6000))
        let deadline = try #require(try fixture.authorize("a").deadline)
        #expect(deadline.connectedSeconds == 36 && deadline.isFinal)
        _ = try fixture.write { try $0.markAnswered("a", at: BillingFixture.start) }
        let record = try #require(try fixture.write {
            try $0.settleCall("a", draft: BillingFixture.draft("a", answeredAt: BillingFixture.start,
                                                               endedAt: BillingFixture.start + .seconds(40), reason: .balanceExhausted))
        })
        #expect(record.durationSeconds == 40)
        #expect(record.billedSeconds == 36)
        #expect(record.customerCost == Money(units: 6000))
        // The vendor still bills the real 40 s.
        #expect(record.vendorCost == Money(units: 4000))
        #expect(try fixture.account().balance == .zero)
        #expect(try fixture.account().status == .locked)
    }

    @Test func checkpointsNeverMoveBackwards() throws {
        let fixture = try BillingFixture(balance: Money(whole: 10))
        _ = try fixture.authorize("a")
        #expect(try fixture.write { try $0.checkpoint("a", connectedSeconds: 5, at: BillingFixture.start) } == false)
        _ = try fixture.write { try $0.markAnswered("a", at: BillingFixture.start) }
        try fixture.write { transaction in
            try transaction.checkpoint("a", connectedSeconds: 20, at: BillingFixture.start + .seconds(20))
            try transaction.checkpoint("a", connectedSeconds: 10, at: BillingFixture.start + .seconds(10))
        }
        #expect(try fixture.read { try $0.liveCall(key: "a") }?.checkpointSeconds == 20)
        #expect(try fixture.write { try $0.checkpoint("missing", connectedSeconds: 1, at: 0) } == false)
    }
}
