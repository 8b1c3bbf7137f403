import Testing
import VOSTestSupport
import VOSModel
@testable import VOSStore

/// Customer packages in the billing path (issue 16: "Packages consume free minutes before
/// money"): grants at authorization, usage at settlement and recovery, the monthly rent and
/// minimum consumption, and the money invariant.
@Suite struct PackageBillingTests {
    /// 2023-11-14 22:13:20 UTC (`BillingFixture.start`): November 2023 in UTC.
    static let november = BillingFixture.start
    /// 2023-12-01 00:00:01 UTC.
    static let december: Int64 = 1_701_388_801_000
    /// 2024-01-01 00:00:01 UTC.
    static let january: Int64 = 1_704_067_201_000
    static let utc = try! LocalClock(zoneName: "UTC")

    /// The standard fixture (1.0000 a minute in 6 s steps) with `gold`: `freeMinutes` on callees
    /// starting with 86, rent and minimum as given, put on the customer.
    static func fixture(balance: Money, kind: Account.Kind = .prepaid, freeMinutes: Int, rent: Money = .zero,
                        minimum: Money = .zero, parameters: [SystemParameter: String] = [:]) throws -> BillingFixture {
        var parameters = parameters
        if parameters[.timeZone] == nil { parameters[.timeZone] = "UTC" }
        let fixture = try BillingFixture(balance: balance, kind: kind, parameters: parameters)
        try fixture.requireStore().write { transaction in
            try transaction.addPackage(CustomerPackage(
                name: "gold", monthlyRent: rent, minimumConsumption: minimum,
                groups: [.init(name: "china", prefixes: ["86"], freeMinutes: freeMinutes)]))
            try transaction.setAccountPackage(BillingFixture.customer, to: "gold")
        }
        return fixture
    }

    /// Authorizes, answers at `time` and settles after `milliseconds` connected.
    @discardableResult
    static func call(_ fixture: BillingFixture, _ key: String, at time: Int64 = november, milliseconds: Int64,
                     callee: String = "8613800138000") throws -> CallDetailRecord {
        let granted = try fixture.write { try $0.authorizeCall(fixture.request(key, callee: callee, at: time)) }
        #expect(granted.deadline != nil, "call \(key) refused: \(granted.refusal?.detail ?? "")")
        _ = try fixture.write { try $0.markAnswered(key, at: time) }
        var draft = BillingFixture.draft(key, answeredAt: time, endedAt: time + milliseconds)
        draft.setupTime = time
        return try #require(try fixture.write { try $0.settleCall(key, draft: draft) })
    }

    static func usage(_ fixture: BillingFixture, _ period: String) throws -> PackageUsage {
        try fixture.read { try $0.packageUsage(account: BillingFixture.customer, period: period, group: "china") }
    }

    /// Every balance change is in the history, and nothing else moved the balance.
    static func expectHistoryExplainsTheBalance(_ fixture: BillingFixture, from opening: Money) throws {
        let history = try fixture.read { try $0.accountHistory(account: BillingFixture.customer) }
        #expect(opening + history.reduce(Money.zero) { $0 + $1.amount } == (try fixture.account().balance))
    }

