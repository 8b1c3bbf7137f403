/// A customer or vendor account (requirements §1, §4). Prepaid and postpaid differ only in what
/// `limitMoney` means: the overdraft allowed below zero, or the credit line.
public struct Account: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable { case prepaid, postpaid }
    public enum Status: String, Sendable, Codable, CaseIterable { case normal = "Normal", locked = "Locked" }

    public var name: String
    public var kind: Kind
    public var balance: Money = .zero
    /// How far below zero the balance may go; stored positive.
    public var limitMoney: Money = .zero
    public var status: Status = .normal
    /// Prepaid calls are cut when their reserved credit runs out (requirements §4 Decision).
    public var antiOverdraft: Bool = true
    /// Concurrent calls; 0 = unlimited.
    public var concurrentLimit: Int = 0
    public var rateTable: String?
    /// Balance under which an alarm is raised; nil = none.
    public var alarmThreshold: Money?
    /// Export the balance as a Prometheus gauge (`vosctl account set --balance-metric`); nil =
    /// off. Opt-in per account so the metric's label set stays bounded by the operator's choice.
    public var balanceMetric: Bool?
    /// The customer package (`vosctl package`) whose free minutes, rent and minimum consumption
    /// apply to this account; nil = none.
    public var package: String?

    public var exportsBalanceMetric: Bool { balanceMetric ?? false }

    /// Margin protection (issue 16): never route this customer's call to a vendor whose rate for
    /// the number exceeds the customer's own; nil = off.
    public var marginProtection: Bool?

    public var protectsMargin: Bool { marginProtection ?? false }

    public init(name: String, kind: Kind) {
        self.name = name
        self.kind = kind
    }

    /// Credit a new call may use: balance plus the allowed overdraft, less what live calls reserved.
    public func availableCredit(reserved: Money) -> Money {
        balance + limitMoney - reserved
    }

    public func validate() throws(ModelError) {
        try GatewayName.validate(name, field: "account name")
        guard limitMoney >= .zero else {
            throw ModelError.invalid(field: "limit-money", value: limitMoney.description, expected: "zero or a positive amount (the overdraft or credit line)")
        }
        try Limits.validateCount(concurrentLimit, field: "concurrent", maximum: 1_000_000)
        if let rateTable { try GatewayName.validate(rateTable, field: "rate table name") }
        if let package { try GatewayName.validate(package, field: "package name") }
    }
}
