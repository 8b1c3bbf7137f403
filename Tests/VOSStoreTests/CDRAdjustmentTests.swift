import Testing
import VOSModel
@testable import VOSStore
import VOSTestSupport

/// Re-rating and CDR modification (docs/BILLING.md "Re-rating and corrections"): CDRs settled
/// through the real settlement path, rates changed, then re-rated; the money must add up between
/// the adjustments, both accounts' balances and histories, the report, and an independent
/// recomputation, and the CDR rows must never change.
@Suite struct CDRAdjustmentTests {
    /// Customer rates before the change: 86 at 1.0000/min on 6/6, 8610 at 0.5000/min on 60/60.
    static let retail = [
        RateEntry(prefix: "86", pricePerMinute: Money(whole: 1), firstInterval: 6, nextInterval: 6),
        RateEntry(prefix: "8610", pricePerMinute: Money(units: 5000), firstInterval: 60, nextInterval: 60),
    ]
    /// After: 86 dearer, 8610 per second (other billed seconds), a new 8613 at 2.0000 on 30/6.
    static let newRetail = [
        RateEntry(prefix: "86", pricePerMinute: Money(units: 12_000), firstInterval: 6, nextInterval: 6),
        RateEntry(prefix: "8610", pricePerMinute: Money(units: 5000), firstInterval: 1, nextInterval: 1),
        RateEntry(prefix: "8613", pricePerMinute: Money(whole: 2), firstInterval: 30, nextInterval: 6, connectionFee: Money(units: 100)),
    ]
    static let wholesale = [RateEntry(prefix: "0086", pricePerMinute: Money(units: 6000), firstInterval: 1, nextInterval: 1)]
    static let newWholesale = [RateEntry(prefix: "0086", pricePerMinute: Money(units: 7000), firstInterval: 1, nextInterval: 1)]

    /// A store with the billing fixture's accounts, a mapping gateway for `acme` and a routing
    /// gateway whose clearing account is `carrier`.
    static func makeFixture(parameters: [SystemParameter: String] = [:]) throws -> BillingFixture {
        let fixture = try BillingFixture(balance: Money(whole: 1_000_000), rates: retail, vendorRates: wholesale,
                                         parameters: parameters)
        try fixture.requireStore().write { transaction in
            var mapping = MappingGateway(name: "customer-gw", ips: [try IPAddress(parsing: "192.0.2.10")])
            mapping.account = BillingFixture.customer
            try transaction.addMappingGateway(mapping)
            var routing = RoutingGateway(name: "vendor-gw", address: SIPAddress(host: "198.51.100.7"), prefixes: ["86"])
            routing.clearingAccount = BillingFixture.vendor
            try transaction.addRoutingGateway(routing)
        }
        return fixture
    }

    /// `count` calls authorised, answered and settled as the controller's ledger does (1,000 per
    /// transaction), one in five unanswered; durations 1-900 s; callees under 86, 8610 and 8613.
    static func settleCalls(_ fixture: BillingFixture, count: Int, seed: UInt64 = 16) throws {
        var random = SeededGenerator(seed: seed)
        var settled = 0
        while settled < count {
            let size = min(1000, count - settled)
            try fixture.write { transaction in
                for offset in 0..<size {
                    let index = settled + offset
                    let key = "k\(index)"
                    let callee = ["8620", "8610", "8613"][Int(random.next() % 3)] + String(1_000_000 + random.next() % 8_999_999)
                    let setup = BillingFixture.start + Int64(index) * 1000
                    let request = CallAuthorizationRequest(
                        key: key, callID: "call-\(key)", account: BillingFixture.customer, caller: "1001", callee: callee,
                        mappingGateway: "customer-gw",
                        vendor: VendorLeg(gateway: "vendor-gw", clearingAccount: BillingFixture.vendor, callee: "00" + callee),
                        now: setup)
                    guard case .granted = try transaction.authorizeCall(request) else { throw FixtureError("call \(index) refused") }
                    let answered = random.next() % 5 != 0
                    let answer = setup + 2000
                    var draft = CallDetailRecord(id: 0, callID: "call-\(key)", setupTime: setup,
                                                 endTime: answered ? answer + Int64(1 + random.next() % 900) * 1000 - 300 : setup + 5000,
                                                 callerReceived: "1001", calleeReceived: callee, mappingGateway: "customer-gw",
                                                 endReason: answered ? .callerHangup : .callerCancel, sipCode: answered ? 200 : 487,
                                                 hangupSide: .caller)
                    draft.calleeSent = "00" + callee
                    if answered {
                        _ = try transaction.markAnswered(key, at: answer)
                        draft.answerTime = answer
                    }
                    guard try transaction.settleCall(key, draft: draft) != nil else { throw FixtureError("call \(index) not settled") }
                }
            }
            settled += size
        }
    }

