import Testing
import VOSTestSupport
import VOSModel
@testable import VOSStore

/// Fifty calls of one prepaid account, driven through the billing API by a deterministic random
/// schedule as the controller would drive them, against a real store.
@Suite struct SharedCreditSimulationTests {
    struct Plan {
        let key: String
        let startSecond: Int
        /// Nil: never answered, cancelled after 20 s of ringing.
        let answerDelay: Int?
        let talkSeconds: Int
        /// Seconds the controller is late releasing an exhausted call.
        let releaseLateness: Int
    }

    enum State {
        case pending
        case ringing(CallDeadline)
        case talking(CallDeadline, answeredSecond: Int)
        case done
    }

    @Test(arguments: [UInt64(0x5EED), 42, 7_777])
    func fiftyConcurrentCallsShareTenMinutesOfCredit(seed: UInt64) throws {
        // 8.0000 balance + 2.0000 overdraft at 1.0000/min = ten minutes in total.
        let fixture = try BillingFixture(balance: Money(whole: 8), limitMoney: Money(whole: 2),
                                         parameters: [.overdraftAdvanceTime: "12"])
        let policy = ReservationPolicy(fractionDigits: 4, advanceSeconds: 12, quotaSeconds: 30, extensionLeadSeconds: 10)
        let floor = Money(whole: -2)
        let initialBalance = try fixture.account().balance
        var random = SeededGenerator(seed: seed)
        let plans = (0..<50).map { index in
            Plan(key: String(index), startSecond: Int.random(in: 0..<120, using: &random),
                 answerDelay: Int.random(in: 0..<10, using: &random) == 0 ? nil : Int.random(in: 0...8, using: &random),
                 talkSeconds: Int.random(in: 5...400, using: &random),
                 releaseLateness: Int.random(in: 0..<5, using: &random) == 0 ? Int.random(in: 1...3, using: &random) : 0)
        }
        var states = Array(repeating: State.pending, count: plans.count)
        var settlements: [String: Int] = [:]
        var exhausted: [String: Int] = [:]
        var refusals = 0
        var mostLive = 0

        func at(_ second: Int) -> Int64 { BillingFixture.start + .seconds(second) }

        for second in 0...2_000 {
            try fixture.write { transaction in
                for (index, plan) in plans.enumerated() {
                    switch states[index] {
                    case .pending where second == plan.startSecond:
                        switch try transaction.authorizeCall(fixture.request(plan.key, at: at(second)), policy: policy) {
                        case let .granted(deadline): states[index] = .ringing(deadline)
                        case let .refused(refusal):
                            // Once the credit is spent to the last step the account locks itself.
                            #expect(refusal.cause == .insufficientCredit || refusal.cause == .accountLocked)
                            refusals += 1
                            states[index] = .done
                        }
                    case .ringing:
                        if let delay = plan.answerDelay, second >= plan.startSecond + delay {
                            let deadline = try #require(try transaction.markAnswered(plan.key, at: at(second), policy: policy))
                            states[index] = .talking(deadline, answeredSecond: second)
                        } else if plan.answerDelay == nil, second >= plan.startSecond + 20 {
                            let draft = BillingFixture.draft(plan.key, answeredAt: nil, endedAt: at(second), reason: .callerCancel)
                            #expect(try transaction.settleCall(plan.key, draft: draft, policy: policy) != nil)
                            settlements[plan.key, default: 0] += 1
                            states[index] = .done
                        }
                    case let .talking(deadline, answered):
                        let connected = second - answered
                        let covered = try #require(deadline.connectedSeconds)
                        if deadline.isFinal && connected >= covered + plan.releaseLateness && connected < plan.talkSeconds {
                            let draft = BillingFixture.draft(plan.key, answeredAt: at(answered), endedAt: at(second), reason: .balanceExhausted)
                            #expect(try transaction.settleCall(plan.key, draft: draft, policy: policy) != nil)
                            settlements[plan.key, default: 0] += 1
                            exhausted["call-\(plan.key)"] = covered
                            states[index] = .done
                        } else if connected >= plan.talkSeconds {
                            let draft = BillingFixture.draft(plan.key, answeredAt: at(answered), endedAt: at(second))
                            #expect(try transaction.settleCall(plan.key, draft: draft, policy: policy) != nil)
                            settlements[plan.key, default: 0] += 1
                            states[index] = .done
                        } else {
                            // A live call must never outlive its covered time unless released late.
                            #expect(connected <= covered + plan.releaseLateness)
                            if !deadline.isFinal, let extendAt = deadline.extendAt, at(second) >= extendAt {
                                let next = try #require(try transaction.extendCall(plan.key, now: at(second), policy: policy))
                                #expect((next.connectedSeconds ?? 0) >= covered)
                                states[index] = .talking(next, answeredSecond: answered)
                            }
                            if second % 10 == 0 {
                                try transaction.checkpoint(plan.key, connectedSeconds: connected, at: at(second))
                            }
                        }
                    default:
                        break
                    }
                }
            }
            try fixture.read { transaction in
                let account = try transaction.requireAccount(named: BillingFixture.customer)
                let totals = try transaction.accountReservation(BillingFixture.customer)
                let live = try transaction.liveCalls()
                #expect(account.balance >= floor, "balance passed -limitMoney at second \(second)")
                #expect(totals.reserved == live.reduce(Money.zero) { $0 + $1.reserved })
                #expect(totals.liveCalls == live.count)
                #expect(totals.reserved <= account.balance + account.limitMoney, "reserved more than the credit at second \(second)")
                mostLive = max(mostLive, live.count)
            }
            if states.allSatisfy({ if case .done = $0 { true } else { false } }) { break }
        }

        #expect(states.allSatisfy { if case .done = $0 { true } else { false } })
        let records = try fixture.read { try $0.cdrs() }
        #expect(records.count == plans.count - refusals)
        #expect(Set(records.map(\.callID)).count == records.count)
        #expect(settlements.values.allSatisfy { $0 == 1 })
        // A second settlement of every call changes nothing.
        try fixture.write { transaction in
            for plan in plans {
                let again = try transaction.settleCall(plan.key, draft: BillingFixture.draft(plan.key, answeredAt: nil, endedAt: at(0)))
                #expect(again == nil)
            }
        }
        let account = try fixture.account()
        let charged = records.reduce(Money.zero) { $0 + $1.customerCost }
        #expect(initialBalance - account.balance == charged)
        let history = try fixture.read { try $0.accountHistory(account: BillingFixture.customer) }
        #expect(history.reduce(Money.zero) { $0 + $1.amount } == -charged)
        #expect(account.balance >= floor)
        #expect(try fixture.read { try $0.accountReservation(BillingFixture.customer) } == .none)
        #expect(try fixture.read { try $0.liveCalls() }.isEmpty)
        // The credit really was shared and really ran out.
        #expect(mostLive > 5)
        #expect(!exhausted.isEmpty)
        for record in records {
            #expect((record.endReason == .balanceExhausted) == (exhausted[record.callID] != nil))
            if let covered = exhausted[record.callID] {
                // Released at its final deadline (or a few seconds late, billed no further than the credit).
                #expect(record.durationSeconds >= covered)
            }
        }
        #expect(refusals > 0)
    }
}
