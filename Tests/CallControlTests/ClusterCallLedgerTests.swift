import CallControl
import Foundation
import Logging
import Testing
import VOSModel
import VOSStore

/// The cluster node's ledger against a real LMDB store joined as a cluster node and a fake
/// leaser (no PostgreSQL): it asks for credit only when the local lease is short, retries once,
/// tells an unreachable cluster apart from an empty account, and never admits a call that ended
/// while its lease was under way.
@Suite struct ClusterCallLedgerTests {
    final class FakeLeaser: CreditLeaser, @unchecked Sendable {
        enum Mode { case grant(Money), exhausted, unavailable(String), hold }
        private let lock = NSLock()
        private let store: Store
        private var mode: Mode
        private(set) var leases: [String] = []
        private(set) var touches: [String] = []
        private var held: [@Sendable (CreditLeaseOutcome) -> Void] = []

        init(store: Store, mode: Mode) {
            self.store = store
            self.mode = mode
        }

        var leaseCount: Int { lock.withLock { leases.count } }
        var touchCount: Int { lock.withLock { touches.count } }

        func lease(account: String, completion: @escaping @Sendable (CreditLeaseOutcome) -> Void) {
            let mode = lock.withLock { () -> Mode in
                leases.append(account)
                return self.mode
            }
            switch mode {
            case .grant(let amount):
                do {
                    try store.write(changesConfiguration: false) { try $0.adjustLeasedBalance(account: account, by: amount) }
                    completion(.granted(amount: amount))
                } catch {
                    completion(.unavailable(reason: "fake leaser: \(error)"))
                }
            case .exhausted: completion(.exhausted)
            case .unavailable(let reason): completion(.unavailable(reason: reason))
            case .hold: lock.withLock { held.append(completion) }
            }
        }

        func touch(account: String) { lock.withLock { touches.append(account) } }

        /// Grants `amount` to every held request (written to LMDB first, as the real leaser does).
        func releaseHeld(granting amount: Money, account: String) throws {
            let waiting = lock.withLock { () -> [@Sendable (CreditLeaseOutcome) -> Void] in
                defer { held = [] }
                return held
            }
            try store.write(changesConfiguration: false) { try $0.adjustLeasedBalance(account: account, by: amount) }
            for completion in waiting { completion(.granted(amount: amount)) }
        }

        var heldCount: Int { lock.withLock { held.count } }
    }

    final class Verdict: @unchecked Sendable {
        private let lock = NSLock()
        private let done = DispatchSemaphore(value: 0)
        private var value: CallAuthorization?
        func set(_ authorization: CallAuthorization) {
            lock.withLock { value = authorization }
            done.signal()
        }
        func wait() throws -> CallAuthorization {
            guard done.wait(timeout: .now() + 10) == .success, let value = lock.withLock({ value }) else {
                throw Failure(description: "no verdict within 10 s")
            }
            return value
        }
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    final class Fixture {
        let path = NSTemporaryDirectory() + "vos-cluster-ledger-test-\(UUID().uuidString)"
        let store: Store
        let inner: StoreCallLedger
        let leaser: FakeLeaser
        let ledger: ClusterCallLedger
        let policy = ReservationPolicy()

        init(localCredit: Money, leaser mode: FakeLeaser.Mode,
             vendorBalances: (@Sendable () -> [Account])? = nil) throws {
            store = try Store.initialize(directory: path).store
            try store.write { transaction in
                try transaction.joinCluster(as: "n1")
                _ = try transaction.replaceRates(table: "retail", with: [RateEntry(prefix: "44", pricePerMinute: Money(whole: 1),
                                                                                   firstInterval: 6, nextInterval: 6)])
                var account = Account(name: "acme", kind: .prepaid)
                account.rateTable = "retail"
                try transaction.addAccount(account)
                try transaction.setLeasedBalance(account: "acme", to: localCredit)
            }
            inner = StoreCallLedger(store: store, logger: Logger(label: "test"))
            leaser = FakeLeaser(store: store, mode: mode)
            ledger = ClusterCallLedger(inner: inner, leaser: leaser, vendorBalances: vendorBalances)
        }

        deinit { try? FileManager.default.removeItem(atPath: path) }

        func request(_ n: Int, account: String = "acme") -> CallAuthorizationRequest {
            CallAuthorizationRequest(key: "call-\(n)#1#\(n)", callID: "call-\(n)", account: account, caller: "100",
                                     callee: "4420123", mappingGateway: "customer", vendor: nil, now: 1_700_000_000_000)
        }

        func authorize(_ n: Int, account: String = "acme") -> Verdict {
            let verdict = Verdict()
            ledger.authorize(request(n, account: account), policy: policy, clock: nil) { verdict.set($0) }
            return verdict
        }

        func draft(_ n: Int) -> CallDetailRecord {
            var record = CallDetailRecord(id: 0, callID: "call-\(n)", setupTime: 1_700_000_000_000, endTime: 1_700_000_001_000,
                                          callerReceived: "100", calleeReceived: "4420123", mappingGateway: "customer",
                                          endReason: .callerCancel, sipCode: 487, hangupSide: .caller)
            record.account = "acme"
            return record
        }
    }