    static func rerate(_ fixture: BillingFixture, dryRun: Bool = false, account: String? = nil) throws -> RerateSummary {
        try fixture.requireStore().rerateCDRs(RerateRequest(since: nil, until: nil, account: account, dryRun: dryRun, by: "tester",
                                                            time: BillingFixture.start + 86_400_000, batchSize: 700))
    }

    /// What a call costs under `table`, straight from the rate arithmetic (not through CallCharging).
    static func expectedCost(_ table: [RateEntry], number: String, seconds: Int) throws -> (cost: Money, billed: Int) {
        let rate = try #require(RateTable(name: "t", entries: table).lookup(number))
        let billed = rate.billedSeconds(forDuration: seconds)
        return (rate.cost(billedSeconds: billed), billed)
    }

    @Test func rerateWithUnchangedRatesFindsNothing() throws {
        let fixture = try Self.makeFixture()
        try Self.settleCalls(fixture, count: 2000)
        let summary = try Self.rerate(fixture)
        #expect(summary.examined == 2000)
        #expect(summary.unanswered > 0)
        #expect(summary.changed == 0)
        #expect(summary.skipped.isEmpty)
        #expect(try fixture.read { try $0.count(.cdrAdjustments) } == 0)
    }

    @Test func rerateAfterAPriceChangeAddsUpOverTenThousandCDRs() throws {
        let fixture = try Self.makeFixture()
        try Self.settleCalls(fixture, count: 10_000)
        let before = try fixture.read { try $0.cdrs() }
        let customerBefore = try fixture.account().balance
        let vendorBefore = try fixture.account(BillingFixture.vendor).balance
        let historyBefore = try fixture.read { try $0.accountHistory(account: BillingFixture.customer).count }
        try fixture.requireStore().write { transaction in
            try transaction.replaceRates(table: "retail", with: Self.newRetail)
            try transaction.replaceRates(table: "wholesale", with: Self.newWholesale)
        }

        // The independent recomputation.
        var expectedRevenue = Money.zero
        var expectedCost = Money.zero
        var expectedCustomerDelta = Money.zero
        var expectedVendorDelta = Money.zero
        var expectedBilled: [UInt64: Int] = [:]
        for record in before where record.answerTime != nil {
            let customer = try Self.expectedCost(Self.newRetail, number: record.calleeReceived, seconds: record.durationSeconds)
            let vendor = try Self.expectedCost(Self.newWholesale, number: record.calleeSent, seconds: record.durationSeconds)
            expectedRevenue += customer.cost
            expectedCost += vendor.cost
            expectedCustomerDelta += customer.cost - record.customerCost
            expectedVendorDelta += vendor.cost - record.vendorCost
            expectedBilled[record.id] = customer.billed
        }

        let dry = try Self.rerate(fixture, dryRun: true)
        #expect(try fixture.read { try $0.count(.cdrAdjustments) } == 0, "a dry run writes no adjustment")
        #expect(try fixture.account().balance == customerBefore)
        #expect(try fixture.read { try $0.accountHistory(account: BillingFixture.customer).count } == historyBefore)

        let summary = try Self.rerate(fixture)
        #expect(summary.examined == 10_000)
        #expect(summary.changed > 7000)
        #expect(summary.skipped.isEmpty)
        #expect(summary.customerDelta == expectedCustomerDelta)
        #expect(summary.vendorDelta == expectedVendorDelta)
        #expect(summary.customerDelta > .zero)
        var dryAsReal = dry
        dryAsReal.dryRun = false
        #expect(dryAsReal == summary, "the dry run counted what the real run did")

        // Adjustments: their differences sum to the deltas, one per changed side.
        let adjustments = try fixture.read { transaction in
            try before.flatMap { try transaction.cdrAdjustments(cdrID: $0.id) }
        }
        #expect(adjustments.count == summary.customerAdjustments + summary.vendorAdjustments)
        #expect(adjustments.allSatisfy { $0.kind == .rerate && $0.by == "tester" && ($0.sequence == 1 || $0.sequence == 2) })
        let customerAdjustments = adjustments.filter { $0.field == .customerCost }
        let vendorAdjustments = adjustments.filter { $0.field == .vendorCost }
        #expect(customerAdjustments.reduce(Money.zero) { $0 + $1.difference } == expectedCustomerDelta)
        #expect(vendorAdjustments.reduce(Money.zero) { $0 + $1.difference } == expectedVendorDelta)
        #expect(customerAdjustments.allSatisfy { $0.account == BillingFixture.customer })
        #expect(vendorAdjustments.allSatisfy { $0.account == BillingFixture.vendor && $0.rate == "wholesale/0086" })

        // Balances and histories moved by exactly the deltas.
        #expect(try fixture.account().balance == customerBefore - expectedCustomerDelta)
        #expect(try fixture.account(BillingFixture.vendor).balance == vendorBefore - expectedVendorDelta)
        let customerHistory = try fixture.read { try $0.accountHistory(account: BillingFixture.customer) }.filter { $0.kind == .rerate }
        #expect(customerHistory.count == customerAdjustments.count)
        #expect(customerHistory.reduce(Money.zero) { $0 + $1.amount } == -expectedCustomerDelta)
        #expect(customerHistory.last?.balanceAfter == customerBefore - expectedCustomerDelta)
        #expect(customerHistory.allSatisfy { $0.cdrID != nil && $0.callID != nil })
        let vendorHistory = try fixture.read { try $0.accountHistory(account: BillingFixture.vendor) }.filter { $0.kind == .rerate }
        #expect(vendorHistory.reduce(Money.zero) { $0 + $1.amount } == -expectedVendorDelta)

        // The CDR rows are as they were; what they cost now is the recomputation.
        let (after, effective, report) = try fixture.read { transaction in
            let after = try transaction.cdrs()
            return (after, try transaction.effectiveCDRs(after), try transaction.cdrReport(grouping: nil))
        }
        #expect(after == before)
        #expect(effective.reduce(Money.zero) { $0 + $1.customerCost } == expectedRevenue)
        #expect(effective.reduce(Money.zero) { $0 + $1.vendorCost } == expectedCost)
        #expect(effective.allSatisfy { $0.answerTime == nil || $0.billedSeconds == expectedBilled[$0.id] })
        #expect(report.total.revenue == expectedRevenue, "reports show the charges as they are now")
        #expect(report.total.cost == expectedCost)
        #expect(report.total.billedSeconds == effective.reduce(0) { $0 + $1.billedSeconds })

        // A second run finds nothing.
        let again = try Self.rerate(fixture)
        #expect(again.changed == 0)
        #expect(again.customerDelta == .zero)
        #expect(try fixture.read { try $0.count(.cdrAdjustments) } == adjustments.count)
    }

