import VOSModel

extension Transaction {
    public func accounts() throws -> [Account] {
        try records(Account.self, in: .accounts)
    }

    public func account(named name: String) throws -> Account? {
        try record(Account.self, in: .accounts, key: name)
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

    @discardableResult
    public func setAccountStatus(_ name: String, to status: Account.Status) throws -> Account {
        var account = try requireAccount(named: name)
        account.status = status
        try putRecord(account, in: .accounts, key: name)
        return account
    }
}
