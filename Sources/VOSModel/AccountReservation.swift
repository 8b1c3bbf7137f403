/// Running totals of an account's live calls, kept beside the calls so admission reads one record.
public struct AccountReservation: Sendable, Hashable, Codable {
    public var reserved: Money
    public var liveCalls: Int

    public init(reserved: Money = .zero, liveCalls: Int = 0) {
        self.reserved = reserved
        self.liveCalls = liveCalls
    }

    public static let none = AccountReservation()
}
