import Testing
import VOSTestSupport
import VOSModel

/// `SERVER_BILLING_HOLD_TIME_PRECISION` and `SERVER_BILLING_UNIT_PRECISION`, and free seconds in
/// the charge rule.
@Suite struct BillingPrecisionTests {
    static let thirtySix = RateEntry(prefix: "1", pricePerMinute: Money(whole: 1), firstInterval: 30, nextInterval: 6)

    @Test(arguments: [
        // milliseconds, up, nearest, down
        (0, 0, 0, 0), (1, 1, 0, 0), (499, 1, 0, 0), (500, 1, 1, 0), (999, 1, 1, 0), (1000, 1, 1, 1),
        (1001, 2, 1, 1), (1499, 2, 1, 1), (1500, 2, 2, 1), (61_999, 62, 62, 61), (-5, 0, 0, 0),
    ])
    func holdTimePrecisionModes(_ row: (Int, Int, Int, Int)) {
        let milliseconds = Int64(row.0)
        #expect(HoldTimePrecision.up.seconds(milliseconds: milliseconds) == row.1)
        #expect(HoldTimePrecision.nearest.seconds(milliseconds: milliseconds) == row.2)
        #expect(HoldTimePrecision.down.seconds(milliseconds: milliseconds) == row.3)
    }

    @Test(arguments: [
        // connected seconds, whole, from half, dropped (30/6)
        (0, 0, 0, 0), (1, 30, 30, 30), (30, 30, 30, 30), (31, 36, 30, 30), (32, 36, 30, 30), (33, 36, 36, 30),
        (35, 36, 36, 30), (36, 36, 36, 36), (37, 42, 36, 36), (39, 42, 42, 36), (600, 600, 600, 600),
    ])
    func unitPrecisionModes(_ row: (Int, Int, Int, Int)) {
        let rate = Self.thirtySix
        #expect(rate.billedSeconds(forDuration: row.0, unitPrecision: .whole) == row.1)
        #expect(rate.billedSeconds(forDuration: row.0, unitPrecision: .fromHalf) == row.2)
        #expect(rate.billedSeconds(forDuration: row.0, unitPrecision: .dropped) == row.3)
    }

    @Test func everyUnitPrecisionIsAlignedMonotoneAndAtMostTheWholeRounding() {
        var random = SeededGenerator(seed: 16)
        for _ in 0..<200 {
            let rate = ReservationCalculatorTests.randomRate(&random)
            for precision in BillingUnitPrecision.allCases {
                var previous = 0
                for duration in 0...300 {
                    let billed = rate.billedSeconds(forDuration: duration, unitPrecision: precision)
                    #expect(billed >= previous)
                    #expect(billed <= rate.billedSeconds(forDuration: duration))
                    if duration > 0 {
                        #expect(billed >= rate.firstInterval)
                        #expect((billed - rate.firstInterval) % rate.nextInterval == 0)
                    }
                    previous = billed
                }
            }
        }
    }

    @Test func defaultsAreTodaysRules() throws {
        let policy = ReservationPolicy(parameters: ParameterSet())
        #expect(policy.holdTimePrecision == .up)
        #expect(policy.unitPrecision == .whole)
        var set = ParameterSet()
        try set.set(.holdTimePrecision, to: "2")
        try set.set(.billingUnitPrecision, to: "1")
        let configured = ReservationPolicy(parameters: set)
        #expect(configured.holdTimePrecision == .down)
        #expect(configured.unitPrecision == .fromHalf)
        #expect(throws: ModelError.self) { try set.set(.billingUnitPrecision, to: "3") }
    }

    @Test func settlementSecondsFollowTheHoldTimePrecision() {
        let answer: Int64 = 1_000_000
        for (precision, expected) in [(HoldTimePrecision.up, 31), (.nearest, 31), (.down, 30)] {
            let policy = ReservationPolicy(holdTimePrecision: precision)
            #expect(CallCharging.connectedSeconds(answer: answer, end: answer + 30_600, policy: policy) == expected)
            #expect(CallCharging.connectedSeconds(answer: nil, end: answer + 30_600, policy: policy) == 0)
        }
    }

    @Test func chargeUsesTheUnitPrecisionOnBothSides() {
        let rate = Self.thirtySix
        let policy = ReservationPolicy(unitPrecision: .dropped)
        let customer = CallCharging.customer(connectedSeconds: 35, rate: rate, policy: policy)
        #expect(customer.billedSeconds == 30)
        #expect(customer.cost == Money(units: 5000))
        #expect(CallCharging.vendor(connectedSeconds: 35, rate: rate, policy: policy).billedSeconds == 30)
        let whole = CallCharging.customer(connectedSeconds: 35, rate: rate, policy: ReservationPolicy())
        #expect(whole.billedSeconds == 36)
        #expect(whole.cost == Money(units: 6000))
    }

    @Test func freeSecondsPayTheFirstBilledSeconds() {
        // 60/60 at 1.0000 a minute plus 0.0500 to connect.
        let rate = RateEntry(prefix: "1", pricePerMinute: Money(whole: 1), firstInterval: 60, nextInterval: 60,
                             connectionFee: Money(units: 500))
        let policy = ReservationPolicy()
        let inside = CallCharging.customer(connectedSeconds: 50, rate: rate, policy: policy, freeSeconds: 100)
        #expect(inside == CallCharge(billedSeconds: 60, packageSeconds: 60, cost: .zero))
        // 61 s bills 120: 100 free, 20 paid (0.3333) plus the connection fee.
        let spill = CallCharging.customer(connectedSeconds: 61, rate: rate, policy: policy, freeSeconds: 100)
        #expect(spill == CallCharge(billedSeconds: 120, packageSeconds: 100, cost: Money(units: 3333 + 500)))
        let none = CallCharging.customer(connectedSeconds: 0, rate: rate, policy: policy, freeSeconds: 100)
        #expect(none == CallCharge(billedSeconds: 0, packageSeconds: 0, cost: .zero))
        // Re-rating with the CDR's package seconds finds the same charge.
        let again = CallCharging.customer(connectedSeconds: 61, rate: rate, policy: policy, freeSeconds: spill.packageSeconds)
        #expect(again == spill)
    }

    @Test func freeSecondsStretchTheAffordableDeadline() throws {
        let rate = RateEntry(prefix: "1", pricePerMinute: Money(whole: 1), firstInterval: 6, nextInterval: 6)
        let withFree = ReservationCalculator(rate: rate, policy: ReservationPolicy(), freeSeconds: 60)
        #expect(withFree.freeSecondsCoverFirstInterval)
        // No money: exactly the free seconds. 0.5000: five more steps of 0.1000.
        #expect(try #require(withFree.affordableSeconds(budget: .zero, minimum: 6, maximum: 600)) == 60)
        #expect(try #require(withFree.affordableSeconds(budget: Money(units: 5000), minimum: 6, maximum: 600)) == 90)
        // Free seconds that do not end on a step: the last whole step they pay.
        let partial = ReservationCalculator(rate: rate, policy: ReservationPolicy(), freeSeconds: 20)
        #expect(try #require(partial.affordableSeconds(budget: .zero, minimum: 6, maximum: 600)) == 18)
        let charged = partial.charge(connectedSeconds: 40, allowance: .zero)
        #expect(charged.billedSeconds == 18)
        #expect(charged.cost == .zero)
    }
}