    @Test func freeMinutesAreConsumedBeforeMoney() throws {
        let fixture = try Self.fixture(balance: Money(whole: 10), freeMinutes: 2)
        // 60 s inside the free minutes: nothing to pay.
        let first = try Self.call(fixture, "a", milliseconds: 60_000)
        #expect(first.billedSeconds == 60)
        #expect(first.customerCost == .zero)
        #expect(first.packageName == "gold")
        #expect(first.packageSeconds == 60)
        #expect(first.billingMethod == "prepaid")
        #expect(try Self.usage(fixture, "2023-11") == PackageUsage(usedSeconds: 60, heldSeconds: 0))
        // 90 s: the 60 free seconds left, then 30 s of money (0.5000).
        let second = try Self.call(fixture, "b", milliseconds: 90_000)
        #expect(second.packageSeconds == 60)
        #expect(second.customerCost == Money(units: 5000))
        #expect(try Self.usage(fixture, "2023-11") == PackageUsage(usedSeconds: 120, heldSeconds: 0))
        // Free minutes spent: money only, no package on the CDR.
        let third = try Self.call(fixture, "c", milliseconds: 30_000)
        #expect(third.packageSeconds == nil)
        #expect(third.packageName == nil)
        #expect(third.customerCost == Money(units: 5000))
        // A callee outside every group never touches the package.
        try fixture.write { try $0.replaceRates(table: "retail", with: [BillingFixture.standardRate, RateEntry(prefix: "44", pricePerMinute: Money(whole: 1), firstInterval: 6, nextInterval: 6)]) }
        let abroad = try Self.call(fixture, "d", milliseconds: 12_000, callee: "4420700000")
        #expect(abroad.packageSeconds == nil)
        #expect(abroad.customerCost == Money(units: 2000))
        // December starts afresh; November's usage stays as it was.
        let december = try Self.call(fixture, "e", at: Self.december, milliseconds: 30_000)
        #expect(december.customerCost == .zero)
        #expect(december.packageSeconds == 30)
        #expect(try Self.usage(fixture, "2023-11") == PackageUsage(usedSeconds: 120, heldSeconds: 0))
        #expect(try Self.usage(fixture, "2023-12") == PackageUsage(usedSeconds: 30, heldSeconds: 0))
        #expect(try fixture.account().balance == Money(units: 100_000 - 5000 - 5000 - 2000))
        try Self.expectHistoryExplainsTheBalance(fixture, from: Money(whole: 10))
    }

