import Logging
import VOSModel
import VOSStore

/// Where the B2BUA's money and CDRs go: credit reservation at setup, deadlines while connected,
/// checkpoints, and exactly-once settlement with the CDR (docs/BILLING.md). Called on the event
/// loop thread; the store-backed ledger commits without waiting for the disk (the controller
/// flushes a few times a second), so a call's write never waits on fsync, and reserves credit,
/// records answers and settles on its own thread (`LedgerWriter`), so the loop does not wait for those
/// transactions either.
///
/// Every call takes the `ReservationPolicy` the B2BUA derived from its configuration snapshot,
/// so no call re-reads the parameters table.
public protocol CallLedger: AnyObject {
    /// Admits the call and reserves its first slice of credit, or says why not; `completion` gets
    /// the verdict on a thread of the ledger's choosing. `clock` (the configuration's
    /// `SS_TIME_ZONE`) says which month a package's free minutes come from.
    func authorize(_ request: CallAuthorizationRequest, policy: ReservationPolicy, clock: LocalClock?,
                   completion: @escaping @Sendable (CallAuthorization) -> Void)
    /// Records the answer; `completion` gets the call's deadline (nil when `key` is not live), on a
    /// thread of the ledger's choosing, after the answer is stored.
    func answered(_ key: String, at time: Int64, vendor: VendorLeg, policy: ReservationPolicy,
                  completion: @escaping @Sendable (CallDeadline?) -> Void)
    func extend(_ key: String, now: Int64, policy: ReservationPolicy) -> CallDeadline?
    func checkpoint(_ connected: [(key: String, seconds: Int)], at time: Int64)
    /// Settles a billed call (`key` set) or records an unbilled one. Returns at once; the CDR is
    /// stored in the order calls finished.
    func finish(_ key: String?, draft: CallDetailRecord, policy: ReservationPolicy)
    func vendorBalances() -> [Account]
    /// Books customer packages' monthly rent and minimum consumption due at `time`, off the loop
    /// (idempotent: a period's charge is booked once however often this is asked).
    func applyMonthlyCharges(at time: Int64)
}

public final class StoreCallLedger: CallLedger {
    private let store: Store
    private let logger: Logger
    private let writer: LedgerWriter

    /// `recorded` gets each CDR once it is stored, with its id and costs, on the ledger thread.
    public init(store: Store, logger: Logger, recorded: @escaping @Sendable (CallDetailRecord) -> Void = { _ in }) {
        self.store = store
        self.logger = logger
        writer = LedgerWriter(store: store, logger: logger, recorded: recorded)
    }

    public func authorize(_ request: CallAuthorizationRequest, policy: ReservationPolicy, clock: LocalClock?,
                          completion: @escaping @Sendable (CallAuthorization) -> Void) {
        writer.enqueue(.authorize(request: request, policy: policy, clock: clock, completion: completion))
    }

    public func answered(_ key: String, at time: Int64, vendor: VendorLeg, policy: ReservationPolicy,
                         completion: @escaping @Sendable (CallDeadline?) -> Void) {
        writer.enqueue(.answered(key: key, time: time, vendor: vendor, policy: policy, completion: completion))
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
        writer.enqueue(.checkpoint(calls: connected, time: time))
    }

    public func finish(_ key: String?, draft: CallDetailRecord, policy: ReservationPolicy) {
        writer.enqueue(.settle(key: key, draft: draft, policy: policy))
    }

    /// Writes out the answers and settlements still queued (at shutdown, after the SIP loop stopped); false
    /// when they did not finish within `seconds` (the next start's recovery settles the rest).
    @discardableResult
    public func drain(seconds: Double = 10) -> Bool {
        writer.drain(seconds: seconds)
    }

    public func vendorBalances() -> [Account] {
        (try? store.read { try $0.accounts() }) ?? []
    }

    public func applyMonthlyCharges(at time: Int64) {
        writer.enqueue(.monthlyCharges(time: time))
    }

    /// Run once before taking calls: calls live when the previous controller died get their CDR.
    public func recoverInterruptedCalls(now: Int64) throws -> [CallDetailRecord] {
        try store.write(changesConfiguration: false) { try $0.recoverInterruptedCalls(now: now) }
    }
}
