import Foundation
import VOSModel
import VOSStore

/// The call ledger of a cluster node (docs/CLUSTER.md "Money"): the node's own ledger (the
/// `StoreCallLedger`, whose LMDB balance is the credit this node leased), plus a `CreditLeaser`
/// asked for more when an admission finds too little. Everything but admission goes straight to
/// the inner ledger; vendor balances come from `vendorBalances` (the cluster's, not the node's
/// lease). It never writes money itself and knows nothing of PostgreSQL.
///
/// The inner ledger's `authorize` and `finish` must be callable from any thread (the store
/// ledger's only queue work): a retry after a lease runs on the leaser's thread.
public final class ClusterCallLedger: CallLedger, @unchecked Sendable {
    // @unchecked: `leasing` is guarded by `lock`; the inner ledger is thread-safe as said above.
    private let inner: any CallLedger
    private let leaser: any CreditLeaser
    private let vendorAccounts: @Sendable () -> [Account]
    /// Calls being admitted (the first attempt or a lease under way), and whether each ended
    /// meanwhile. Recursive: an inner ledger that completes at once may have its caller finish
    /// the call right away.
    private let lock = NSRecursiveLock()
    private var leasing: [String: Bool] = [:]

    /// `vendorBalances` nil: the inner ledger's accounts.
    public init(inner: any CallLedger, leaser: any CreditLeaser,
                vendorBalances: (@Sendable () -> [Account])? = nil) {
        self.inner = inner
        self.leaser = leaser
        if let vendorBalances {
            vendorAccounts = vendorBalances
        } else {
            // Captures the inner ledger only, as thread-safe as the ledger itself says above.
            let box = UncheckedLedger(inner)
            vendorAccounts = { box.ledger.vendorBalances() }
        }
    }

    /// Admits against the node's local credit; when that is short, leases more and asks again,
    /// up to `leaseRounds` times: calls arriving together share one lease round trip, so one
    /// slice may admit only some of them while the cluster still has credit for the rest. A call
    /// that ends while its lease is under way is not admitted afterwards (its `finish` was
    /// already queued and would find nothing to settle), so it keeps its refusal.
    public func authorize(_ request: CallAuthorizationRequest, policy: ReservationPolicy, clock: LocalClock?,
                          completion: @escaping @Sendable (CallAuthorization) -> Void) {
        leaser.touch(account: request.account)
        // Registered before the first attempt: the call may end before its verdict comes back.
        lock.withLock { leasing[request.key] = false }
        attempt(request, policy: policy, clock: clock, round: 0, completion: completion)
    }

    /// Lease rounds one admission may wait for before its refusal stands.
    static let leaseRounds = 4

    private func attempt(_ request: CallAuthorizationRequest, policy: ReservationPolicy, clock: LocalClock?, round: Int,
                         completion: @escaping @Sendable (CallAuthorization) -> Void) {
        inner.authorize(request, policy: policy, clock: clock) { [self] verdict in
            guard case let .refused(refusal) = verdict, refusal.cause == .insufficientCredit,
                  round < ClusterCallLedger.leaseRounds else {
                lock.withLock { _ = leasing.removeValue(forKey: request.key) }
                completion(verdict)
                return
            }
            leaser.lease(account: request.account) { [self] outcome in
                switch outcome {
                case .granted:
                    // Under the lock, so a `finish` of this call is queued either before (and
                    // seen here) or after this admission (and then settles it).
                    lock.withLock {
                        if leasing[request.key] == true {
                            leasing.removeValue(forKey: request.key)
                            completion(verdict)
                        } else {
                            attempt(request, policy: policy, clock: clock, round: round + 1, completion: completion)
                        }
                    }
                case .exhausted:
                    lock.withLock { _ = leasing.removeValue(forKey: request.key) }
                    completion(verdict)
                case .unavailable(let reason):
                    lock.withLock { _ = leasing.removeValue(forKey: request.key) }
                    completion(.refused(CallRefusal(
                        cause: .clusterUnavailable,
                        detail: "account '\(request.account)' has no local credit left and the cluster database cannot lease more: \(reason)")))
                }
            }
        }
    }

    public func answered(_ key: String, at time: Int64, vendor: VendorLeg, policy: ReservationPolicy,
                         completion: @escaping @Sendable (CallDeadline?) -> Void) {
        inner.answered(key, at: time, vendor: vendor, policy: policy, completion: completion)
    }

    public func extend(_ key: String, now: Int64, policy: ReservationPolicy) -> CallDeadline? {
        inner.extend(key, now: now, policy: policy)
    }

    public func checkpoint(_ connected: [(key: String, seconds: Int)], at time: Int64) {
        inner.checkpoint(connected, at: time)
    }

    public func finish(_ key: String?, draft: CallDetailRecord, policy: ReservationPolicy) {
        if let key {
            lock.withLock {
                if leasing[key] != nil { leasing[key] = true }
            }
        }
        inner.finish(key, draft: draft, policy: policy)
    }

    public func vendorBalances() -> [Account] {
        vendorAccounts()
    }

    /// Not booked by nodes: each node would book the month's rent once in its own LMDB, so a
    /// cluster of N charged it N times. Monthly charges in cluster mode are not supported yet
    /// (docs/CLUSTER.md); `vosctl account charge-monthly --cluster-dsn` refuses too.
    public func applyMonthlyCharges(at time: Int64) {}
}

/// The inner ledger inside a `@Sendable` closure (see `ClusterCallLedger`'s thread rule).
private final class UncheckedLedger: @unchecked Sendable {
    let ledger: any CallLedger
    init(_ ledger: any CallLedger) { self.ledger = ledger }
}
