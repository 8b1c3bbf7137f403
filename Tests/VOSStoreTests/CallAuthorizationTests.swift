import Testing
import VOSModel
@testable import VOSStore

@Suite struct CallAuthorizationTests {
    @Test func aLockedAccountIsRefusedWith403() throws {
        let fixture = try BillingFixture(balance: Money(whole: 10))
        try fixture.write { try $0.setAccountStatus(BillingFixture.customer, to: .locked) }
        let refusal = try #require(try fixture.authorize("a").refusal)
        #expect(refusal.cause == .accountLocked)
        #expect(refusal.endReason == .accountLocked)
        #expect(refusal.sipCode == 403)
        #expect(try fixture.read { try $0.liveCalls() }.isEmpty)
    }

    @Test func creditBelowTheFirstIntervalIsRefused() throws {
        // The first 6 s cost 0.1000; 0.0999 of credit cannot buy them.
        let fixture = try BillingFixture(balance: Money(units: 499), limitMoney: Money(units: 500))
        let refusal = try #require(try fixture.authorize("a").refusal)
        #expect(refusal.cause == .insufficientCredit)
        #expect(refusal.endReason == .accountBalanceNotEnough)
        #expect(refusal.sipCode == 403)
        #expect(refusal.detail.contains("0.0999 available"))
    }

    @Test func theAdvanceTimeIsKeptBack() throws {
        // 0.1000 buys the first interval, but 60 s of advance time add 1.0000 more.
        let exact = try BillingFixture(balance: Money(units: 1000))
        #expect(try exact.authorize("a").deadline != nil)
        let withAdvance = try BillingFixture(balance: Money(units: 1000), parameters: [.overdraftAdvanceTime: "60"])
        let refusal = try #require(try withAdvance.authorize("a").refusal)
        #expect(refusal.cause == .insufficientCredit)
        #expect(refusal.detail.contains("60 s advance time"))
        let enough = try BillingFixture(balance: Money(units: 11000), parameters: [.overdraftAdvanceTime: "60"])
        let deadline = try #require(try enough.authorize("a").deadline)
        // 1.1000 less 1.0000 advance buys exactly the first interval, and no more will come.
        #expect(deadline.connectedSeconds == 6)
        #expect(deadline.isFinal)
    }

    @Test func liveCallsReservationsCountAgainstNewCalls() throws {
        let fixture = try BillingFixture(balance: Money(units: 4500))
        let policy = ReservationPolicy(quotaSeconds: 6)
        // Each call reserves first interval + one 6 s quota = 0.2000.
        for key in ["a", "b"] {
            let deadline = try #require(try fixture.write { try $0.authorizeCall(fixture.request(key), policy: policy) }.deadline)
            #expect(deadline.connectedSeconds == 12)
            #expect(!deadline.isFinal)
        }
        // 0.0500 remains free: not even a first interval.
        let refusal = try #require(try fixture.write { try $0.authorizeCall(fixture.request("c"), policy: policy) }.refusal)
        #expect(refusal.cause == .insufficientCredit)
        let totals = try fixture.read { try $0.accountReservation(BillingFixture.customer) }
        #expect(totals == AccountReservation(reserved: Money(units: 4000), liveCalls: 2))
    }

    @Test func theConcurrentCallLimitGives503() throws {
        let fixture = try BillingFixture(balance: Money(whole: 100), concurrentLimit: 2)
        #expect(try fixture.authorize("a").deadline != nil)
        #expect(try fixture.authorize("b").deadline != nil)
        let refusal = try #require(try fixture.authorize("c").refusal)
        #expect(refusal.cause == .concurrentLimit)
        #expect(refusal.endReason == .rateLimited)
        #expect(refusal.sipCode == 503)
        try fixture.write { _ = try $0.settleCall("a", draft: BillingFixture.draft("a", answeredAt: nil, endedAt: BillingFixture.start)) }
        #expect(try fixture.authorize("c").deadline != nil)
    }

    @Test func aCalleeWithoutARateIsRefused() throws {
        let fixture = try BillingFixture(balance: Money(whole: 100))
        let refusal = try #require(try fixture.authorize("a", callee: "4420700000").refusal)
        #expect(refusal.cause == .noRate)
        #expect(refusal.endReason == .accountBalanceNotEnough)
        #expect(refusal.sipCode == 403)
        #expect(refusal.detail.contains("4420700000") && refusal.detail.contains("retail"))
    }

