/// A customer package (docs/BILLING.md "Packages"): monthly rent, minimum monthly consumption and
/// free minutes per destination group per month. Pure data and its validation; the store grants
/// free seconds to calls and books the monthly charges.
public struct CustomerPackage: Sendable, Hashable, Codable {
    /// Callees starting with one of `prefixes` draw on `freeMinutes` a month.
    public struct DestinationGroup: Sendable, Hashable, Codable {
        public var name: String
        public var prefixes: [String]
        public var freeMinutes: Int

        public init(name: String, prefixes: [String], freeMinutes: Int) {
            self.name = name
            self.prefixes = prefixes
            self.freeMinutes = freeMinutes
        }

        public var freeSeconds: Int { freeMinutes * 60 }

        /// `NAME=PREFIX[,PREFIX...]:MINUTES`, as `vosctl package add --group` takes it
        /// (`mobile=8613,8615:300`). Only the shape is checked here; `CustomerPackage.validate`
        /// judges the values (negative minutes, bad prefixes), naming the group.
        public init(parsing text: String, field: String = "--group") throws(ModelError) {
            let expected = "NAME=PREFIX[,PREFIX...]:MINUTES such as mobile=8613,8615:300"
            let trimmed = text.trimmingSpaces
            guard let equals = trimmed.firstIndex(of: "="), let colon = trimmed.lastIndex(of: ":"), equals < colon else {
                throw ModelError.invalid(field: field, value: text, expected: expected)
            }
            let name = String(trimmed[..<equals]).trimmingSpaces
            let prefixes = trimmed[trimmed.index(after: equals)..<colon].split(separator: ",").map { String($0).trimmingSpaces }
            let minutesText = String(trimmed[trimmed.index(after: colon)...]).trimmingSpaces
            guard !name.isEmpty else { throw ModelError.invalid(field: field, value: text, expected: expected + " (the name is missing)") }
            guard let minutes = Int(minutesText) else {
                throw ModelError.invalid(field: "free minutes of group '\(name)'", value: minutesText, expected: "a whole number of minutes a month")
            }
            self.init(name: name, prefixes: prefixes.filter { !$0.isEmpty }, freeMinutes: minutes)
        }

        /// The form `init(parsing:)` reads.
        public var text: String { "\(name)=\(prefixes.joined(separator: ",")):\(freeMinutes)" }
    }

    public var name: String
    /// Booked once per calendar month (history kind `rent`).
    public var monthlyRent: Money
    /// A finished month whose customer charges were lower is charged the difference
    /// (history kind `minimum-consumption`).
    public var minimumConsumption: Money
    public var groups: [DestinationGroup]

    /// Free minutes a month, at most: 100 million minutes is ~190 years, far beyond any real
    /// offer, and keeps seconds arithmetic far from overflow.
    public static let maximumFreeMinutes = 100_000_000

    public init(name: String, monthlyRent: Money = .zero, minimumConsumption: Money = .zero, groups: [DestinationGroup] = []) {
        self.name = name
        self.monthlyRent = monthlyRent
        self.minimumConsumption = minimumConsumption
        self.groups = groups
    }

    public func validate() throws(ModelError) {
        try GatewayName.validate(name, field: "package name")
        guard monthlyRent >= .zero else {
            throw ModelError.invalid(field: "monthly rent", value: monthlyRent.description, expected: "zero or a positive amount")
        }
        guard minimumConsumption >= .zero else {
            throw ModelError.invalid(field: "minimum consumption", value: minimumConsumption.description, expected: "zero or a positive amount")
        }
        var groupNames = Set<String>()
        var owners: [String: String] = [:]
        for group in groups {
            try GatewayName.validate(group.name, field: "destination group name")
            guard groupNames.insert(group.name).inserted else {
                throw ModelError.inconsistent("destination group '\(group.name)' appears twice in package '\(name)'")
            }
            guard (0...CustomerPackage.maximumFreeMinutes).contains(group.freeMinutes) else {
                throw ModelError.outOfRange(field: "free minutes of group '\(group.name)'", value: String(group.freeMinutes),
                                            range: "0-\(CustomerPackage.maximumFreeMinutes) minutes a month")
            }
            guard !group.prefixes.isEmpty else { throw ModelError.missing(field: "prefixes of group '\(group.name)'") }
            for prefix in group.prefixes {
                try NumberPrefix.validate(prefix, field: "prefix of group '\(group.name)'")
                if let owner = owners.updateValue(group.name, forKey: prefix) {
                    // Longest prefix decides between groups; the same prefix twice cannot be decided.
                    throw ModelError.inconsistent(owner == group.name
                        ? "prefix \(prefix) appears twice in group '\(group.name)'"
                        : "prefix \(prefix) is in both group '\(owner)' and group '\(group.name)'")
                }
            }
        }
    }

    /// The group whose longest prefix matches `callee`, if any.
    public func group(for callee: String) -> DestinationGroup? {
        var best: DestinationGroup?
        var bestLength = 0
        for group in groups {
            for prefix in group.prefixes where prefix.count > bestLength && callee.hasPrefix(prefix) {
                best = group
                bestLength = prefix.count
            }
        }
        return best
    }

    public func group(named name: String) -> DestinationGroup? {
        groups.first { $0.name == name }
    }
}

/// Free seconds of a package a live call holds: settlement charges money only for billed seconds
/// beyond them, and the package's usage in `period` grows by what the call used.
public struct PackageGrant: Sendable, Hashable, Codable {
    public var package: String
    public var group: String
    /// `YYYY-MM` in `SS_TIME_ZONE`: the month the call started in, whose free minutes it uses.
    public var period: String
    /// Held for this call, so the account's other calls cannot be granted them too.
    public var seconds: Int

    public init(package: String, group: String, period: String, seconds: Int) {
        self.package = package
        self.group = group
        self.period = period
        self.seconds = seconds
    }
}

/// One account's use of one destination group's free minutes in one month.
public struct PackageUsage: Sendable, Hashable, Codable {
    /// Billed seconds settled calls took from the free minutes.
    public var usedSeconds: Int
    /// Seconds granted to live calls and not yet settled (released when they settle).
    public var heldSeconds: Int

    public init(usedSeconds: Int = 0, heldSeconds: Int = 0) {
        self.usedSeconds = usedSeconds
        self.heldSeconds = heldSeconds
    }

    /// What a new grant may still take from `freeSeconds`.
    public func available(of freeSeconds: Int) -> Int {
        max(0, freeSeconds - usedSeconds - heldSeconds)
    }
}