    @Test func aDroppedPartialStepIsNotMistakenForACallCutShort() throws {
        // SERVER_BILLING_UNIT_PRECISION 2: 8610 on 60/60 bills 61-119 s as 60, less than the duration.
        let fixture = try Self.makeFixture(parameters: [.billingUnitPrecision: "2"])
        try Self.settleCalls(fixture, count: 300)
        let before = try fixture.read { try $0.cdrs() }
        #expect(before.contains { $0.answerTime != nil && $0.billedSeconds < $0.durationSeconds })
        #expect(try Self.rerate(fixture).changed == 0)

        // Per second now: every call bills its whole duration.
        try fixture.requireStore().write { try $0.replaceRates(table: "retail", with: Self.newRetail) }
        _ = try Self.rerate(fixture)
        let effective = try fixture.read { try $0.effectiveCDRs($0.cdrs()) }
        for record in effective where record.answerTime != nil && record.calleeReceived.hasPrefix("8610") {
            #expect(record.billedSeconds == record.durationSeconds)
        }
    }

    @Test func rerateIsLimitedToTheWindowAndTheAccount() throws {
        let fixture = try Self.makeFixture()
        try Self.settleCalls(fixture, count: 200)
        try fixture.requireStore().write { try $0.replaceRates(table: "retail", with: Self.newRetail) }
        let store = try fixture.requireStore()
        let other = try store.rerateCDRs(RerateRequest(since: nil, until: nil, account: "nobody", by: "tester"))
        #expect(other.examined == 0)
        // Calls are set up one a second: the window holds calls 50..<100.
        let window = try store.rerateCDRs(RerateRequest(since: BillingFixture.start + 50_000, until: BillingFixture.start + 100_000,
                                                        by: "tester"))
        #expect(window.examined == 50)
        let adjusted = try fixture.read { transaction in
            try transaction.cdrs().filter { try !transaction.cdrAdjustments(cdrID: $0.id).isEmpty }.map(\.setupTime)
        }
        #expect(!adjusted.isEmpty)
        #expect(adjusted.allSatisfy { $0 >= BillingFixture.start + 50_000 && $0 < BillingFixture.start + 100_000 })
    }

