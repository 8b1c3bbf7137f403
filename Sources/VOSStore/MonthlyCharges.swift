import VOSModel

/// A customer package's monthly rent and minimum consumption (docs/BILLING.md "Packages"),
/// booked by `applyMonthlyCharges`, which the controller runs periodically and `vosctl account
/// charge-monthly` runs by hand. Each (account, period, kind) is booked at most once: the row in
/// `monthly_charges` is written in the transaction that books the money, so running it again, or
/// after a restart, finds the row and books nothing.
public struct MonthlyCharge: Sendable, Hashable, Codable {
    public var account: String
    /// `YYYY-MM` in `SS_TIME_ZONE`.
    public var period: String
    /// `rent` or `minimum-consumption`.
    public var kind: AccountHistoryEntry.Kind
    public var package: String
    /// Money taken from the account (zero when nothing was owed, e.g. a package without rent or a
    /// month whose calls reached the minimum).
    public var amount: Money
    /// The history entry the amount was booked as; nil when the amount is zero.
    public var historyID: UInt64?
    /// Epoch milliseconds of the booking.
    public var time: Int64
    /// On a rent row: the package's minimum consumption when the month's rent was booked, what
    /// that month is held to once it ends (a later change of the package applies from the next
    /// month on).
    public var minimumConsumption: Money?

    public init(account: String, period: String, kind: AccountHistoryEntry.Kind, package: String, amount: Money,
                historyID: UInt64?, time: Int64, minimumConsumption: Money? = nil) {
        self.account = account
        self.period = period
        self.kind = kind
        self.package = package
        self.amount = amount
        self.historyID = historyID
        self.time = time
        self.minimumConsumption = minimumConsumption
    }
}

extension Transaction {
    /// History kinds that count as a month's consumption: call charges and their corrections.
    static let consumptionKinds: Set<AccountHistoryEntry.Kind> = [.charge, .rerate, .cdrModify]

    /// Entries of one account are booked in commit order with times at most moments before the
    /// commit; scanning back a day past a month's start is sure to have passed all of its entries.
    static let historyTimeSlack: Int64 = 86_400_000

    static func monthlyChargeKey(account: String, period: String, kind: AccountHistoryEntry.Kind) -> [UInt8] {
        Array(account.utf8) + [0] + Array(period.utf8) + [0] + Array(kind.rawValue.utf8)
    }

    /// One account's monthly charges, oldest period first.
    public func monthlyCharges(account: String) throws -> [MonthlyCharge] {
        try records(MonthlyCharge.self, in: .monthlyCharges, keyPrefix: Array(account.utf8) + [0])
    }

    /// Books what is due at `now` for every account with a package, and returns the history
    /// entries written (none when everything was booked already):
    /// - the minimum consumption of each finished month whose rent was booked: the package's
    ///   minimum then, less the month's call charges (`charge`, `rerate`, `cdr-modify` entries
    ///   booked in it), if positive (kind `minimum-consumption`);
    /// - the rent of the current month (kind `rent`), once per month, for the package the
    ///   account is on when this first runs in that month.
    /// A charge that brings the balance to -limitMoney or below locks the account, as a call's does.
    @discardableResult
    public func applyMonthlyCharges(now: Int64, clock: LocalClock? = nil) throws -> [AccountHistoryEntry] {
        let clock = try clock ?? LocalClock(parameters: parameters())
        let current = clock.period(of: now)
        var booked: [AccountHistoryEntry] = []
        for account in try accounts() {
            let rows = try monthlyCharges(account: account.name)
            guard account.package != nil || !rows.isEmpty else { continue }
            let settled = Set(rows.filter { $0.kind == .minimumConsumption }.map(\.period))
            for rent in rows where rent.kind == .rent && rent.period < current && !settled.contains(rent.period) {
                let minimum = rent.minimumConsumption ?? .zero
                var shortfall = Money.zero
                if minimum > .zero {
                    let bounds = try Transaction.periodBounds(rent.period, clock: clock)
                    let consumed = try customerCharges(account: account.name, from: bounds.start, until: bounds.end)
                    shortfall = max(.zero, minimum - consumed)
                }
                if let entry = try bookMonthlyCharge(MonthlyCharge(
                    account: account.name, period: rent.period, kind: .minimumConsumption, package: rent.package,
                    amount: shortfall, historyID: nil, time: now)) {
                    booked.append(entry)
                }
            }
            guard let name = account.package, !rows.contains(where: { $0.kind == .rent && $0.period == current }),
                  let package = try package(named: name) else { continue }
            if let entry = try bookMonthlyCharge(MonthlyCharge(
                account: account.name, period: current, kind: .rent, package: name, amount: package.monthlyRent,
                historyID: nil, time: now, minimumConsumption: package.minimumConsumption)) {
                booked.append(entry)
            }
        }
        return booked
    }

    /// Money the account's calls were charged between `start` and `end` (epoch ms), net of
    /// corrections: what minimum consumption is measured against.
    public func customerCharges(account: String, from start: Int64, until end: Int64) throws -> Money {
        let prefix = Array(account.utf8) + [0]
        let last = prefix + [UInt8](repeating: 0xFF, count: 8)
        var total = Money.zero
        // Newest first: only the last month or so of a long history is read.
        try scan(.accountHistory, from: last, reverse: true) { key, value in
            guard key.starts(with: prefix) else { return !key.lexicographicallyPrecedes(prefix) }
            let entry = try Transaction.decode(AccountHistoryEntry.self, from: value, table: .accountHistory,
                                               key: String(decoding: key, as: UTF8.self))
            if entry.time >= start && entry.time < end && Transaction.consumptionKinds.contains(entry.kind) {
                total -= entry.amount
            }
            return entry.time >= start - Transaction.historyTimeSlack
        }
        return total
    }

    /// Writes the row and, for a positive amount, debits the account and appends its history
    /// entry (returned).
    private func bookMonthlyCharge(_ charge: MonthlyCharge) throws -> AccountHistoryEntry? {
        var charge = charge
        var entry: AccountHistoryEntry?
        if charge.amount > .zero {
            var account = try requireAccount(named: charge.account)
            account.balance -= charge.amount
            if account.balance <= -account.limitMoney { account.status = .locked }
            try putRecord(account, in: .accounts, key: account.name)
            entry = try appendHistory(AccountHistoryEntry(account: account.name, time: charge.time, kind: charge.kind,
                                                          amount: -charge.amount, balanceAfter: account.balance))
            charge.historyID = entry?.id
        }
        let key = Transaction.monthlyChargeKey(account: charge.account, period: charge.period, kind: charge.kind)
        try put(.monthlyCharges, key, Transaction.encode(charge, table: .monthlyCharges, key: "\(charge.account)/\(charge.period)/\(charge.kind.rawValue)"))
        return entry
    }

    /// The instants [start, end) of a `YYYY-MM` period in `clock`'s zone.
    static func periodBounds(_ period: String, clock: LocalClock) throws -> (start: Int64, end: Int64) {
        let parts = period.split(separator: "-")
        guard parts.count == 2, let year = Int(parts[0]), let month = Int(parts[1]), (1...12).contains(month) else {
            throw StoreError.corruptRecord(table: Table.monthlyCharges.rawValue, key: period, reason: "the period is not YYYY-MM")
        }
        return (clock.monthStart(year: year, month: month), clock.monthStart(year: year, month: month + 1))
    }
}
