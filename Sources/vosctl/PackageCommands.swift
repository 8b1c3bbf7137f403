import ArgumentParser
import VOSModel
import VOSStore

/// `vosctl package`: customer packages (free minutes per destination group per month, monthly
/// rent, minimum monthly consumption; docs/BILLING.md "Packages"). Accounts take one with
/// `vosctl account set NAME --package P`.
struct PackageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "package", abstract: "Customer packages: free minutes per destination group, monthly rent, minimum consumption.",
        subcommands: [PackageAdd.self, PackageSet.self, PackageShow.self, PackageList.self, PackageRemove.self])
}

enum PackageRows {
    static let groupHelp = "A destination group NAME=PREFIX[,PREFIX...]:MINUTES (free minutes a month for callees starting with a prefix; "
        + "the longest prefix decides between groups), e.g. mobile=8613,8615:300. Repeat for more groups."

    static func parseGroups(_ texts: [String]) throws -> [CustomerPackage.DestinationGroup] {
        try texts.map { try CustomerPackage.DestinationGroup(parsing: $0) }
    }

    /// One destination group's free minutes this month, as `account show` prints them.
    struct GroupUsage: Encodable {
        let period: String
        let group: String
        let freeMinutes: Int
        let usedSeconds: Int
        /// Granted to live calls, not yet settled.
        let heldSeconds: Int
        let leftSeconds: Int
    }

    /// This month's usage (`SS_TIME_ZONE`) of each group of the account's package; nil without a
    /// package, or when the package it names is gone.
    static func usage(of account: Account, in transaction: Transaction,
                      at now: Int64 = Transaction.currentMilliseconds()) throws -> [GroupUsage]? {
        guard let name = account.package, let package = try transaction.package(named: name) else { return nil }
        let period = try LocalClock(parameters: transaction.parameters()).period(of: now)
        let used = try transaction.packageUsage(account: account.name, period: period)
        return package.groups.map { group in
            let usage = used[group.name] ?? PackageUsage()
            return GroupUsage(period: period, group: group.name, freeMinutes: group.freeMinutes, usedSeconds: usage.usedSeconds,
                              heldSeconds: usage.heldSeconds, leftSeconds: usage.available(of: group.freeSeconds))
        }
    }

    static func printAccountPackage(_ name: String?, usage: [GroupUsage]?) {
        print("")
        guard let name else { return print("package: none") }
        guard let usage else { return print("package: \(name) (no longer exists: `vosctl account set ACCOUNT --no-package`)") }
        print("package: \(name)" + (usage.first.map { ", month \($0.period)" } ?? ""))
        guard !usage.isEmpty else { return }
        printTable(["GROUP", "FREE-MIN", "USED-S", "HELD-S", "LEFT-S"], usage.map {
            [$0.group, String($0.freeMinutes), String($0.usedSeconds), String($0.heldSeconds), String($0.leftSeconds)]
        })
    }

    static func summary(_ package: CustomerPackage, accounts: Int) -> [String] {
        [package.name, package.monthlyRent.description, package.minimumConsumption.description,
         package.groups.isEmpty ? "-" : package.groups.map(\.text).joined(separator: " "), String(accounts)]
    }
}

struct PackageAdd: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Create a package.")

    @OptionGroup var global: GlobalOptions
    @Argument var name: String
    @Option(help: "Monthly rent, booked once a month.") var rent: String = "0"
    @Option(help: "Minimum monthly consumption: a month's call charges below it are topped up to it once the month ends.") var minimum: String = "0"
    @Option(help: ArgumentHelp(PackageRows.groupHelp)) var group: [String] = []

    func run() throws {
        try runReportingErrors {
            let package = CustomerPackage(name: name, monthlyRent: try parseMoney(rent, option: "--rent"),
                                          minimumConsumption: try parseMoney(minimum, option: "--minimum"),
                                          groups: try PackageRows.parseGroups(group))
            try global.openStore().write { try $0.addPackage(package) }
            print("added package \(name) with \(package.groups.count) destination group\(package.groups.count == 1 ? "" : "s")")
        }
    }
}

