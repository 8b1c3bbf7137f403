import VOSModel

/// One account's money as PostgreSQL holds it for the whole cluster: `balance` and
/// `limitMoney` as vosctl and settlement left them, `reserved` the sum of every node's lease.
public struct ClusterBalance: Sendable, Equatable {
    public var balance: Money
    public var limitMoney: Money
    public var reserved: Money

    public init(balance: Money, limitMoney: Money, reserved: Money) {
        self.balance = balance
        self.limitMoney = limitMoney
        self.reserved = reserved
    }

    /// Credit no node has leased yet: what the next lease of any node can draw on.
    public var unleased: Money { balance + limitMoney - reserved }
}