    @Test func aPrepaidAccountWithNoMoneyButFreeMinutesIsAdmittedUntilTheyRunOut() throws {
        let fixture = try Self.fixture(balance: .zero, freeMinutes: 1)
        let deadline = try #require(try fixture.authorize("a").deadline)
        // 60 free seconds and no money: released at 60 s, final.
        #expect(deadline.connectedSeconds == 60)
        #expect(deadline.isFinal)
        #expect(try fixture.read { try $0.accountReservation(BillingFixture.customer) } == AccountReservation(reserved: .zero, liveCalls: 1))
        // The whole minute is held for it: a second call finds nothing free and no money.
        let refusal = try #require(try fixture.authorize("b").refusal)
        #expect(refusal.cause == .insufficientCredit)
        #expect(refusal.detail.contains("0 free seconds of package 'gold'"))
        _ = try fixture.write { try $0.markAnswered("a", at: Self.november) }
        // Released late at 63 s: billing stops at the last step the free seconds and money cover.
        let record = try #require(try fixture.write {
            try $0.settleCall("a", draft: BillingFixture.draft("a", answeredAt: Self.november, endedAt: Self.november + 63_000, reason: .balanceExhausted))
        })
        #expect(record.durationSeconds == 63)
        #expect(record.billedSeconds == 60)
        #expect(record.packageSeconds == 60)
        #expect(record.customerCost == .zero)
        #expect(try fixture.account().balance == .zero)
        #expect(try fixture.account().status == .normal)
        #expect(try #require(try fixture.authorize("c").refusal).cause == .insufficientCredit)
    }

    @Test func freeSecondsComeFirstThenMoneyWhenASliceIsExtended() throws {
        // 0.3000 of money and one free minute: 60 free seconds, then 18 paid ones.
        let fixture = try Self.fixture(balance: Money(units: 3000), freeMinutes: 1)
        let deadline = try #require(try fixture.authorize("a").deadline)
        #expect(deadline.connectedSeconds == 66)
        #expect(!deadline.isFinal)
        let answer = Self.november
        _ = try fixture.write { try $0.markAnswered("a", at: answer) }
        let extended = try #require(try fixture.write { try $0.extendCall("a", now: answer + 51_000) })
        #expect(extended.connectedSeconds == 78)
        #expect(extended.isFinal)
        let live = try #require(try fixture.read { try $0.liveCall(key: "a") })
        #expect(live.package?.seconds == 60)
        #expect(live.reserved == Money(units: 3000))
        let record = try #require(try fixture.write {
            try $0.settleCall("a", draft: BillingFixture.draft("a", answeredAt: answer, endedAt: answer + 78_000, reason: .balanceExhausted))
        })
        #expect(record.packageSeconds == 60)
        #expect(record.customerCost == Money(units: 3000))
        #expect(try fixture.account().balance == .zero)
        #expect(try fixture.account().status == .locked)
        try Self.expectHistoryExplainsTheBalance(fixture, from: Money(units: 3000))
    }

    @Test func grantsOfConcurrentCallsNeverExceedTheFreeMinutes() throws {
        let fixture = try Self.fixture(balance: .zero, freeMinutes: 2)
        // A slice each: 66 s, then the 54 s left; a third call gets none and has no money.
        #expect(try fixture.authorize("a").deadline?.connectedSeconds == 66)
        let second = try #require(try fixture.authorize("b").deadline)
        #expect(second.connectedSeconds == 54)
        #expect(second.isFinal)
        #expect(try fixture.authorize("c").refusal?.cause == .insufficientCredit)
        #expect(try Self.usage(fixture, "2023-11") == PackageUsage(usedSeconds: 0, heldSeconds: 120))
        let answer = Self.november
        _ = try fixture.write { try $0.markAnswered("a", at: answer) }
        // Its extension finds nothing more: b holds the rest.
        let extended = try #require(try fixture.write { try $0.extendCall("a", now: answer + 51_000) })
        #expect(extended.connectedSeconds == 66)
        #expect(extended.isFinal)
        // b ends early, unanswered: its hold comes back for the next call.
        try fixture.write { _ = try $0.settleCall("b", draft: BillingFixture.draft("b", answeredAt: nil, endedAt: answer + 5_000)) }
        #expect(try Self.usage(fixture, "2023-11") == PackageUsage(usedSeconds: 0, heldSeconds: 66))
        #expect(try fixture.authorize("d").deadline?.connectedSeconds == 54)
        try fixture.write { _ = try $0.settleCall("a", draft: BillingFixture.draft("a", answeredAt: answer, endedAt: answer + 66_000)) }
        #expect(try Self.usage(fixture, "2023-11") == PackageUsage(usedSeconds: 66, heldSeconds: 54))
    }

    @Test func aPostpaidCallTakesFreeSecondsOthersLeftWhenItSettles() throws {
        let fixture = try Self.fixture(balance: .zero, kind: .postpaid, freeMinutes: 3)
        try fixture.write { transaction in
            var account = try transaction.requireAccount(named: BillingFixture.customer)
            account.limitMoney = Money(whole: 100)
            account.antiOverdraft = false
            try transaction.saveAccount(account)
        }
        _ = try fixture.authorize("a")
        _ = try fixture.authorize("b")
        // Unlimited calls hold a slice each (66 s) and no deadline.
        #expect(try Self.usage(fixture, "2023-11").heldSeconds == 132)
        let answer = Self.november
        for key in ["a", "b"] { _ = try fixture.write { try $0.markAnswered(key, at: answer) } }
        // a talks 150 s: its 66 s, plus the 48 s nobody holds; 36 s paid. b (102 s billed) gets its 66 s.
        let a = try #require(try fixture.write { try $0.settleCall("a", draft: BillingFixture.draft("a", answeredAt: answer, endedAt: answer + 150_000)) })
        #expect(a.packageSeconds == 114)
        #expect(a.customerCost == Money(units: 6000))
        #expect(a.billingMethod == "postpaid")
        let b = try #require(try fixture.write { try $0.settleCall("b", draft: BillingFixture.draft("b", answeredAt: answer, endedAt: answer + 100_000)) })
        #expect(b.packageSeconds == 66)
        #expect(b.customerCost == Money(units: 6000))
        #expect(try Self.usage(fixture, "2023-11") == PackageUsage(usedSeconds: 180, heldSeconds: 0))
        try Self.expectHistoryExplainsTheBalance(fixture, from: .zero)
    }

    @Test func crashRecoverySettlesGrantsTheSameWay() throws {
        let fixture = try Self.fixture(balance: Money(whole: 1), freeMinutes: 1)
        _ = try fixture.authorize("a")
        _ = try fixture.write { try $0.markAnswered("a", at: Self.november) }
        try fixture.write { try $0.checkpoint("a", connectedSeconds: 42, at: Self.november + 42_000) }
        fixture.closeStore()
        try fixture.reopenStore()
        let records = try fixture.write { try $0.recoverInterruptedCalls(now: Self.november + 50_000) }
        let record = try #require(records.first)
        #expect(records.count == 1)
        #expect(record.endReason == .controllerRestart)
        #expect(record.billedSeconds == 42)
        #expect(record.packageSeconds == 42)
        #expect(record.customerCost == .zero)
        #expect(try Self.usage(fixture, "2023-11") == PackageUsage(usedSeconds: 42, heldSeconds: 0))
        #expect(try fixture.write { try $0.recoverInterruptedCalls(now: Self.november + 60_000) }.isEmpty)
        #expect(try Self.usage(fixture, "2023-11") == PackageUsage(usedSeconds: 42, heldSeconds: 0))
    }

    @Test func liveCallsKeepTheirGrantInTheJournal() throws {
        var call = LiveCallRecordCodingTests.sampleCall(full: true)
        let plain = LiveCallRecordCoding.encode(call)
        call.package = PackageGrant(package: "gold", group: "china-mobile", period: "2023-11", seconds: 66)
        let granted = LiveCallRecordCoding.encode(call)
        #expect(try LiveCallRecordCoding.decodeLiveCall(granted, key: call.key) == call)
        // A call without a grant is written exactly as before packages existed; one with a grant
        // is the same fields under its own layout tag, then the grant.
        #expect(plain.first == LiveCallRecordCoding.liveCallTag)
        #expect(granted.first == LiveCallRecordCoding.liveCallWithPackageTag)
        #expect(Array(granted.dropFirst().prefix(plain.count - 1)) == Array(plain.dropFirst()))
        #expect(throws: StoreError.self) { try LiveCallRecordCoding.decodeLiveCall(Array(granted.dropLast()), key: call.key) }
    }

    @Test(arguments: [UInt64(16), 1_616, 0xBEEF])
    func sharedFreeMinutesAndMoneyKeepEveryInvariant(seed: UInt64) throws {
        // 2.0000 of money and 5 free minutes, each precision setting drawn at random.
        var random = SeededGenerator(seed: seed)
        let hold = String(Int.random(in: 0...2, using: &random)), unit = String(Int.random(in: 0...2, using: &random))
        let fixture = try Self.fixture(balance: Money(whole: 2), freeMinutes: 5,
                                       parameters: [.holdTimePrecision: hold, .billingUnitPrecision: unit])
        let policy = ReservationPolicy(quotaSeconds: 30, extensionLeadSeconds: 10,
                                       holdTimePrecision: HoldTimePrecision(rawValue: Int(hold) ?? 0) ?? .up,
                                       unitPrecision: BillingUnitPrecision(rawValue: Int(unit) ?? 0) ?? .whole)
        struct Live { var deadline: CallDeadline; let answered: Int64; let talk: Int64 }
        var live: [String: Live] = [:]
        var started = 0
        var exhausted = 0
        var time = Self.november
        for tick in 0..<3_000 {
            time += 250
            try fixture.write { transaction in
                if tick % 20 == 0, started < 30 {
                    let key = String(started)
                    started += 1
                    if case .granted = try transaction.authorizeCall(fixture.request(key, at: time), policy: policy) {
                        // The answer's deadline is the one in absolute time.
                        let deadline = try #require(try transaction.markAnswered(key, at: time, policy: policy))
                        live[key] = Live(deadline: deadline, answered: time, talk: Int64.random(in: 1_000...200_000, using: &random))
                    }
                }
                for (key, call) in live.sorted(by: { $0.key < $1.key }) {
                    let connected = time - call.answered
                    let covered = Int64(call.deadline.connectedSeconds ?? .max / 2_000) * 1000
                    if connected >= call.talk || (call.deadline.isFinal && connected >= covered) {
                        var draft = BillingFixture.draft(key, answeredAt: call.answered, endedAt: time)
                        if connected < call.talk { draft.endReason = .balanceExhausted; exhausted += 1 }
                        #expect(try transaction.settleCall(key, draft: draft, policy: policy) != nil)
                        live[key] = nil
                    } else if !call.deadline.isFinal, let extendAt = call.deadline.extendAt, time >= extendAt {
                        live[key]?.deadline = try #require(try transaction.extendCall(key, now: time, policy: policy))
                    }
                }
            }
            try fixture.read { transaction in
                let account = try transaction.requireAccount(named: BillingFixture.customer)
                let calls = try transaction.liveCalls()
                let usage = try transaction.packageUsage(account: BillingFixture.customer, period: "2023-11", group: "china")
                #expect(account.balance >= .zero, "balance below -limitMoney at tick \(tick)")
                #expect(usage.heldSeconds == calls.reduce(0) { $0 + ($1.package?.seconds ?? 0) })
                #expect(usage.usedSeconds + usage.heldSeconds <= 300)
                #expect(try transaction.accountReservation(BillingFixture.customer).reserved <= account.balance + account.limitMoney)
            }
        }
        #expect(live.isEmpty)
        #expect(exhausted > 0)
        let records = try fixture.read { try $0.cdrs() }
        let usage = try Self.usage(fixture, "2023-11")
        #expect(usage.heldSeconds == 0)
        #expect(usage.usedSeconds == records.reduce(0) { $0 + ($1.packageSeconds ?? 0) })
        let charged = records.reduce(Money.zero) { $0 + $1.customerCost }
        #expect(try fixture.account().balance == Money(whole: 2) - charged)
        try Self.expectHistoryExplainsTheBalance(fixture, from: Money(whole: 2))
    }

    @Test func billingPrecisionAppliesAtSettlement() throws {
        // 61.9 s connected: by default 62 s, billed 66 (1.1000).
        let plain = try BillingFixture(balance: Money(whole: 10))
        _ = try plain.authorize("a")
        let standard = try #require(try plain.write {
            try $0.settleCall("a", draft: BillingFixture.draft("a", answeredAt: Self.november, endedAt: Self.november + 61_900))
        })
        #expect(standard.durationSeconds == 62)
        #expect(standard.billedSeconds == 66)
        #expect(standard.customerCost == Money(units: 11000))
        // Hold time rounded down and partial steps dropped: 61 s, billed 60 (1.0000); the vendor too.
        let precise = try BillingFixture(balance: Money(whole: 10), parameters: [.holdTimePrecision: "2", .billingUnitPrecision: "2"])
        _ = try precise.authorize("a")
        let record = try #require(try precise.write {
            try $0.settleCall("a", draft: BillingFixture.draft("a", answeredAt: Self.november, endedAt: Self.november + 61_900))
        })
        #expect(record.durationSeconds == 61)
        #expect(record.billedSeconds == 60)
        #expect(record.customerCost == Money(units: 10000))
        #expect(record.vendorCost == Money(units: 6100))
        #expect(try precise.account().balance == Money(whole: 9))
    }

    @Test func rentAndMinimumConsumptionAreBookedOncePerMonth() throws {
        let fixture = try Self.fixture(balance: Money(whole: 100), freeMinutes: 0, rent: Money(whole: 10), minimum: Money(whole: 5))
        let november = try fixture.write { try $0.applyMonthlyCharges(now: Self.november, clock: Self.utc) }
        #expect(november.map(\.kind) == [.rent])
        #expect(november.first?.amount == Money(whole: -10))
        #expect(try fixture.write { try $0.applyMonthlyCharges(now: Self.november + 3_600_000, clock: Self.utc) }.isEmpty)
        // A call of 66 s in November: 1.1000 of consumption.
        try Self.call(fixture, "a", milliseconds: 61_000)
        // A restart changes nothing: the rows are in the store.
        fixture.closeStore()
        try fixture.reopenStore()
        #expect(try fixture.write { try $0.applyMonthlyCharges(now: Self.november + 7_200_000, clock: Self.utc) }.isEmpty)
        // December: November's shortfall (5.0000 - 1.1000), then December's rent.
        let december = try fixture.write { try $0.applyMonthlyCharges(now: Self.december, clock: Self.utc) }
        #expect(december.map(\.kind) == [.minimumConsumption, .rent])
        #expect(december.map(\.amount) == [Money(units: -39_000), Money(whole: -10)])
        #expect(try fixture.write { try $0.applyMonthlyCharges(now: Self.december + 60_000, clock: Self.utc) }.isEmpty)
        // The package changes its minimum in December: December is held to the minimum of when its rent was booked.
        try fixture.write { transaction in
            var package = try transaction.requirePackage(named: "gold")
            package.minimumConsumption = Money(whole: 1_000)
            try transaction.savePackage(package)
        }
        fixture.closeStore()
        try fixture.reopenStore()
        let january = try fixture.write { try $0.applyMonthlyCharges(now: Self.january, clock: Self.utc) }
        #expect(january.map(\.kind) == [.minimumConsumption, .rent])
        #expect(january.map(\.amount) == [Money(whole: -5), Money(whole: -10)])
        #expect(try fixture.write { try $0.applyMonthlyCharges(now: Self.january + 1, clock: Self.utc) }.isEmpty)
        let rows = try fixture.read { try $0.monthlyCharges(account: BillingFixture.customer) }
        #expect(rows.map { "\($0.period) \($0.kind.rawValue)" } == [
            "2023-11 minimum-consumption", "2023-11 rent", "2023-12 minimum-consumption", "2023-12 rent", "2024-01 rent",
        ])
        #expect(try fixture.account().balance == Money(whole: 100) - Money(units: 11_000) - Money(whole: 30) - Money(units: 39_000) - Money(whole: 5))
        try Self.expectHistoryExplainsTheBalance(fixture, from: Money(whole: 100))
        // The vendor account has no package and was never charged monthly.
        #expect(try fixture.read { try $0.monthlyCharges(account: BillingFixture.vendor) }.isEmpty)
    }

    @Test func aMonthThatReachedItsMinimumOwesNothing() throws {
        let fixture = try Self.fixture(balance: Money(whole: 100), freeMinutes: 0, minimum: Money(units: 5000))
        #expect(try fixture.write { try $0.applyMonthlyCharges(now: Self.november, clock: Self.utc) }.isEmpty)
        try Self.call(fixture, "a", milliseconds: 60_000)
        // No rent and the minimum reached: rows are written, no money moves.
        #expect(try fixture.write { try $0.applyMonthlyCharges(now: Self.december, clock: Self.utc) }.isEmpty)
        #expect(try fixture.read { try $0.monthlyCharges(account: BillingFixture.customer) }.map(\.amount) == [.zero, .zero, .zero])
        #expect(try fixture.account().balance == Money(whole: 99))
    }

    @Test func monthsFollowTheConfiguredTimeZone() throws {
        // 2023-11-30 17:00 UTC is 2023-12-01 01:00 in Shanghai.
        let instant: Int64 = 1_701_363_600_000
        let fixture = try Self.fixture(balance: Money(whole: 100), freeMinutes: 1, rent: Money(whole: 1),
                                       parameters: [.timeZone: "Asia/Shanghai"])
        let entries = try fixture.write { try $0.applyMonthlyCharges(now: instant) }
        #expect(entries.map(\.kind) == [.rent])
        #expect(try fixture.read { try $0.monthlyCharges(account: BillingFixture.customer) }.map(\.period) == ["2023-12"])
        let record = try Self.call(fixture, "a", at: instant, milliseconds: 30_000)
        #expect(record.packageSeconds == 30)
        #expect(try Self.usage(fixture, "2023-12").usedSeconds == 30)
    }

    @Test func badPackagesAndAssignmentsAreRefusedAndChangeNothing() throws {
        let fixture = try Self.fixture(balance: Money(whole: 1), freeMinutes: 10)
        let store = try fixture.requireStore()
        let negative = CustomerPackage(name: "silver", groups: [.init(name: "mobile", prefixes: ["8613"], freeMinutes: -5)])
        let error = try #require(throws: StoreError.self) { try store.write { try $0.addPackage(negative) } }
        #expect(error.description.contains("free minutes of group 'mobile'"))
        #expect(error.description.contains("-5"))
        #expect(try store.read { try $0.package(named: "silver") } == nil)
        let generation = try store.read { try $0.generation() }
        // Setting gold's minutes negative leaves gold as it was.
        var gold = try store.read { try $0.requirePackage(named: "gold") }
        gold.groups[0].freeMinutes = -1
        #expect(throws: StoreError.self) { try store.write { try $0.savePackage(gold) } }
        #expect(try store.read { try $0.requirePackage(named: "gold") }.groups[0].freeMinutes == 10)
        // In use: not removable. Unknown: not assignable.
        let inUse = try #require(throws: StoreError.self) { try store.write { try $0.removePackage(named: "gold") } }
        #expect(inUse.description.contains("used by account 'acme'"))
        #expect(throws: StoreError.self) { try store.write { try $0.setAccountPackage(BillingFixture.customer, to: "platinum") } }
        #expect(try fixture.account().package == "gold")
        #expect(try store.read { try $0.generation() } == generation)
        try store.write { try $0.setAccountPackage(BillingFixture.customer, to: nil) }
        try store.write { try $0.removePackage(named: "gold") }
        #expect(try store.read { try $0.packages() }.isEmpty)
    }
}
