import Foundation
import VOSModel
@testable import VOSStore
import VOSTestSupport

/// A real temporary store with one rate table and one customer account, plus helpers to drive the
/// billing API as the controller would.
final class BillingFixture {
    static let start: Int64 = 1_700_000_000_000
    static let customer = "acme"
    static let vendor = "carrier"
    /// 1.0000 per minute in 6-second steps: 0.1000 per step, easy to reason about.
    static let standardRate = RateEntry(prefix: "86", pricePerMinute: Money(whole: 1), firstInterval: 6, nextInterval: 6)

    let directory: TemporaryDirectory
    private(set) var store: Store?

    init(balance: Money, limitMoney: Money = .zero, kind: Account.Kind = .prepaid, antiOverdraft: Bool = true,
         concurrentLimit: Int = 0, rates: [RateEntry] = [BillingFixture.standardRate],
         vendorRates: [RateEntry] = [RateEntry(prefix: "0086", pricePerMinute: Money(units: 6000), firstInterval: 1, nextInterval: 1)],
         parameters: [SystemParameter: String] = [:]) throws {
        directory = try TemporaryDirectory()
        let store = try Store.initialize(directory: directory.child("data")).store
        try store.write { transaction in
            try transaction.replaceRates(table: "retail", with: rates)
            try transaction.replaceRates(table: "wholesale", with: vendorRates)
            var account = Account(name: BillingFixture.customer, kind: kind)
            account.balance = balance
            account.limitMoney = limitMoney
            account.antiOverdraft = antiOverdraft
            account.concurrentLimit = concurrentLimit
            account.rateTable = "retail"
            try transaction.addAccount(account)
            var vendor = Account(name: BillingFixture.vendor, kind: .prepaid)
            vendor.balance = Money(whole: 100)
            vendor.rateTable = "wholesale"
            try transaction.addAccount(vendor)
            for (parameter, value) in parameters { try transaction.setParameter(parameter, to: value) }
        }
        self.store = store
    }

    func requireStore() throws -> Store {
        guard let store else { throw FixtureError("the store was closed") }
        return store
    }

    /// Drops the only reference to the store, as a killed process would.
    func closeStore() { store = nil }

    func reopenStore() throws { store = try Store(directory: directory.child("data")) }

    @discardableResult
    func write<Result>(_ body: (Transaction) throws -> Result) throws -> Result {
        try requireStore().write(changesConfiguration: false, body)
    }

    func read<Result>(_ body: (Transaction) throws -> Result) throws -> Result {
        try requireStore().read(body)
    }

    func account(_ name: String = BillingFixture.customer) throws -> Account {
        try read { try $0.requireAccount(named: name) }
    }

    func request(_ key: String, callee: String = "8613800138000", at time: Int64 = BillingFixture.start,
                 vendor: Bool = true) -> CallAuthorizationRequest {
        CallAuthorizationRequest(
            key: key, callID: "call-\(key)", account: BillingFixture.customer, caller: "1001", callee: callee,
            mappingGateway: "customer-gw",
            vendor: vendor ? VendorLeg(gateway: "vendor-gw", clearingAccount: BillingFixture.vendor, callee: "00" + callee) : nil,
            now: time)
    }

    func authorize(_ key: String, at time: Int64 = BillingFixture.start, callee: String = "8613800138000") throws -> CallAuthorization {
        try write { try $0.authorizeCall(request(key, callee: callee, at: time)) }
    }

    /// The CDR draft the controller writes when a call ends.
    static func draft(_ key: String, answeredAt answer: Int64?, endedAt end: Int64,
                      reason: EndReason = .callerHangup) -> CallDetailRecord {
        var draft = CallDetailRecord(id: 0, callID: "call-\(key)", setupTime: BillingFixture.start, endTime: end,
                                     callerReceived: "1001", calleeReceived: "8613800138000", mappingGateway: "customer-gw",
                                     endReason: reason, sipCode: answer == nil ? 487 : 200,
                                     hangupSide: reason == .balanceExhausted ? .system : .caller)
        draft.answerTime = answer
        return draft
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}


extension Int64 {
    static func seconds(_ value: Int) -> Int64 { Int64(value) * 1000 }
}
