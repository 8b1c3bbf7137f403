import VOSModel

/// A cluster node's local credit (docs/CLUSTER.md "Money"): in cluster mode an account's LMDB
/// balance is the credit this node leased from PostgreSQL, so ClusterStore's `QuotaLeaser` moves it
/// here when it is granted, handed back or reconciled. These are not charges or top-ups: the money
/// only moves between the cluster's free credit and this node, so no history entry is written and
/// nothing is queued for shipping. This file must not touch calls, reservations or the outbox; it
/// refuses a store that is not a cluster node, where the balance is the account's real money.
extension Transaction {
    /// Adds `amount` (negative to take credit away) to the account's local balance.
    @discardableResult
    public func adjustLeasedBalance(account name: String, by amount: Money) throws -> Account {
        try requireClusterNode("change the leased credit of account '\(name)'")
        var account = try requireAccount(named: name)
        account.balance += amount
        try putRecord(account, in: .accounts, key: name)
        return account
    }

    /// Sets the account's local balance to `balance` (the node's lease, at reconciliation) and
    /// returns the balance it replaced; nil when the account does not exist here.
    @discardableResult
    public func setLeasedBalance(account name: String, to balance: Money) throws -> Money? {
        try requireClusterNode("set the leased credit of account '\(name)'")
        guard var account = try account(named: name) else { return nil }
        let previous = account.balance
        guard previous != balance else { return previous }
        account.balance = balance
        try putRecord(account, in: .accounts, key: name)
        return previous
    }

    /// Empties the local balance of an account no live call holds credit of, and returns what it
    /// held (zero when it held nothing to give back or a call is live). Checking for live calls in
    /// the same transaction keeps a call admitted a moment ago from losing its credit.
    public func takeIdleLeasedBalance(account name: String) throws -> Money {
        try requireClusterNode("hand back the leased credit of account '\(name)'")
        guard var account = try account(named: name), account.balance > .zero,
              try accountReservation(name).liveCalls == 0 else { return .zero }
        let taken = account.balance
        account.balance = .zero
        try putRecord(account, in: .accounts, key: name)
        return taken
    }

    private func requireClusterNode(_ operation: String) throws {
        guard try clusterNode() != nil else {
            throw StoreError.conflict("cannot \(operation): this store is not a cluster node, so its balances are the accounts' own money")
        }
    }
}