    @Test func aCallWithinTheLocalLeaseIsAdmittedWithoutAskingTheCluster() throws {
        let fixture = try Fixture(localCredit: Money(whole: 5), leaser: .exhausted)
        let verdict = try fixture.authorize(1).wait()
        #expect(verdict.deadline != nil)
        #expect(fixture.leaser.leaseCount == 0)
        #expect(fixture.leaser.touchCount == 1, "every admission notes the account as in use")
    }

    @Test func aShortLeaseIsToppedUpOnceAndTheCallAdmitted() throws {
        let fixture = try Fixture(localCredit: .zero, leaser: .grant(Money(whole: 2)))
        let verdict = try fixture.authorize(1).wait()
        #expect(verdict.deadline != nil, "\(verdict)")
        #expect(fixture.leaser.leaseCount == 1)
        let reserved = try fixture.store.read { try $0.accountReservation("acme") }
        #expect(reserved.liveCalls == 1)
        #expect(reserved.reserved <= Money(whole: 2))
    }

    @Test func anExhaustedClusterKeepsTheOriginalRefusal() throws {
        let fixture = try Fixture(localCredit: .zero, leaser: .exhausted)
        let refusal = try #require(try fixture.authorize(1).wait().refusal)
        #expect(refusal.cause == .insufficientCredit)
        #expect(refusal.endReason == .accountBalanceNotEnough)
        #expect(fixture.leaser.leaseCount == 1)
    }

    @Test func anUnreachableClusterRefusesWithClusterUnavailableNamingAccountAndReason() throws {
        let fixture = try Fixture(localCredit: .zero, leaser: .unavailable("connection refused"))
        let refusal = try #require(try fixture.authorize(1).wait().refusal)
        #expect(refusal.cause == .clusterUnavailable)
        #expect(refusal.endReason == .clusterUnavailable)
        #expect(refusal.sipCode == 503)
        #expect(refusal.detail.contains("'acme'"))
        #expect(refusal.detail.contains("connection refused"))
    }

    @Test func otherRefusalsAreNotLeasedFor() throws {
        let fixture = try Fixture(localCredit: .zero, leaser: .grant(Money(whole: 2)))
        let refusal = try #require(try fixture.authorize(1, account: "nobody").wait().refusal)
        #expect(refusal.cause == .unknownAccount)
        #expect(fixture.leaser.leaseCount == 0)
    }

    @Test func aCallThatEndsWhileItsLeaseIsUnderWayIsNotAdmittedAndGetsOneCDR() throws {
        let fixture = try Fixture(localCredit: .zero, leaser: .hold)
        let verdict = fixture.authorize(1)
        let deadline = Date().addingTimeInterval(10)
        while fixture.leaser.heldCount == 0 && Date() < deadline { usleep(1_000) }
        #expect(fixture.leaser.heldCount == 1, "the lease was asked for")
        // The caller hangs up (CANCEL) before the lease comes back.
        fixture.ledger.finish("call-1#1#1", draft: fixture.draft(1), policy: fixture.policy)
        #expect(fixture.inner.drain())
        try fixture.leaser.releaseHeld(granting: Money(whole: 2), account: "acme")
        let refusal = try #require(try verdict.wait().refusal)
        #expect(refusal.cause == .insufficientCredit)
        #expect(fixture.inner.drain())
        let (live, cdrs, balance) = try fixture.store.read { transaction in
            (try transaction.liveCalls(), try transaction.cdrs(), try transaction.account(named: "acme")?.balance)
        }
        #expect(live.isEmpty, "no reservation is left without a settlement")
        #expect(cdrs.map(\.callID) == ["call-1"])
        #expect(balance == Money(whole: 2), "the lease stays the node's for the next call")
    }

    @Test func vendorBalancesComeFromTheInjectedSource() throws {
        var clusterView = Account(name: "carrier", kind: .prepaid)
        clusterView.balance = Money(whole: 123)
        let fixture = try Fixture(localCredit: .zero, leaser: .exhausted, vendorBalances: { [clusterView] in [clusterView] })
        #expect(fixture.ledger.vendorBalances().map(\.balance) == [Money(whole: 123)])
        let forwarding = try Fixture(localCredit: .zero, leaser: .exhausted)
        #expect(forwarding.ledger.vendorBalances().map(\.name) == ["acme"])
    }
}
