import VOSModel

extension Transaction {
    public func accounts() throws -> [Account] {
        try records(Account.self, in: .accounts)
    }

    public func account(named name: String) throws -> Account? {
        let key = Array(name.utf8)
        if let known = decodedAccounts.lookup(key) { return known }
        guard let account = try record(Account.self, in: .accounts, key: name) else { return nil }
        decodedAccounts.remember(account, key: key)
        return account
    }

    public func addAccount(_ account: Account) throws {
        guard try self.account(named: account.name) == nil else { throw StoreError.duplicate(kind: "account", name: account.name) }
        try saveAccount(account)
    }

    public func saveAccount(_ account: Account) throws {
        do { try account.validate() } catch { throw StoreError.invalid(error) }
        if let table = account.rateTable, try rateEntries(table: table, limit: 1).isEmpty {
            throw StoreError.conflict("rate table '\(table)' for account '\(account.name)' does not exist (import it with `vosctl rate import \(table) FILE.csv`)")
        }
        try putRecord(account, in: .accounts, key: account.name)
    }

    public func requireAccount(named name: String) throws -> Account {
        guard let account = try account(named: name) else { throw StoreError.notFound(kind: "account", name: name) }
        return account
    }

    /// Adds money and records it in the account history. A top-up that lifts the balance above
    /// -limitMoney unlocks an account that was locked for reaching it (requirements §4).
    @discardableResult
    public func topUp(account name: String, amount: Money, at time: Int64 = Transaction.currentMilliseconds()) throws -> Account {
        guard amount > .zero else {
            throw StoreError.invalid(.invalid(field: "amount", value: amount.description, expected: "a positive amount"))
        }
        var account = try requireAccount(named: name)
        account.balance += amount
        if account.status == .locked && account.balance > -account.limitMoney { account.status = .normal }
        try putRecord(account, in: .accounts, key: name)
        try appendHistory(AccountHistoryEntry(account: name, time: time, kind: .topUp, amount: amount, balanceAfter: account.balance))
        return account
    }

    /// Sets the balance to `balance` and records the difference as an `adjustment` in the
    /// history, so a correction is never a silent edit. The status is left as it is.
    @discardableResult
    public func setBalance(account name: String, to balance: Money, at time: Int64 = Transaction.currentMilliseconds()) throws -> Account {
        var account = try requireAccount(named: name)
        let difference = balance - account.balance
        guard difference != .zero else { return account }
        account.balance = balance
        try putRecord(account, in: .accounts, key: name)
        try appendHistory(AccountHistoryEntry(account: name, time: time, kind: .adjustment, amount: difference, balanceAfter: balance))
        return account
    }

    /// Deletes an account no live call and no gateway uses. Its history entries stay (they are
    /// the record of money moved); CDRs keep naming it.
    public func removeAccount(named name: String) throws {
        _ = try requireAccount(named: name)
        try requireNoGatewayGroupReservation(for: name)
        let live = try accountReservation(name).liveCalls
        let carried = try liveCalls().filter { $0.vendor?.clearingAccount == name }.count
        guard live == 0 && carried == 0 else {
            let count = live > 0 ? "\(live) live call\(live == 1 ? "" : "s") billed to it" : "\(carried) live call\(carried == 1 ? "" : "s") cleared against it"
            throw StoreError.conflict("account '\(name)' has \(count): remove it once they end (lock it first to stop new calls: `vosctl account lock \(name)`)")
        }
        let users = try mappingGateways().filter { $0.account == name }.map { "mapping gateway '\($0.name)'" }
            + routingGateways().filter { $0.clearingAccount == name }.map { "routing gateway '\($0.name)' (clearing account)" }
        guard users.isEmpty else {
            throw StoreError.conflict("account '\(name)' is used by \(users.joined(separator: ", ")): point them elsewhere first (`vosctl gateway set NAME --account OTHER|''`, `--clearing-account OTHER|''`)")
        }
        _ = try delete(.accounts, Array(name.utf8))
    }

    @discardableResult
    public func setAccountStatus(_ name: String, to status: Account.Status) throws -> Account {
        var account = try requireAccount(named: name)
        account.status = status
        try putRecord(account, in: .accounts, key: name)
        return account
    }
}
