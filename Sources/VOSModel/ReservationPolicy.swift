/// The knobs of credit reservation, read once per decision so a parameter change applies to the
/// next authorization or extension without touching calls already granted.
public struct ReservationPolicy: Sendable, Hashable {
    /// `SERVER_BILLING_MONEY_PRECISION`: decimals every charge and reservation is rounded to.
    public var fractionDigits: Int
    /// `SERVER_BILLING_PREVENT_OVERDRAFT_ADVANCE_TIME`: seconds of credit kept back from every grant.
    public var advanceSeconds: Int
    /// Connected seconds one reservation slice covers beyond what is already granted. Small
    /// slices share an account's credit fairly between its concurrent calls; large ones mean fewer
    /// extension round trips. Diameter credit control uses the same trade-off.
    public var quotaSeconds: Int
    /// How long before a slice runs out the controller should ask for the next one.
    public var extensionLeadSeconds: Int
    /// `SERVER_BILLING_HOLD_TIME_PRECISION`: connected milliseconds to whole seconds.
    public var holdTimePrecision: HoldTimePrecision
    /// `SERVER_BILLING_UNIT_PRECISION`: what a partial step after the first interval bills.
    public var unitPrecision: BillingUnitPrecision

    public static let defaultQuotaSeconds = 60
    public static let defaultExtensionLeadSeconds = 15

    public init(fractionDigits: Int = Money.scale, advanceSeconds: Int = 0,
                quotaSeconds: Int = ReservationPolicy.defaultQuotaSeconds,
                extensionLeadSeconds: Int = ReservationPolicy.defaultExtensionLeadSeconds,
                holdTimePrecision: HoldTimePrecision = .up, unitPrecision: BillingUnitPrecision = .whole) {
        self.fractionDigits = max(0, min(Money.scale, fractionDigits))
        self.advanceSeconds = max(0, advanceSeconds)
        self.quotaSeconds = max(1, quotaSeconds)
        self.extensionLeadSeconds = max(0, extensionLeadSeconds)
        self.holdTimePrecision = holdTimePrecision
        self.unitPrecision = unitPrecision
    }

    public init(parameters: ParameterSet, quotaSeconds: Int = ReservationPolicy.defaultQuotaSeconds,
                extensionLeadSeconds: Int = ReservationPolicy.defaultExtensionLeadSeconds) {
        self.init(fractionDigits: parameters.int(.moneyPrecision), advanceSeconds: parameters.int(.overdraftAdvanceTime),
                  quotaSeconds: quotaSeconds, extensionLeadSeconds: extensionLeadSeconds,
                  holdTimePrecision: HoldTimePrecision(rawValue: parameters.int(.holdTimePrecision)) ?? .up,
                  unitPrecision: BillingUnitPrecision(rawValue: parameters.int(.billingUnitPrecision)) ?? .whole)
    }
}

/// `SERVER_BILLING_HOLD_TIME_PRECISION` (raw values are the parameter's): how the connected time
/// of a call, measured in milliseconds, becomes the whole seconds the CDR shows and billing uses.
public enum HoldTimePrecision: Int, Sendable, Hashable, CaseIterable {
    /// Any part of a second counts as a second (1.001 s is 2 s).
    case up = 0
    /// Half a second or more counts as a second (1.499 s is 1 s, 1.500 s is 2 s).
    case nearest = 1
    /// Parts of a second are dropped (1.999 s is 1 s; a call under a second is 0 s and free).
    case down = 2

    public func seconds(milliseconds: Int64) -> Int {
        guard milliseconds > 0 else { return 0 }
        switch self {
        case .up: return Int((milliseconds + 999) / 1000)
        case .nearest: return Int((milliseconds + 500) / 1000)
        case .down: return Int(milliseconds / 1000)
        }
    }

    /// Connected seconds from answer to end (0 when the end is not after the answer).
    public func seconds(from answer: Int64, to end: Int64) -> Int {
        end > answer ? seconds(milliseconds: end - answer) : 0
    }
}

/// `SERVER_BILLING_UNIT_PRECISION` (raw values are the parameter's): what the part of a billing
/// step left over after the first interval and the whole next intervals bills. The first
/// interval is always billed whole for an answered call.
public enum BillingUnitPrecision: Int, Sendable, Hashable, CaseIterable {
    /// A whole step (30/6: 31 s bills 36).
    case whole = 0
    /// A whole step from half a step on, nothing below (30/6: 32 s bills 30, 33 s bills 36).
    case fromHalf = 1
    /// Nothing (30/6: 35 s bills 30).
    case dropped = 2
}
