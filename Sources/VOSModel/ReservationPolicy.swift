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

    public static let defaultQuotaSeconds = 60
    public static let defaultExtensionLeadSeconds = 15

    public init(fractionDigits: Int = Money.scale, advanceSeconds: Int = 0,
                quotaSeconds: Int = ReservationPolicy.defaultQuotaSeconds,
                extensionLeadSeconds: Int = ReservationPolicy.defaultExtensionLeadSeconds) {
        self.fractionDigits = max(0, min(Money.scale, fractionDigits))
        self.advanceSeconds = max(0, advanceSeconds)
        self.quotaSeconds = max(1, quotaSeconds)
        self.extensionLeadSeconds = max(0, extensionLeadSeconds)
    }

    public init(parameters: ParameterSet, quotaSeconds: Int = ReservationPolicy.defaultQuotaSeconds,
                extensionLeadSeconds: Int = ReservationPolicy.defaultExtensionLeadSeconds) {
        self.init(fractionDigits: parameters.int(.moneyPrecision), advanceSeconds: parameters.int(.overdraftAdvanceTime),
                  quotaSeconds: quotaSeconds, extensionLeadSeconds: extensionLeadSeconds)
    }
}
