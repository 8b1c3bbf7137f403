import ArgumentParser
import VOSModel
import VOSStore

struct AccountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account", abstract: "Customer and vendor accounts: balances, credit, locks.",
        subcommands: [AccountAdd.self, AccountSet.self, AccountShow.self, AccountList.self, AccountHistory.self, AccountTopUp.self,
                      AccountLock.self, AccountUnlock.self, AccountRemove.self, AccountChargeMonthly.self])
}

enum AccountRows {
    static let headers = ["ACCOUNT", "TYPE", "BALANCE", "LIMIT-MONEY", "STATUS", "ANTI-OVERDRAFT", "CONCURRENT", "RATE-TABLE"]

    static func summary(_ account: Account) -> [String] {
        [account.name, account.kind.rawValue, account.balance.description, account.limitMoney.description,
         account.status.rawValue, onOff(account.antiOverdraft),
         account.concurrentLimit == 0 ? "unlimited" : String(account.concurrentLimit), account.rateTable ?? "-"]
    }
}

struct AccountAdd: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Create an account.")

    @OptionGroup var global: GlobalOptions
    @Argument var name: String
    @Option(help: "prepaid or postpaid") var type: Account.Kind
    @Option(help: "Opening balance.") var balance: String = "0"
    @Option(name: .customLong("limit-money"), help: "Overdraft (prepaid) or credit line (postpaid), >= 0.") var limitMoney: String = "0"
    @Option(name: .customLong("rate-table"), help: "Rate table for this account's calls.") var rateTable: String?
    @Option(help: "Concurrent calls, 0 = unlimited.") var concurrent: Int = 0
    @Option(name: .customLong("anti-overdraft"), help: "Cut prepaid calls when credit runs out: on|off.") var antiOverdraft: OnOff?
    @Option(help: "Balance under which a balance alarm rule raises an alarm (`vosctl alarm rule add NAME --kind balance`).") var alarm: String?
    @Flag(name: .customLong("balance-metric"), inversion: .prefixedNo,
          help: "Export the balance as the Prometheus gauge vos_account_balance (default: off).") var balanceMetric = false
    @Flag(name: .customLong("margin-protection"), inversion: .prefixedNo,
          help: "Never route this customer's calls to a vendor dearer than its own rate for the number (default: off).") var marginProtection = false

    func run() throws {
        try runReportingErrors {
            var account = Account(name: name, kind: type)
            account.balance = try parseMoney(balance, option: "--balance")
            account.limitMoney = try parseMoney(limitMoney, option: "--limit-money")
            account.rateTable = rateTable
            account.concurrentLimit = concurrent
            account.antiOverdraft = antiOverdraft?.value ?? (type == .prepaid)
            if let alarm { account.alarmThreshold = try parseMoney(alarm, option: "--alarm") }
            if balanceMetric { account.balanceMetric = true }
            if marginProtection { account.marginProtection = true }
            try global.openStore().write { try $0.addAccount(account) }
            print("added \(type.rawValue) account \(name) with balance \(account.balance)")
        }
    }
}

struct AccountSet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Change fields of an account; fields not named keep their values.",
        discussion: "--balance sets the balance and records the difference as an 'adjustment' in the account history.")

    @OptionGroup var global: GlobalOptions
    @Argument var name: String
    @Option(help: "prepaid or postpaid") var type: Account.Kind?
    @Option(help: "New balance (the difference is recorded as an adjustment).") var balance: String?
    @Option(name: .customLong("limit-money"), help: "Overdraft (prepaid) or credit line (postpaid), >= 0.") var limitMoney: String?
    @Option(name: .customLong("rate-table"), help: "Rate table for this account's calls, '' for none.") var rateTable: String?
    @Option(help: "Concurrent calls, 0 = unlimited.") var concurrent: Int?
    @Option(name: .customLong("anti-overdraft"), help: "Cut prepaid calls when credit runs out: on|off.") var antiOverdraft: OnOff?
    @Option(help: "Balance under which a balance alarm rule raises an alarm, '' for none (`vosctl alarm rule add NAME --kind balance`).") var alarm: String?
    @Option(help: "normal or locked (as `account unlock`/`lock`).") var status: Account.Status?
    @Flag(name: .customLong("balance-metric"), inversion: .prefixedNo,
          help: "Export the balance as the Prometheus gauge vos_account_balance, or stop (--no-balance-metric).") var balanceMetric: Bool?
    @Flag(name: .customLong("margin-protection"), inversion: .prefixedNo,
          help: "Never route this customer's calls to a vendor dearer than its own rate for the number, or stop (--no-margin-protection).")
    var marginProtection: Bool?
    @Option(help: "Customer package (`vosctl package`): free minutes, monthly rent, minimum consumption.") var package: String?
    @Flag(name: .customLong("no-package"), help: "Take the account off its package.") var noPackage = false

    func run() throws {
        try runReportingErrors {
            if package != nil && noPackage { throw ValidationError("--package and --no-package contradict each other: give one") }
            let given = [package != nil || noPackage, type != nil, balance != nil, limitMoney != nil, rateTable != nil, concurrent != nil, antiOverdraft != nil,
                         alarm != nil, status != nil, balanceMetric != nil, marginProtection != nil]
            guard given.contains(true) else { throw ValidationError("nothing to change: give at least one --FIELD VALUE") }
            let newBalance = try balance.map { try parseMoney($0, option: "--balance") }
            let newLimit = try limitMoney.map { try parseMoney($0, option: "--limit-money") }
            let newAlarm = try alarm.map { text -> Money? in
                if text.isEmpty { return nil }
                return try parseMoney(text, option: "--alarm")
            }
            let account = try global.openStore().write { transaction in
                var account = try transaction.requireAccount(named: name)
                if let type { account.kind = type }
                if let newLimit { account.limitMoney = newLimit }
                if let rateTable { account.rateTable = rateTable.isEmpty ? nil : rateTable }
                if let concurrent { account.concurrentLimit = concurrent }
                if let antiOverdraft { account.antiOverdraft = antiOverdraft.value }
                if let newAlarm { account.alarmThreshold = newAlarm }
                if let status { account.status = status }
                if let balanceMetric { account.balanceMetric = balanceMetric ? true : nil }
                if let marginProtection { account.marginProtection = marginProtection ? true : nil }
                if package != nil || noPackage { account.package = try package.map { try transaction.requirePackage(named: $0).name } }
                try transaction.saveAccount(account)
                if let newBalance { return try transaction.setBalance(account: name, to: newBalance) }
                return account
            }
            print("updated account \(name): balance \(account.balance), status \(account.status.rawValue)")
        }
    }
}

