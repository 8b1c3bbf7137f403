import VOSModel

/// Customer packages (`packages`, configuration written by vosctl) and each account's monthly use
/// of their free minutes (`package_usage`, key `ACCOUNT NUL YYYY-MM NUL GROUP`, value
/// `PackageUsage`: seconds used by settled calls and seconds held by live ones). The held seconds
/// play the part `account_reservations` plays for money: grants come out of what no other call
/// holds, and settlement turns a call's grant into usage in the transaction that charges it.
extension Transaction {
    public func packages() throws -> [CustomerPackage] {
        try records(CustomerPackage.self, in: .packages)
    }

    public func package(named name: String) throws -> CustomerPackage? {
        try record(CustomerPackage.self, in: .packages, key: name)
    }

    public func requirePackage(named name: String) throws -> CustomerPackage {
        guard let package = try package(named: name) else { throw StoreError.notFound(kind: "package", name: name) }
        return package
    }

    public func addPackage(_ package: CustomerPackage) throws {
        guard try self.package(named: package.name) == nil else { throw StoreError.duplicate(kind: "package", name: package.name) }
        try savePackage(package)
    }

    /// Inserts or replaces a package after validating it. Changing free minutes applies to the
    /// current month at once (usage so far is kept); live calls keep what they were granted.
    public func savePackage(_ package: CustomerPackage) throws {
        do { try package.validate() } catch { throw StoreError.invalid(error) }
        try putRecord(package, in: .packages, key: package.name)
    }

    /// Deletes a package no account uses. Usage rows and monthly charges stay: they are the record
    /// of what was billed.
    public func removePackage(named name: String) throws {
        _ = try requirePackage(named: name)
        let users = try accountsUsing(package: name)
        guard users.isEmpty else {
            throw StoreError.conflict("package '\(name)' is used by account\(users.count == 1 ? "" : "s") \(users.map { "'\($0)'" }.joined(separator: ", ")): "
                + "move them off it first (`vosctl account set NAME --no-package`)")
        }
        _ = try delete(.packages, Array(name.utf8))
    }

    public func accountsUsing(package name: String) throws -> [String] {
        try accounts().filter { $0.package == name }.map(\.name)
    }

    /// Puts `account` on `package` (nil: none), refusing a package that does not exist. Live calls
    /// keep their grants; the next call and the next monthly charges use the new package.
    @discardableResult
    public func setAccountPackage(_ account: String, to package: String?) throws -> Account {
        var stored = try requireAccount(named: account)
        if let package { _ = try requirePackage(named: package) }
        stored.package = package
        try saveAccount(stored)
        return stored
    }

    static func packageUsageKey(account: String, period: String, group: String) -> [UInt8] {
        Array(account.utf8) + [0] + Array(period.utf8) + [0] + Array(group.utf8)
    }

    /// One account's usage in `period` (`YYYY-MM`), by destination group.
    public func packageUsage(account: String, period: String) throws -> [String: PackageUsage] {
        let start = Array(account.utf8) + [0] + Array(period.utf8) + [0]
        var result: [String: PackageUsage] = [:]
        try scan(.packageUsage, from: start) { key, value in
            guard key.starts(with: start) else { return false }
            let group = String(decoding: key[start.count...], as: UTF8.self)
            result[group] = try Transaction.decode(PackageUsage.self, from: value, table: .packageUsage, key: "\(account)/\(period)/\(group)")
            return true
        }
        return result
    }

    public func packageUsage(account: String, period: String, group: String) throws -> PackageUsage {
        let key = Transaction.packageUsageKey(account: account, period: period, group: group)
        guard let bytes = try get(.packageUsage, key) else { return PackageUsage() }
        return try Transaction.decode(PackageUsage.self, from: bytes, table: .packageUsage, key: "\(account)/\(period)/\(group)")
    }

    func savePackageUsage(_ usage: PackageUsage, account: String, period: String, group: String) throws {
        guard usage.usedSeconds >= 0, usage.heldSeconds >= 0 else {
            throw StoreError.conflict("package usage of account '\(account)' in \(period), group '\(group)', would be negative "
                + "(used \(usage.usedSeconds) s, held \(usage.heldSeconds) s): the grant totals are inconsistent")
        }
        let key = Transaction.packageUsageKey(account: account, period: period, group: group)
        try put(.packageUsage, key, Transaction.encode(usage, table: .packageUsage, key: "\(account)/\(period)/\(group)"))
    }

    /// The package group `callee` draws on for `account`, when its package has one: the package,
    /// the group and the seconds of it nobody has used or holds in `period`.
    func packageOffer(for account: Account, callee: String, period: () throws -> String)
        throws -> (grant: PackageGrant, available: Int)? {
        guard let name = account.package, let package = try package(named: name), let group = package.group(for: callee) else {
            return nil
        }
        let period = try period()
        let usage = try packageUsage(account: account.name, period: period, group: group.name)
        return (PackageGrant(package: name, group: group.name, period: period, seconds: 0), usage.available(of: group.freeSeconds))
    }

    /// Seconds of `grant`'s group (in its period) nobody has used or holds, while the account is
    /// still on that package and the group still exists; 0 otherwise.
    func packageSecondsAvailable(to account: Account, in grant: PackageGrant) throws -> Int {
        guard account.package == grant.package, let package = try package(named: grant.package),
              let group = package.group(named: grant.group) else { return 0 }
        return try packageUsage(account: account.name, period: grant.period, group: grant.group).available(of: group.freeSeconds)
    }

    /// Moves the held seconds of `grant` by `delta` (a new or larger grant: positive; a release:
    /// negative). A release never takes the total below zero: held seconds are not money, and a
    /// call must stay settleable even if its usage row was lost (e.g. cleared by hand).
    func holdPackageSeconds(_ delta: Int, of grant: PackageGrant, account: String) throws {
        guard delta != 0 else { return }
        var usage = try packageUsage(account: account, period: grant.period, group: grant.group)
        usage.heldSeconds = max(0, usage.heldSeconds + delta)
        try savePackageUsage(usage, account: account, period: grant.period, group: grant.group)
    }
}
