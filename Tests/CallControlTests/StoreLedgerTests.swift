import CallControl
import Foundation
import Logging
import Testing
import VOSModel
import VOSStore

/// The store-backed ledger writes off the SIP loop, in call order, several calls per
/// transaction. These run it against a real store: whatever the race between a call's
/// authorization and its end, its money is settled exactly once and it gets exactly one CDR.
@Suite struct StoreLedgerTests {
    final class Fixture {
        let path = NSTemporaryDirectory() + "vos-ledger-test-\(UUID().uuidString)"
        let store: Store
        let ledger: StoreCallLedger
        let policy = ReservationPolicy()

        init(balance: Money) throws {
            store = try Store.initialize(directory: path).store
            try store.write { transaction in
                _ = try transaction.replaceRates(table: "retail", with: [RateEntry(prefix: "44", pricePerMinute: Money(whole: 1),
                                                                                   firstInterval: 6, nextInterval: 6)])
                var account = Account(name: "acme", kind: .prepaid)
                account.balance = balance
                account.rateTable = "retail"
                try transaction.addAccount(account)
            }
            ledger = StoreCallLedger(store: store, logger: Logger(label: "test"))
        }

        deinit { try? FileManager.default.removeItem(atPath: path) }

        func request(_ n: Int, account: String = "acme") -> CallAuthorizationRequest {
            CallAuthorizationRequest(key: "call-\(n)#1#\(n)", callID: "call-\(n)", account: account, caller: "100",
                                     callee: "4420123", mappingGateway: "customer", vendor: nil, now: 1_700_000_000_000)
        }

        func draft(_ n: Int, reason: EndReason) -> CallDetailRecord {
            var record = CallDetailRecord(id: 0, callID: "call-\(n)", setupTime: 1_700_000_000_000, endTime: 1_700_000_001_000,
                                          callerReceived: "100", calleeReceived: "4420123", mappingGateway: "customer",
                                          endReason: reason, sipCode: 487, hangupSide: .caller)
            record.account = "acme"
            return record
        }

        func authorize(_ n: Int, account: String = "acme") -> Verdict {
            let verdict = Verdict()
            ledger.authorize(request(n, account: account), policy: policy, clock: nil) { verdict.set($0) }
            return verdict
        }
    }

    final class Verdict: @unchecked Sendable {
        private let lock = NSLock()
        private var value: CallAuthorization?
        func set(_ authorization: CallAuthorization) { lock.withLock { value = authorization } }
        var granted: Bool? {
            lock.withLock {
                switch value {
                case .granted?: true
                case .refused?: false
                case nil: nil
                }
            }
        }
    }

    @Test func aCallCancelledWhileItsCreditIsBeingReservedIsSettledOnce() throws {
        let fixture = try Fixture(balance: Money(whole: 10))
        let verdict = fixture.authorize(1)
        // The CANCEL came before the loop heard back: the call ends with its key set.
        fixture.ledger.finish("call-1#1#1", draft: fixture.draft(1, reason: .callerCancel), policy: fixture.policy)
        #expect(fixture.ledger.drain())
        #expect(verdict.granted == true)
        let (cdrs, live, reserved, balance) = try fixture.store.read { transaction in
            (try transaction.cdrs(), try transaction.liveCalls(), try transaction.accountReservation("acme"),
             try transaction.account(named: "acme")?.balance)
        }
        #expect(cdrs.map(\.endReason) == [.callerCancel])
        #expect(live.isEmpty)
        #expect(reserved == .none)
        #expect(balance == Money(whole: 10), "an unanswered call costs nothing")
    }

    @Test func aRefusedCallThatEndedMeanwhileStillGetsOneCDR() throws {
        let fixture = try Fixture(balance: Money(whole: 10))
        let verdict = fixture.authorize(1, account: "nobody")
        fixture.ledger.finish("call-1#1#1", draft: fixture.draft(1, reason: .callerCancel), policy: fixture.policy)
        #expect(fixture.ledger.drain())
        #expect(verdict.granted == false)
        #expect(try fixture.store.read { try $0.cdrs().map(\.callID) } == ["call-1"])
    }

    @Test func callsQueuedTogetherAreAdmittedAgainstEachOthersReservations() throws {
        // 1.00/min in 6 s steps: each admission reserves at least its first 6 s (0.10). With 0.35
        // of credit, no more than 3 of 10 calls queued at once may be granted.
        let fixture = try Fixture(balance: Money(units: 3_500))
        let verdicts = (1...10).map { fixture.authorize($0) }
        #expect(fixture.ledger.drain())
        let granted = verdicts.filter { $0.granted == true }.count
        #expect(verdicts.allSatisfy { $0.granted != nil })
        #expect((1...3).contains(granted), "\(granted) granted")
        let reserved = try fixture.store.read { try $0.accountReservation("acme") }
        #expect(reserved.liveCalls == granted)
        #expect(reserved.reserved <= Money(units: 3_500))
    }

    @Test func answersAndCheckpointsReachTheLiveCallInOrder() throws {
        let fixture = try Fixture(balance: Money(whole: 10))
        let verdict = fixture.authorize(1)
        let deadline = Verdict()
        fixture.ledger.answered("call-1#1#1", at: 1_700_000_002_000, vendor: VendorLeg(gateway: "uk", clearingAccount: nil, callee: "4420123"),
                                policy: fixture.policy) { _ in deadline.set(.granted(CallDeadline(connectedSeconds: nil, isFinal: false, releaseAt: nil, extendAt: nil))) }
        fixture.ledger.checkpoint([(key: "call-1#1#1", seconds: 30)], at: 1_700_000_032_000)
        #expect(fixture.ledger.drain())
        #expect(verdict.granted == true)
        #expect(deadline.granted == true, "the answer's completion ran")
        let live = try #require(try fixture.store.read { try $0.liveCall(key: "call-1#1#1") })
        #expect(live.answerTime == 1_700_000_002_000)
        #expect(live.vendor?.gateway == "uk")
        #expect(live.checkpointSeconds == 30)
    }
}
