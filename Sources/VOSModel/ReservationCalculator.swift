/// The arithmetic of prepaid credit for one call at one rate, with no storage: how much the
/// advance time keeps back, how many connected seconds a budget buys in whole billing steps, and
/// what a finished call is charged. The store applies these answers to shared account credit.
///
/// Seconds are always "billing-step aligned": the first interval, then first + k x next.
/// `freeSeconds` (a customer package's grant) are the first billed seconds of the call, paid for
/// by the package: every cost here is of the billed seconds beyond them.
public struct ReservationCalculator: Sendable {
    public let rate: RateEntry
    public let policy: ReservationPolicy
    public let freeSeconds: Int

    public init(rate: RateEntry, policy: ReservationPolicy, freeSeconds: Int = 0) {
        self.rate = rate
        self.policy = policy
        self.freeSeconds = max(0, freeSeconds)
    }

    /// A destination with no per-minute price costs the same however long the call lasts, so its
    /// calls need no deadline.
    public var isFlatRate: Bool { rate.pricePerMinute <= .zero }

    /// Money for `billedSeconds`: the connection fee and the per-minute price of the seconds
    /// beyond the free ones; nothing while the free seconds cover the call.
    public func cost(billedSeconds: Int) -> Money {
        rate.cost(billedSeconds: max(0, billedSeconds - freeSeconds), fractionDigits: policy.fractionDigits)
    }

    /// The free seconds pay the whole first interval, so the call needs no money to start.
    public var freeSecondsCoverFirstInterval: Bool { freeSeconds >= rate.firstInterval }

    /// Money the advance time stands for: price x advance seconds / 60, rounded up at the
    /// configured precision so the margin is never smaller than the operator asked for.
    public var advanceMoney: Money {
        let exact = rate.pricePerMinute.units * Int64(policy.advanceSeconds)
        let units = (exact + 59) / 60
        let step = Self.unitStep(fractionDigits: policy.fractionDigits)
        return Money(units: (units + step - 1) / step * step)
    }

    /// Least free credit that admits a call: its first interval plus the advance margin. (A call
    /// whose first interval free seconds pay needs no money at all: `authorizeCall`.)
    public var admissionCost: Money { cost(billedSeconds: rate.firstInterval) + advanceMoney }

    /// Billing-step aligned seconds covering at least `seconds` (and at least the first interval).
    public func alignedSeconds(covering seconds: Int) -> Int {
        rate.billedSeconds(forDuration: max(1, seconds))
    }

    /// Largest aligned number of seconds `s` with `minimum <= s <= maximum` whose cost fits in
    /// `budget`, or nil when not even `minimum` fits. `maximum` must be aligned.
    public func affordableSeconds(budget: Money, minimum: Int, maximum: Int) -> Int? {
        let lowStep = step(of: alignedSeconds(covering: minimum))
        let highStep = step(of: maximum)
        guard lowStep <= highStep, cost(billedSeconds: seconds(atStep: lowStep)) <= budget else { return nil }
        // Cost is monotone in billed seconds, so binary search finds the last step that fits.
        var low = lowStep, high = highStep
        while low < high {
            let middle = low + (high - low + 1) / 2
            if cost(billedSeconds: seconds(atStep: middle)) <= budget { low = middle } else { high = middle - 1 }
        }
        return seconds(atStep: low)
    }

    /// What a call that was connected `connectedSeconds` is charged (billed seconds per the
    /// policy's unit precision, free seconds included). With an `allowance` (the most the account
    /// can still pay for it), billing stops at the last whole step the allowance covers, so the
    /// account never goes past its limit even when a release came late.
    public func charge(connectedSeconds: Int, allowance: Money?) -> (billedSeconds: Int, cost: Money) {
        let billed = rate.billedSeconds(forDuration: connectedSeconds, unitPrecision: policy.unitPrecision)
        let full = cost(billedSeconds: billed)
        guard let allowance, full > allowance, billed > 0 else { return (billed, full) }
        guard let capped = affordableSeconds(budget: allowance, minimum: rate.firstInterval, maximum: billed) else {
            return (0, .zero)
        }
        return (capped, cost(billedSeconds: capped))
    }

    private func step(of alignedSeconds: Int) -> Int {
        alignedSeconds <= rate.firstInterval ? 0 : (alignedSeconds - rate.firstInterval) / rate.nextInterval
    }

    private func seconds(atStep step: Int) -> Int { rate.firstInterval + step * rate.nextInterval }

    private static func unitStep(fractionDigits: Int) -> Int64 {
        var step: Int64 = 1
        for _ in 0..<(Money.scale - max(0, min(Money.scale, fractionDigits))) { step *= 10 }
        return step
    }
}