    @Test func anAccountWithoutRateTableOrUnknownIsRefused() throws {
        let fixture = try BillingFixture(balance: Money(whole: 100))
        try fixture.write { transaction in
            var account = try transaction.requireAccount(named: BillingFixture.customer)
            account.rateTable = nil
            try transaction.saveAccount(account)
        }
        #expect(try fixture.authorize("a").refusal?.cause == .noRate)
        var request = fixture.request("b")
        request.account = "nobody"
        let refusal = try #require(try fixture.write { try $0.authorizeCall(request) }.refusal)
        #expect(refusal.cause == .unknownAccount)
        #expect(refusal.sipCode == 403)
    }

    @Test func aKeyThatIsAlreadyLiveThrows() throws {
        let fixture = try BillingFixture(balance: Money(whole: 100))
        _ = try fixture.authorize("a")
        #expect { try fixture.authorize("a") } throws: { "\($0)".contains("live call 'a' already exists") }
    }

    @Test func longestPrefixWinsAndTheVendorRateIsFound() throws {
        let fixture = try BillingFixture(balance: Money(whole: 100), rates: [
            BillingFixture.standardRate,
            RateEntry(prefix: "8613", pricePerMinute: Money(whole: 2), firstInterval: 30, nextInterval: 6),
        ])
        _ = try fixture.authorize("a")
        let call = try #require(try fixture.read { try $0.liveCall(key: "a") })
        #expect(call.rate.prefix == "8613")
        #expect(call.vendorRate?.prefix == "0086")
        // 30 s first interval + 60 s quota, aligned to 6 s steps.
        #expect(call.coveredSeconds == 90)
        #expect(call.reserved == Money(whole: 3))
    }

    @Test func postpaidWithoutAntiOverdraftHasNoDeadline() throws {
        let fixture = try BillingFixture(balance: .zero, limitMoney: Money(whole: 1), kind: .postpaid, antiOverdraft: false)
        let deadline = try #require(try fixture.authorize("a").deadline)
        #expect(deadline.connectedSeconds == nil)
        #expect(!deadline.isFinal)
        let answered = try #require(try fixture.write { try $0.markAnswered("a", at: BillingFixture.start) })
        #expect(answered.releaseAt == nil)
        // It runs past its credit line: charged in full, and the account locks.
        let record = try #require(try fixture.write {
            try $0.settleCall("a", draft: BillingFixture.draft("a", answeredAt: BillingFixture.start,
                                                               endedAt: BillingFixture.start + .seconds(120)))
        })
        #expect(record.customerCost == Money(whole: 2))
        let account = try fixture.account()
        #expect(account.balance == Money(whole: -2))
        #expect(account.status == .locked)
    }

    @Test func extensionsAreGrantedUntilTheCreditRunsOut() throws {
        // 1.0000 buys 60 s; quota 30 s per slice.
        let fixture = try BillingFixture(balance: Money(whole: 1))
        let policy = ReservationPolicy(quotaSeconds: 30, extensionLeadSeconds: 10)
        let first = try #require(try fixture.write { try $0.authorizeCall(fixture.request("a"), policy: policy) }.deadline)
        #expect(first.connectedSeconds == 36)
        let answered = try #require(try fixture.write { try $0.markAnswered("a", at: BillingFixture.start, policy: policy) })
        #expect(answered.releaseAt == BillingFixture.start + .seconds(36))
        #expect(answered.extendAt == BillingFixture.start + .seconds(26))
        // Asking early changes nothing: the slice still has more than a quota left.
        let early = try #require(try fixture.write { try $0.extendCall("a", now: BillingFixture.start + .seconds(1), policy: policy) })
        #expect(early == answered)
        let second = try #require(try fixture.write { try $0.extendCall("a", now: BillingFixture.start + .seconds(26), policy: policy) })
        #expect(second.connectedSeconds == 60)
        #expect(second.isFinal)
        #expect(second.releaseAt == BillingFixture.start + .seconds(60))
        #expect(second.extendAt == nil)
        #expect(try fixture.read { try $0.accountReservation(BillingFixture.customer).reserved } == Money(whole: 1))
        #expect(try fixture.write { try $0.extendCall("missing", now: BillingFixture.start) } == nil)
    }
}
