import Testing
import VOSTestSupport
import VOSModel

/// Property tests over random rates and durations, replayable from a fixed seed.
@Suite struct ReservationCalculatorTests {

    static func randomRate(_ random: inout SeededGenerator) -> RateEntry {
        let intervals = [1, 6, 30, 60]
        return RateEntry(prefix: "1", pricePerMinute: Money(units: Int64.random(in: 0...200_000, using: &random)),
                         firstInterval: intervals.randomElement(using: &random) ?? 60,
                         nextInterval: intervals.randomElement(using: &random) ?? 60,
                         connectionFee: Money(units: Int64.random(in: 0...5_000, using: &random)))
    }

    @Test func billedSecondsCoverTheCallAndGrowWithIt() {
        var random = SeededGenerator(seed: 1)
        for _ in 0..<300 {
            let rate = Self.randomRate(&random)
            var previous = 0
            for duration in 0...400 {
                let billed = rate.billedSeconds(forDuration: duration)
                #expect(billed >= duration)
                #expect(billed >= previous)
                if duration > 0 {
                    #expect(billed >= rate.firstInterval)
                    #expect((billed - rate.firstInterval) % rate.nextInterval == 0)
                    // Never a whole step more than needed.
                    #expect(billed - duration < max(rate.firstInterval, rate.nextInterval))
                }
                previous = billed
            }
        }
    }

    @Test func costGrowsWithBilledSecondsAtEveryPrecision() {
        var random = SeededGenerator(seed: 2)
        for _ in 0..<300 {
            let rate = Self.randomRate(&random)
            for digits in 0...Money.scale {
                var previous = Money.zero
                for seconds in stride(from: 0, through: 3600, by: 7) {
                    let cost = rate.cost(billedSeconds: seconds, fractionDigits: digits)
                    #expect(cost >= previous)
                    #expect(cost == cost.rounded(toFractionDigits: digits))
                    previous = cost
                }
            }
        }
    }

    @Test func affordableSecondsIsTheLastStepThatFits() {
        var random = SeededGenerator(seed: 3)
        for _ in 0..<500 {
            let rate = Self.randomRate(&random)
            let policy = ReservationPolicy(fractionDigits: Int.random(in: 0...4, using: &random))
            let calculator = ReservationCalculator(rate: rate, policy: policy)
            let budget = Money(units: Int64.random(in: 0...500_000, using: &random))
            let maximum = calculator.alignedSeconds(covering: Int.random(in: 1...3000, using: &random))
            guard let seconds = calculator.affordableSeconds(budget: budget, minimum: rate.firstInterval, maximum: maximum) else {
                #expect(calculator.cost(billedSeconds: rate.firstInterval) > budget)
                continue
            }
            #expect(seconds <= maximum)
            #expect(seconds == calculator.alignedSeconds(covering: seconds))
            #expect(calculator.cost(billedSeconds: seconds) <= budget)
            if seconds < maximum {
                #expect(calculator.cost(billedSeconds: seconds + rate.nextInterval) > budget)
            }
        }
    }

    @Test func aChargeNeverExceedsItsAllowance() {
        var random = SeededGenerator(seed: 4)
        for _ in 0..<500 {
            let rate = Self.randomRate(&random)
            let calculator = ReservationCalculator(rate: rate, policy: ReservationPolicy(fractionDigits: Int.random(in: 0...4, using: &random)))
            let duration = Int.random(in: 0...3000, using: &random)
            let allowance = Money(units: Int64.random(in: 0...200_000, using: &random))
            let charge = calculator.charge(connectedSeconds: duration, allowance: allowance)
            #expect(charge.cost <= allowance)
            #expect(charge.billedSeconds <= rate.billedSeconds(forDuration: duration))
            let unlimited = calculator.charge(connectedSeconds: duration, allowance: nil)
            #expect(unlimited.billedSeconds == rate.billedSeconds(forDuration: duration))
            #expect(charge.cost <= unlimited.cost)
        }
    }

    @Test func theAdvanceMarginIsRoundedUpAtThePrecision() {
        let rate = RateEntry(prefix: "1", pricePerMinute: Money(units: 10_001), firstInterval: 6, nextInterval: 6)
        #expect(ReservationCalculator(rate: rate, policy: ReservationPolicy(advanceSeconds: 60)).advanceMoney == Money(units: 10_001))
        #expect(ReservationCalculator(rate: rate, policy: ReservationPolicy(advanceSeconds: 1)).advanceMoney == Money(units: 167))
        #expect(ReservationCalculator(rate: rate, policy: ReservationPolicy(fractionDigits: 2, advanceSeconds: 60)).advanceMoney == Money(units: 10_100))
        #expect(ReservationCalculator(rate: rate, policy: ReservationPolicy(advanceSeconds: 0)).advanceMoney == .zero)
        let policy = ReservationPolicy(advanceSeconds: 30)
        #expect(ReservationCalculator(rate: rate, policy: policy).admissionCost == Money(units: 1_000 + 5_001))
    }

    @Test func policyReadsTheBillingParameters() throws {
        var parameters = ParameterSet()
        try parameters.set(.moneyPrecision, to: "2")
        try parameters.set(.overdraftAdvanceTime, to: "120")
        let policy = ReservationPolicy(parameters: parameters)
        #expect(policy.fractionDigits == 2)
        #expect(policy.advanceSeconds == 120)
        #expect(policy.quotaSeconds == ReservationPolicy.defaultQuotaSeconds)
    }

    @Test func refusalsMapToEndReasonsAndCodes() {
        let expected: [(CallRefusal.Cause, EndReason, Int)] = [
            (.accountLocked, .accountLocked, 403), (.unknownAccount, .accountLocked, 403),
            (.noRate, .accountBalanceNotEnough, 403), (.insufficientCredit, .accountBalanceNotEnough, 403),
            (.concurrentLimit, .rateLimited, 503),
        ]
        for (cause, reason, code) in expected {
            let refusal = CallRefusal(cause: cause, detail: "x")
            #expect(refusal.endReason == reason)
            #expect(refusal.sipCode == code)
        }
    }
}
