import Logging
import VOSModel
import VOSStore

/// Where the B2BUA's money and CDRs go: credit reservation at setup, deadlines while connected,
/// checkpoints, and exactly-once settlement with the CDR (docs/BILLING.md). Called on the event
/// loop thread; the store-backed ledger commits without waiting for the disk (the controller
/// flushes a few times a second), so a call's write never waits on fsync.
///
/// Every call takes the `ReservationPolicy` the B2BUA derived from its configuration snapshot,
/// so no call re-reads the parameters table.
public protocol CallLedger: AnyObject {
    func authorize(_ request: CallAuthorizationRequest, policy: ReservationPolicy) -> CallAuthorization
    func answered(_ key: String, at time: Int64, vendor: VendorLeg, policy: ReservationPolicy) -> CallDeadline?
    func extend(_ key: String, now: Int64, policy: ReservationPolicy) -> CallDeadline?
    func checkpoint(_ connected: [(key: String, seconds: Int)], at time: Int64)
    /// Settles a billed call (`key` set) or records an unbilled one; returns the stored CDR.
    @discardableResult
    func finish(_ key: String?, draft: CallDetailRecord, policy: ReservationPolicy) -> CallDetailRecord?
    func vendorBalances() -> [Account]
}

public final class StoreCallLedger: CallLedger {
    private let store: Store
    private let logger: Logger

    public init(store: Store, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    public func authorize(_ request: CallAuthorizationRequest, policy: ReservationPolicy) -> CallAuthorization {
        do {
            return try store.write(changesConfiguration: false) { try $0.authorizeCall(request, policy: policy) }
        } catch {
            // Never connect a call whose credit could not be reserved.
            logger.error("call \(request.callID): credit reservation failed: \(error)")
            return .refused(CallRefusal(cause: .unknownAccount, detail: "store failure: \(error)"))
        }
    }

    public func answered(_ key: String, at time: Int64, vendor: VendorLeg, policy: ReservationPolicy) -> CallDeadline? {
        do {
            return try store.write(changesConfiguration: false) { try $0.markAnswered(key, at: time, vendor: vendor, policy: policy) }
        } catch {
            logger.error("call \(key): cannot record the answer: \(error)")
            return nil
        }
    }

    public func extend(_ key: String, now: Int64, policy: ReservationPolicy) -> CallDeadline? {
        do {
            return try store.write(changesConfiguration: false) { try $0.extendCall(key, now: now, policy: policy) }
        } catch {
            logger.error("call \(key): cannot extend the credit reservation: \(error)")
            return nil
        }
    }

    public func checkpoint(_ connected: [(key: String, seconds: Int)], at time: Int64) {
        guard !connected.isEmpty else { return }
        do {
            try store.write(changesConfiguration: false) { transaction in
                for call in connected { try transaction.checkpoint(call.key, connectedSeconds: call.seconds, at: time) }
            }
        } catch {
            logger.error("cannot checkpoint \(connected.count) live calls: \(error)")
        }
    }

    public func finish(_ key: String?, draft: CallDetailRecord, policy: ReservationPolicy) -> CallDetailRecord? {
        do {
            return try store.write(changesConfiguration: false) { transaction in
                if let key { return try transaction.settleCall(key, draft: draft, policy: policy) }
                return try transaction.appendCDR(draft)
            }
        } catch {
            logger.error("cannot write the CDR of call \(draft.callID): \(error)")
            return nil
        }
    }

    public func vendorBalances() -> [Account] {
        (try? store.read { try $0.accounts() }) ?? []
    }

    /// Run once before taking calls: calls live when the previous controller died get their CDR.
    public func recoverInterruptedCalls(now: Int64) throws -> [CallDetailRecord] {
        try store.write(changesConfiguration: false) { try $0.recoverInterruptedCalls(now: now) }
    }
}