struct AccountRemove: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Remove an account no live call and no gateway uses (its history is kept).")

    @OptionGroup var global: GlobalOptions
    @Argument var name: String

    func run() throws {
        try runReportingErrors {
            try global.openStore().write { try $0.removeAccount(named: name) }
            print("removed account \(name)")
        }
    }
}

struct AccountShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show an account with the credit its live calls hold.")

    @OptionGroup var global: GlobalOptions
    @Argument var name: String
    @Flag(help: "Print JSON.") var json = false

    /// The stored account plus live figures; JSON keeps the account's own keys at the top level
    /// so scripts written against the plain account keep working.
    struct View: Encodable {
        let account: Account
        let reservation: AccountReservation
        /// This month's free minutes per group of the account's package (nil: no package).
        var packageUsage: [PackageRows.GroupUsage]? = nil

        enum LiveKeys: String, CodingKey { case reserved, available, liveCalls, packageUsage }

        func encode(to encoder: any Encoder) throws {
            try account.encode(to: encoder)
            var container = encoder.container(keyedBy: LiveKeys.self)
            try container.encode(reservation.reserved, forKey: .reserved)
            try container.encode(account.availableCredit(reserved: reservation.reserved), forKey: .available)
            try container.encode(reservation.liveCalls, forKey: .liveCalls)
            try container.encodeIfPresent(packageUsage, forKey: .packageUsage)
        }
    }

    func run() throws {
        try runReportingErrors {
            let view = try global.openStore().read { transaction in
                View(account: try transaction.requireAccount(named: name),
                     reservation: try transaction.accountReservation(name),
                     packageUsage: try PackageRows.usage(of: transaction.requireAccount(named: name), in: transaction))
            }
            if json { return try printJSON(view) }
            let account = view.account
            printTable(["FIELD", "VALUE"], zip(AccountRows.headers.map { $0.lowercased() }, AccountRows.summary(account)).map { [$0, $1] }
                + [["reserved", view.reservation.reserved.description],
                   ["available", account.availableCredit(reserved: view.reservation.reserved).description],
                   ["live calls", String(view.reservation.liveCalls)],
                   ["alarm", account.alarmThreshold.map { "\($0)" } ?? "-"],
                   ["balance metric", onOff(account.exportsBalanceMetric)],
                   ["margin protect", onOff(account.protectsMargin)]])
            PackageRows.printAccountPackage(account.package, usage: view.packageUsage)
        }
    }
}

struct AccountHistory: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "List an account's charges and top-ups, oldest first.")

    @OptionGroup var global: GlobalOptions
    @Argument var name: String
    @Option(help: "Show only the newest N entries.") var limit: Int?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try runReportingErrors {
            if let limit, limit < 1 { throw ValidationError("--limit must be 1 or more") }
            let entries = try global.openStore().read { transaction in
                _ = try transaction.requireAccount(named: name)
                return try transaction.accountHistory(account: name, limit: limit ?? .max)
            }
            if json { return try printJSON(entries) }
            printTable(["TIME", "KIND", "AMOUNT", "BALANCE-AFTER", "CALL-ID", "CDR"], entries.map { entry in
                [CDRRows.time(entry.time), entry.kind.rawValue, entry.amount.description, entry.balanceAfter.description,
                 entry.callID ?? "-", entry.cdrID.map(String.init) ?? "-"]
            })
        }
    }
}

struct AccountList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List accounts.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try runReportingErrors {
            let accounts = try global.openStore().read { try $0.accounts() }
            if json { return try printJSON(accounts) }
            printTable(AccountRows.headers, accounts.map(AccountRows.summary))
        }
    }
}

struct AccountTopUp: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "topup", abstract: "Add money; unlocks an account locked at its limit.")

    @OptionGroup var global: GlobalOptions
    @Argument var name: String
    @Argument var amount: String

    func run() throws {
        try runReportingErrors {
            let money = try parseMoney(amount, option: "AMOUNT")
            let account = try global.openStore().write { try $0.topUp(account: name, amount: money) }
            print("account \(name): balance \(account.balance), status \(account.status.rawValue)")
        }
    }
}

struct AccountLock: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lock", abstract: "Refuse new calls for an account.")

    @OptionGroup var global: GlobalOptions
    @Argument var name: String

    func run() throws {
        try runReportingErrors {
            try global.openStore().write { try $0.setAccountStatus(name, to: .locked) }
            print("account \(name): Locked")
        }
    }
}

struct AccountUnlock: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unlock", abstract: "Accept calls for an account again.")

    @OptionGroup var global: GlobalOptions
    @Argument var name: String

    func run() throws {
        try runReportingErrors {
            try global.openStore().write { try $0.setAccountStatus(name, to: .normal) }
            print("account \(name): Normal")
        }
    }
}
