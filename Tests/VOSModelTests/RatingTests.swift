import Testing
import VOSTestSupport
@testable import VOSModel

@Suite struct RatingTests {
    func entry(_ first: Int, _ next: Int, price: String = "0.6", fee: String = "0") throws -> RateEntry {
        RateEntry(prefix: "44", pricePerMinute: try Money(parsing: price), firstInterval: first, nextInterval: next,
                  connectionFee: try Money(parsing: fee))
    }

    @Test func billedSecondsFollowFirstThenNextIntervals() throws {
        let sixtySixty = try entry(60, 60)
        #expect(sixtySixty.billedSeconds(forDuration: 0) == 0)
        #expect(sixtySixty.billedSeconds(forDuration: 1) == 60)
        #expect(sixtySixty.billedSeconds(forDuration: 61) == 120)
        let thirtySix = try entry(30, 6)
        #expect(thirtySix.billedSeconds(forDuration: 29) == 30)
        #expect(thirtySix.billedSeconds(forDuration: 31) == 36)
        #expect(thirtySix.billedSeconds(forDuration: 36) == 36)
        #expect(try entry(1, 1).billedSeconds(forDuration: 47) == 47)
    }

    @Test func costIsFeePlusPricePerMinute() throws {
        let rate = try entry(30, 6, price: "0.60", fee: "0.05")
        #expect(rate.cost(billedSeconds: 36).description == "0.4100")
        #expect(rate.cost(billedSeconds: 0) == .zero, "unanswered calls cost nothing")
        #expect(try entry(1, 1, price: "0.0007").cost(billedSeconds: 1, fractionDigits: 4).description == "0.0000")
        #expect(try entry(1, 1, price: "0.0007").cost(billedSeconds: 1, fractionDigits: 2).description == "0.0000")
        #expect(try entry(1, 1, price: "0.01").cost(billedSeconds: 30, fractionDigits: 2).description == "0.0100")
    }

    /// Property: for every interval pair and duration, billing never undercharges time and is
    /// monotone in duration; cost is monotone too.
    @Test func billingPropertiesHoldOverAGrid() throws {
        var generator = SeededGenerator(seed: 0x5eed)
        for _ in 0..<300 {
            let first = Int(generator.next() % 120) + 1
            let next = Int(generator.next() % 60) + 1
            let rate = try entry(first, next, price: "0.\(generator.next() % 10000)")
            var previousBilled = 0
            var previousCost = Money.zero
            for duration in 0...400 {
                let billed = rate.billedSeconds(forDuration: duration)
                #expect(billed >= duration)
                #expect(billed >= previousBilled)
                let cost = rate.cost(billedSeconds: billed)
                #expect(cost >= previousCost)
                previousBilled = billed
                previousCost = cost
            }
        }
    }

    @Test func maximumDurationFitsTheCredit() throws {
        let rate = try entry(60, 6, price: "1.0")
        #expect(rate.maximumDuration(for: try Money(parsing: "0.5")) == 0)
        let seconds = rate.maximumDuration(for: try Money(parsing: "2.05"))
        #expect(seconds == 120)
        #expect(rate.cost(billedSeconds: seconds) <= (try Money(parsing: "2.05")))
        #expect(rate.cost(billedSeconds: seconds + 6) > (try Money(parsing: "2.05")))
    }

    @Test func longestPrefixWins() {
        let table = RateTable(name: "retail", entries: [
            RateEntry(prefix: "44", pricePerMinute: Money(units: 100)),
            RateEntry(prefix: "447", pricePerMinute: Money(units: 900)),
            RateEntry(prefix: "4477", pricePerMinute: Money(units: 1200)),
        ])
        #expect(table.lookup("447700900123")?.prefix == "4477")
        #expect(table.lookup("447100900123")?.prefix == "447")
        #expect(table.lookup("441632960000")?.prefix == "44")
        #expect(table.lookup("33123") == nil)
    }

    @Test func csvImportNamesTheBadLine() throws {
        let good = """
        prefix,price_per_minute,first_interval,next_interval,connection_fee,description
        # UK
        44,0.0120,60,60,0,"UK, fixed"
        447,0.0500,30,6
        """
        let entries = try RateCSV.parse(good)
        #expect(entries.count == 2)
        #expect(entries[0].description == "UK, fixed")
        #expect(entries[1].nextInterval == 6)
        #expect(throws: RateCSV.LineError.self) { try RateCSV.parse("44,0.01,60,60\n45,abc,60,60\n") }
        do { _ = try RateCSV.parse("44,0.01,60,60\n45,abc,60,60\n") } catch { #expect(error.line == 2) }
        do { _ = try RateCSV.parse("44,0.01,60,60\n44,0.02,60,60\n") } catch { #expect(error.line == 2 && error.message.contains("already defined on line 1")) }
        do { _ = try RateCSV.parse("44,0.01,0,60\n") } catch { #expect(error.message.contains("first interval")) }
        do { _ = try RateCSV.parse("44,0.01\n") } catch { #expect(error.message.contains("expected 4 to 6 fields")) }
    }
}