    @Test func goneGatewaysAndAccountsAreSkippedAndCounted() throws {
        let fixture = try Self.makeFixture()
        try Self.settleCalls(fixture, count: 100)
        let answered = try fixture.read { try $0.cdrs().filter { $0.answerTime != nil }.count }
        try fixture.requireStore().write { transaction in
            try transaction.replaceRates(table: "retail", with: Self.newRetail)
            try transaction.replaceRates(table: "wholesale", with: Self.newWholesale)
            try transaction.removeGateway(named: "vendor-gw")
            try transaction.removeGateway(named: "customer-gw")
            try transaction.removeAccount(named: BillingFixture.customer)
        }
        let summary = try Self.rerate(fixture)
        #expect(summary.changed == 0)
        #expect(summary.skipped["customer: customer account 'acme' no longer exists"] == answered)
        #expect(summary.skipped["vendor: routing gateway 'vendor-gw' no longer exists"] == answered)
    }

    @Test func aLateReleasedLimitedCallIsNotChargedPastItsCredit() throws {
        // 0.30 buys 18 s at 1.0000/min: the call talks 40 s, settlement bills 18.
        let fixture = try BillingFixture(balance: Money(units: 3000))
        _ = try fixture.authorize("a")
        _ = try fixture.write { try $0.markAnswered("a", at: BillingFixture.start) }
        let record = try #require(try fixture.write {
            try $0.settleCall("a", draft: BillingFixture.draft("a", answeredAt: BillingFixture.start, endedAt: BillingFixture.start + .seconds(40),
                                                              reason: .balanceExhausted))
        })
        #expect(record.durationSeconds == 40)
        #expect(record.billedSeconds < 40)
        let summary = try Self.rerate(fixture)
        #expect(summary.changed == 0)
    }

    @Test func modifyKeepsAnAuditTrailAndMovesBothBalances() throws {
        let fixture = try Self.makeFixture()
        try Self.settleCalls(fixture, count: 20)
        let record = try #require(try fixture.read { try $0.cdrs().first { $0.answerTime != nil && $0.customerCost > .zero } })
        let customerBefore = try fixture.account().balance
        let vendorBefore = try fixture.account(BillingFixture.vendor).balance
        let result = try fixture.write {
            try $0.modifyCDR(id: record.id, customerCost: Money(units: 1234), vendorCost: Money(units: 100),
                             reason: "disputed: wrong destination", by: "alice", at: BillingFixture.start + 99)
        }
        #expect(result.warnings.isEmpty)
        #expect(result.adjustments.map(\.field) == [.customerCost, .vendorCost])
        let customer = try #require(result.adjustments.first)
        #expect(customer.kind == .modify)
        #expect(customer.oldValue == record.customerCost)
        #expect(customer.newValue == Money(units: 1234))
        #expect(customer.difference == Money(units: 1234) - record.customerCost)
        #expect(customer.by == "alice")
        #expect(customer.reason == "disputed: wrong destination")
        #expect(customer.account == BillingFixture.customer)
        #expect(result.adjustments.last?.account == BillingFixture.vendor)
        #expect(result.record.customerCost == Money(units: 1234))
        #expect(result.record.vendorCost == Money(units: 100))

        #expect(try fixture.read { try $0.cdr(id: record.id) } == record, "the CDR row never changes")
        #expect(try fixture.read { try $0.effectiveCDR(record) }.customerCost == Money(units: 1234))
        #expect(try fixture.account().balance == customerBefore - customer.difference)
        #expect(try fixture.account(BillingFixture.vendor).balance == vendorBefore - (Money(units: 100) - record.vendorCost))
        let entry = try #require(try fixture.read { try $0.accountHistory(account: BillingFixture.customer) }.last)
        #expect(entry.kind == .cdrModify)
        #expect(entry.cdrID == record.id)
        #expect(entry.amount == -customer.difference)

        // A second modification follows the first; re-rating then puts the table's price back.
        let second = try fixture.write {
            try $0.modifyCDR(id: record.id, customerCost: Money(units: 2000), vendorCost: nil, reason: "second look", by: "bob")
        }
        #expect(second.adjustments.map(\.sequence) == [3])
        #expect(second.adjustments.first?.oldValue == Money(units: 1234))
        let summary = try Self.rerate(fixture)
        #expect(summary.changed == 1)
        #expect(try fixture.read { try $0.effectiveCDR(record) }.customerCost == record.customerCost)
        #expect(try fixture.account().balance == customerBefore)
        #expect(try fixture.read { try $0.cdrAdjustments(cdrID: record.id) }.map(\.kind) == [.modify, .modify, .modify, .rerate, .rerate])
    }

    @Test func modifyRefusesBadInputAndChangesNothing() throws {
        let fixture = try Self.makeFixture()
        try Self.settleCalls(fixture, count: 5)
        let record = try #require(try fixture.read { try $0.cdrs().first { $0.answerTime != nil } })
        func refused(_ customer: Money?, _ vendor: Money?, reason: String = "why", id: UInt64? = nil) throws -> String {
            let error = try #require(throws: StoreError.self) {
                try fixture.write { try $0.modifyCDR(id: id ?? record.id, customerCost: customer, vendorCost: vendor, reason: reason, by: "x") }
            }
            return "\(error)"
        }
        #expect(try refused(nil, nil).contains("--customer-cost or --vendor-cost"))
        #expect(try refused(Money(units: 1), nil, reason: "  ").contains("--reason"))
        #expect(try refused(Money(units: -1), nil).contains("zero or more"))
        #expect(try refused(Money(units: 1), nil, id: 999_999).contains("999999"))
        #expect(try refused(record.customerCost, record.vendorCost).contains("nothing to change"))
        #expect(try fixture.read { try $0.count(.cdrAdjustments) } == 0)
    }

    @Test func modifyReportsAnAccountThatNoLongerExists() throws {
        let fixture = try Self.makeFixture()
        try Self.settleCalls(fixture, count: 5)
        let record = try #require(try fixture.read { try $0.cdrs().first { $0.answerTime != nil } })
        try fixture.requireStore().write { transaction in
            try transaction.removeGateway(named: "customer-gw")
            try transaction.removeAccount(named: BillingFixture.customer)
        }
        let result = try fixture.write {
            try $0.modifyCDR(id: record.id, customerCost: .zero, vendorCost: nil, reason: "refund", by: "x")
        }
        #expect(result.warnings == ["account 'acme' no longer exists: no balance changed"])
        #expect(result.adjustments.first?.account == nil)
        #expect(result.record.customerCost == .zero)
    }

    @Test func theRebuiltReportIndexKeepsAdjustedCharges() throws {
        let fixture = try Self.makeFixture()
        try Self.settleCalls(fixture, count: 300)
        try fixture.requireStore().write { try $0.replaceRates(table: "retail", with: Self.newRetail) }
        _ = try Self.rerate(fixture)
        let store = try fixture.requireStore()
        let revenue = try store.read { try $0.cdrReport(grouping: nil).total.revenue }
        try store.write(changesConfiguration: false) { transaction in
            try transaction.clear(.cdrReportFacts)
            try transaction.setMetaInteger(CDRReportIndex.indexedThroughKey, 0)
        }
        #expect(try store.updateCDRReportIndex() == 300)
        #expect(try store.read { try $0.cdrReport(grouping: nil).total.revenue } == revenue)
        let effective = try store.read { try $0.effectiveCDRs($0.cdrs()) }
        #expect(revenue == effective.reduce(Money.zero) { $0 + $1.customerCost })
    }
}
