/// Where a cluster node gets credit it does not yet hold (docs/CLUSTER.md "Money"). In cluster
/// mode an account's balance in the node's LMDB is the credit this node leased from PostgreSQL;
/// CallControl's `ClusterCallLedger` asks for more when an admission finds too little. The
/// implementation (ClusterStore's `QuotaLeaser`) runs the conditional UPDATE on its own
/// connection, so the event loop never waits on the network. Both sides meet in the model, so
/// neither CallControl nor ClusterStore depends on the other and nothing translates between them.
public protocol CreditLeaser: AnyObject, Sendable {
    /// Leases more credit for `account` into the node's LMDB balance, then calls `completion` (on
    /// a thread of the leaser's choosing).
    func lease(account: String, completion: @escaping @Sendable (CreditLeaseOutcome) -> Void)
    /// Notes that `account` placed a call, so its idle lease is not handed back yet.
    func touch(account: String)
}

public enum CreditLeaseOutcome: Sendable, Equatable {
    /// `amount` more is now in the node's LMDB balance of the account.
    case granted(amount: Money)
    /// The cluster has no free credit for the account (or it is locked or unknown there).
    case exhausted
    /// The cluster database could not be reached (or the local write failed); `reason` says why.
    case unavailable(reason: String)
}
