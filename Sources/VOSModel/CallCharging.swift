/// What one finished call costs, the one rule settlement (VOSStore `settleCall`) and re-rating
/// (`vosctl cdr rerate`) both apply, so a re-rate with unchanged rates finds nothing to correct.
public struct CallCharge: Sendable, Hashable {
    /// Seconds the rate's intervals bill, package seconds included.
    public var billedSeconds: Int
    /// Of `billedSeconds`, those a customer package's free minutes paid for.
    public var packageSeconds: Int
    public var cost: Money

    public init(billedSeconds: Int, packageSeconds: Int = 0, cost: Money) {
        self.billedSeconds = billedSeconds
        self.packageSeconds = packageSeconds
        self.cost = cost
    }
}

public enum CallCharging {
    /// The customer's charge for `connectedSeconds` at `rate`. `freeSeconds` are package seconds
    /// the call may use before money; `allowance` (limited prepaid calls) is the most the account
    /// can still pay, and billing stops at the last whole step it covers.
    ///
    /// `connectedSeconds` are whole seconds already (`connectedSeconds(answer:end:policy:)` or a
    /// CDR's `durationSeconds`); the policy's unit precision decides the partial last step. The
    /// free seconds pay the first billed seconds; money pays the rest, connection fee included,
    /// and `packageSeconds` is what the free seconds covered (never more than billed).
    public static func customer(connectedSeconds: Int, rate: RateEntry, policy: ReservationPolicy,
                                freeSeconds: Int = 0, allowance: Money? = nil) -> CallCharge {
        let charged = ReservationCalculator(rate: rate, policy: policy, freeSeconds: freeSeconds)
            .charge(connectedSeconds: connectedSeconds, allowance: allowance)
        return CallCharge(billedSeconds: charged.billedSeconds, packageSeconds: min(charged.billedSeconds, max(0, freeSeconds)),
                          cost: charged.cost)
    }

    /// The vendor bills the real connected time on its own intervals, whatever the customer paid
    /// (the same unit precision applies: it is the switch's billing setting, both sides).
    public static func vendor(connectedSeconds: Int, rate: RateEntry?, policy: ReservationPolicy) -> CallCharge {
        guard let rate else { return CallCharge(billedSeconds: 0, cost: .zero) }
        let billed = rate.billedSeconds(forDuration: connectedSeconds, unitPrecision: policy.unitPrecision)
        return CallCharge(billedSeconds: billed, cost: rate.cost(billedSeconds: billed, fractionDigits: policy.fractionDigits))
    }

    /// The CDR's duration: connected milliseconds from `answer` to `end` in whole seconds, per the
    /// policy's hold-time precision; 0 for an unanswered call.
    public static func connectedSeconds(answer: Int64?, end: Int64, policy: ReservationPolicy) -> Int {
        answer.map { policy.holdTimePrecision.seconds(from: $0, to: end) } ?? 0
    }
}
