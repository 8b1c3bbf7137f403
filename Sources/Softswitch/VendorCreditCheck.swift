import VOSModel

/// `SERVER_VERIFY_CLEARING_CUSTOMER` (requirements §2): a routing gateway whose vendor clearing
/// account holds less than `SERVER_VERIFY_CLEARING_CUSTOMER_REMAIN_MONEY_LIMIT` is skipped.
/// Built once from a snapshot of the vendor accounts (re-take it after settlements or on a
/// timer), then answering per gateway is a dictionary lookup.
public struct VendorCreditCheck: Sendable {
    public let isEnabled: Bool
    public let remainMoneyLimit: Money
    private let balances: [String: Money]

    public init(parameters: ParameterSet, accounts: [Account]) {
        self.init(isEnabled: parameters.bool(.verifyClearingCustomer),
                  remainMoneyLimit: parameters.money(.verifyClearingCustomerRemainMoneyLimit),
                  balances: Dictionary(accounts.map { ($0.name, $0.balance) }, uniquingKeysWith: { first, _ in first }))
    }

    public init(isEnabled: Bool, remainMoneyLimit: Money, balances: [String: Money]) {
        self.isEnabled = isEnabled
        self.remainMoneyLimit = remainMoneyLimit
        self.balances = balances
    }

    /// Whether `gateway` may carry calls as far as vendor money goes: always when the check is
    /// off or the gateway has no clearing account; otherwise only when that account exists and
    /// holds at least the limit. A clearing account that does not exist fails the check, so a
    /// typo cannot route calls to a vendor nobody is paying.
    public func allows(_ gateway: RoutingGateway) -> Bool {
        allows(clearingAccount: gateway.clearingAccount)
    }

    public func allows(clearingAccount: String?) -> Bool {
        guard isEnabled, let clearingAccount else { return true }
        guard let balance = balances[clearingAccount] else { return false }
        return balance >= remainMoneyLimit
    }
}
