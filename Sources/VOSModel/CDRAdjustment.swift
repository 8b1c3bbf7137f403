/// A correction of one stored CDR's charges: the audit trail of re-rating (`vosctl cdr rerate`) and
/// of corrections by hand (`vosctl cdr modify`). The CDR row is never rewritten; what a call costs
/// now is its original charge plus its adjustments (`CallDetailRecord.adjusted(by:)`), and every
/// adjustment that moved money names the account whose balance moved, with the matching entry in
/// that account's history (kinds `rerate`, `cdr-modify`).
public struct CDRAdjustment: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// Recomputed from the rate tables as they are now.
        case rerate
        /// Set by an operator.
        case modify

        /// The account history kind its balance change is booked as.
        public var historyKind: AccountHistoryEntry.Kind {
            switch self {
            case .rerate: return .rerate
            case .modify: return .cdrModify
            }
        }
    }

    /// The charge an adjustment corrects: the customer's (revenue) or the vendor's (cost).
    public enum Field: String, Sendable, Hashable, Codable, CaseIterable {
        case customerCost = "customer-cost"
        case vendorCost = "vendor-cost"
    }

    public var cdrID: UInt64
    /// 1, 2, ... per CDR, in the order they were made.
    public var sequence: UInt32
    /// Epoch milliseconds.
    public var time: Int64
    public var kind: Kind
    public var field: Field
    /// The effective charge before this adjustment (the CDR's, or the previous adjustment's).
    public var oldValue: Money
    public var newValue: Money
    /// `newValue - oldValue`: what the charge grew by. The account's balance moved by its negation
    /// (a customer pays more, a clearing account holds less).
    public var difference: Money
    /// The customer's billed seconds before and after, when this adjustment changed them (a
    /// re-rate under a table with other intervals); nil otherwise.
    public var oldBilledSeconds: Int?
    public var newBilledSeconds: Int?
    /// The account whose balance moved: the CDR's customer account, or the clearing account of its
    /// routing gateway. Nil when none could (the account no longer exists): the charge is corrected,
    /// no balance is.
    public var account: String?
    /// The rate it was computed with (`TABLE/PREFIX`), for re-rating.
    public var rate: String?
    public var reason: String
    /// Who made it: `--by`, else the login behind sudo, else the user.
    public var by: String

    public init(cdrID: UInt64, sequence: UInt32, time: Int64, kind: Kind, field: Field, oldValue: Money,
                newValue: Money, oldBilledSeconds: Int? = nil, newBilledSeconds: Int? = nil, account: String?,
                rate: String? = nil, reason: String, by: String) {
        self.cdrID = cdrID
        self.sequence = sequence
        self.time = time
        self.kind = kind
        self.field = field
        self.oldValue = oldValue
        self.newValue = newValue
        self.difference = newValue - oldValue
        self.oldBilledSeconds = oldBilledSeconds
        self.newBilledSeconds = newBilledSeconds
        self.account = account
        self.rate = rate
        self.reason = reason
        self.by = by
    }
}

extension CallDetailRecord {
    /// The record as it is charged now: the original costs plus the adjustments' differences, and
    /// the billed seconds of the last adjustment that changed them. `adjustments` are this CDR's,
    /// in sequence order; others are ignored.
    public func adjusted(by adjustments: [CDRAdjustment]) -> CallDetailRecord {
        guard !adjustments.isEmpty else { return self }
        var record = self
        for adjustment in adjustments where adjustment.cdrID == id {
            switch adjustment.field {
            case .customerCost:
                record.customerCost += adjustment.difference
                if let billed = adjustment.newBilledSeconds { record.billedSeconds = billed }
            case .vendorCost:
                record.vendorCost += adjustment.difference
            }
        }
        return record
    }
}
