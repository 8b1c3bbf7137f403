/// One change of an account's balance: what `vosctl account history` lists and what an operator
/// reconciles against CDRs.
public struct AccountHistoryEntry: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// A customer call was charged.
        case charge
        /// Money added by an operator.
        case topUp = "topup"
        /// A vendor clearing account was debited for a call it carried.
        case vendorCharge = "vendor-charge"
        /// An operator set the balance (`vosctl account set --balance`): the difference.
        case adjustment
        /// A customer package's monthly rent.
        case rent
        /// What a month's charges fell short of the package's minimum consumption.
        case minimumConsumption = "minimum-consumption"
        /// A CDR re-rated after a rate change (`vosctl cdr rerate`): the difference.
        case rerate
        /// A CDR's charge corrected by hand (`vosctl cdr modify`): the difference.
        case cdrModify = "cdr-modify"
    }

    public var id: UInt64
    public var account: String
    /// Epoch milliseconds.
    public var time: Int64
    public var kind: Kind
    /// Signed: negative for charges, positive for top-ups.
    public var amount: Money
    public var balanceAfter: Money
    public var callID: String?
    public var cdrID: UInt64?

    public init(id: UInt64 = 0, account: String, time: Int64, kind: Kind, amount: Money, balanceAfter: Money,
                callID: String? = nil, cdrID: UInt64? = nil) {
        self.id = id
        self.account = account
        self.time = time
        self.kind = kind
        self.amount = amount
        self.balanceAfter = balanceAfter
        self.callID = callID
        self.cdrID = cdrID
    }
}