struct PackageSet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Change a package; fields not named keep their values.",
        discussion: "A --group whose name the package has replaces that group; a new name adds one. "
            + "Changes apply to the current month at once (usage so far is kept); live calls keep what they were granted.")

    @OptionGroup var global: GlobalOptions
    @Argument var name: String
    @Option(help: "Monthly rent (0 for none).") var rent: String?
    @Option(help: "Minimum monthly consumption (0 for none).") var minimum: String?
    @Option(help: ArgumentHelp(PackageRows.groupHelp)) var group: [String] = []
    @Option(name: .customLong("remove-group"), help: "Remove the destination group of this name (repeatable).") var removeGroup: [String] = []

    func run() throws {
        try runReportingErrors {
            guard rent != nil || minimum != nil || !group.isEmpty || !removeGroup.isEmpty else {
                throw ValidationError("nothing to change: give --rent, --minimum, --group or --remove-group")
            }
            let newRent = try rent.map { try parseMoney($0, option: "--rent") }
            let newMinimum = try minimum.map { try parseMoney($0, option: "--minimum") }
            let groups = try PackageRows.parseGroups(group)
            let package = try global.openStore().write { transaction in
                var package = try transaction.requirePackage(named: name)
                if let newRent { package.monthlyRent = newRent }
                if let newMinimum { package.minimumConsumption = newMinimum }
                for removed in removeGroup {
                    guard package.group(named: removed) != nil else {
                        throw ValidationError("--remove-group \(removed): package '\(name)' has no such group (it has: \(package.groups.map(\.name).joined(separator: ", ")))")
                    }
                    package.groups.removeAll { $0.name == removed }
                }
                for given in groups {
                    if let index = package.groups.firstIndex(where: { $0.name == given.name }) {
                        package.groups[index] = given
                    } else {
                        package.groups.append(given)
                    }
                }
                try transaction.savePackage(package)
                return package
            }
            print("updated package \(name): rent \(package.monthlyRent), minimum \(package.minimumConsumption), "
                  + "\(package.groups.count) destination group\(package.groups.count == 1 ? "" : "s")")
        }
    }
}

struct PackageShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a package and the accounts on it.")

    @OptionGroup var global: GlobalOptions
    @Argument var name: String
    @Flag(help: "Print JSON.") var json = false

    struct View: Encodable {
        let package: CustomerPackage
        let accounts: [String]
    }

    func run() throws {
        try runReportingErrors {
            let view = try global.openStore().read { transaction in
                View(package: try transaction.requirePackage(named: name), accounts: try transaction.accountsUsing(package: name))
            }
            if json { return try printJSON(view) }
            printTable(["FIELD", "VALUE"], [["name", view.package.name], ["monthly rent", view.package.monthlyRent.description],
                                            ["minimum consumption", view.package.minimumConsumption.description],
                                            ["accounts", view.accounts.isEmpty ? "-" : view.accounts.joined(separator: ",")]])
            print("")
            printTable(["GROUP", "FREE-MINUTES", "PREFIXES"], view.package.groups.map {
                [$0.name, String($0.freeMinutes), $0.prefixes.joined(separator: ",")]
            })
        }
    }
}

struct PackageList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List packages.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try runReportingErrors {
            let (packages, accounts) = try global.openStore().read { (try $0.packages(), try $0.accounts()) }
            if json { return try printJSON(packages) }
            printTable(["PACKAGE", "RENT", "MINIMUM", "GROUPS", "ACCOUNTS"], packages.map { package in
                PackageRows.summary(package, accounts: accounts.filter { $0.package == package.name }.count)
            })
        }
    }
}

struct PackageRemove: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Remove a package no account uses (its usage and monthly charges are kept).")

    @OptionGroup var global: GlobalOptions
    @Argument var name: String

    func run() throws {
        try runReportingErrors {
            try global.openStore().write { try $0.removePackage(named: name) }
            print("removed package \(name)")
        }
    }
}

/// `vosctl account charge-monthly`: what the controller does periodically, by hand (e.g. with
/// the controller stopped, or to book a month's rent at once after assigning a package).
struct AccountChargeMonthly: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "charge-monthly", abstract: "Book due package rent and minimum consumption (each once per account and month).",
        discussion: "Rent is booked for the month --at falls in (SS_TIME_ZONE); the minimum consumption of each finished month whose "
            + "rent was booked is settled once. Running it again books nothing new.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "The moment to charge at (ISO 8601 such as 2026-12-01T00:05:00Z, a date, or Unix seconds); default now.") var at: String?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try runReportingErrors {
            let now = try at.map { try CDRFilter.parseTime($0, option: "--at") } ?? Transaction.currentMilliseconds()
            let entries = try global.openStore().write(changesConfiguration: false) { try $0.applyMonthlyCharges(now: now) }
            if json { return try printJSON(entries) }
            guard !entries.isEmpty else { return print("nothing due: every monthly charge up to \(CDRRows.time(now)) is booked") }
            printTable(["ACCOUNT", "KIND", "AMOUNT", "BALANCE-AFTER"], entries.map {
                [$0.account, $0.kind.rawValue, $0.amount.description, $0.balanceAfter.description]
            })
        }
    }
}
