import Testing
import VOSModel
import VOSTestSupport
@testable import Softswitch

/// The planner as it was before the index (issue 16), kept verbatim as the oracle.
private func legacyCandidates(for callee: String, among gateways: [RoutingGateway],
                              status: (String) -> GatewayStatus) -> [(name: String, prefix: String)] {
    var matched: [(candidate: RouteCandidate, load: Double)] = []
    for gateway in gateways where gateway.enabled {
        guard let prefix = gateway.prefixes.filter({ callee.hasPrefix($0) }).max(by: { $0.count < $1.count }) else { continue }
        guard case let .number(calleeOut) = gateway.calleeRewrite.apply(to: callee) else { continue }
        let active = status(gateway.name).activeCalls
        let load = gateway.lineLimit > 0 ? Double(active) / Double(gateway.lineLimit) : Double(active) / 1_000_000
        matched.append((RouteCandidate(gateway: gateway, matchedPrefix: prefix, calleeOut: calleeOut), load))
    }
    matched.sort { lhs, rhs in
        if lhs.candidate.matchedPrefix.count != rhs.candidate.matchedPrefix.count {
            return lhs.candidate.matchedPrefix.count > rhs.candidate.matchedPrefix.count
        }
        if lhs.candidate.gateway.priority != rhs.candidate.gateway.priority {
            return lhs.candidate.gateway.priority < rhs.candidate.gateway.priority
        }
        if lhs.load != rhs.load { return lhs.load < rhs.load }
        return lhs.candidate.gateway.name < rhs.candidate.gateway.name
    }
    return matched.map { ($0.candidate.gateway.name, $0.candidate.matchedPrefix) }
}

@Suite struct RouteIndexTests {
    /// Random gateway sets over a small alphabet (so prefixes nest and repeat), with +*#,
    /// disabled gateways, dial-plan denials, repeated prefixes and the odd prefix no validation
    /// lets through (empty, with a letter, longer than 32): the index gives the oracle's order.
    @Test func indexEqualsTheLinearPlannerOnRandomGatewaySets() {
        var random = SeededGenerator(seed: 0x16_2026)
        let alphabet = Array("0123+*#")
        func text(_ length: Int) -> String { String((0..<length).map { _ in alphabet.randomElement(using: &random) ?? "0" }) }
        var compared = 0
        for round in 0..<200 {
            var gateways: [RoutingGateway] = []
            for number in 0..<Int.random(in: 0...40, using: &random) {
                var prefixes = (0..<Int.random(in: 1...6, using: &random)).map { _ in text(Int.random(in: 1...5, using: &random)) }
                if Int.random(in: 0..<20, using: &random) == 0 { prefixes.append(["", "1a", String(repeating: "1", count: 33)].randomElement(using: &random) ?? "") }
                if Int.random(in: 0..<8, using: &random) == 0, let first = prefixes.first { prefixes.append(first) }
                var gateway = vendor("g\(number % 7)-\(number)", prefixes, priority: Int.random(in: 1...3, using: &random),
                                     lineLimit: Int.random(in: 0...2, using: &random) * 5)
                gateway.enabled = Int.random(in: 0..<10, using: &random) != 0
                if Int.random(in: 0..<10, using: &random) == 0 { gateway.calleeRewrite = DialPlan(rules: [.deny(text(1))]) }
                gateways.append(gateway)
            }
            let active = Dictionary(uniqueKeysWithValues: gateways.map { ($0.name, Int.random(in: 0...5, using: &random)) })
            let status: (String) -> GatewayStatus = { GatewayStatus(activeCalls: active[$0] ?? 0) }
            let index = RouteIndex(gateways: gateways)
            for _ in 0..<40 {
                let callee = text(Int.random(in: 0...8, using: &random)) + (Int.random(in: 0..<10, using: &random) == 0 ? "a1" : "")
                let expected = legacyCandidates(for: callee, among: gateways, status: status)
                let indexed = RoutePlanner.plan(for: callee, index: index, options: RouteOptions(), status: status,
                                                quality: { _ in nil }, isScheduled: { _ in true }).candidates
                #expect(indexed.map(\.gateway.name) == expected.map(\.name), "round \(round) callee \(callee)")
                #expect(indexed.map(\.matchedPrefix) == expected.map(\.prefix), "round \(round) callee \(callee)")
                let linear = RoutePlanner.candidates(for: callee, among: gateways, status: status)
                #expect(linear.map(\.gateway.name) == expected.map(\.name))
                // Every other mode routes to the same gateways, prefix length aside.
                let lcr = RoutePlanner.plan(for: callee, index: index, options: RouteOptions(systemSort: .lcr), status: status,
                                            quality: { _ in nil }, isScheduled: { _ in true }).candidates
                #expect(Set(lcr.map(\.gateway.name)) == Set(expected.map(\.name)))
                compared += expected.count
            }
        }
        #expect(compared > 10_000, "the random sets must route calls")
    }

    /// Prices the index holds per node (and the longer prefixes it probes for) equal a plain
    /// lookup of the number each vendor is sent, with nested routing prefixes, rate prefixes
    /// longer and shorter than them, shared tables and dial plans that change the number.
    @Test func precomputedPricesEqualALookupOfTheNumberSent() {
        var random = SeededGenerator(seed: 0x1C_0057)
        let alphabet = Array("0123#")
        func text(_ length: Int) -> String { String((0..<length).map { _ in alphabet.randomElement(using: &random) ?? "0" }) }
        var priced = 0
        for round in 0..<150 {
            let decks = (0..<4).map { _ in
                RateIndex(entries: (0..<Int.random(in: 0...30, using: &random)).map { _ in
                    RateEntry(prefix: text(Int.random(in: 1...6, using: &random)), pricePerMinute: Money(units: Int64.random(in: 1...999, using: &random)))
                })
            }
            var deckOf: [String: Int] = [:]
            var gateways: [RoutingGateway] = []
            for number in 0..<Int.random(in: 1...15, using: &random) {
                var gateway = vendor("p\(number)", (0..<Int.random(in: 1...4, using: &random)).map { _ in text(Int.random(in: 1...4, using: &random)) })
                if Int.random(in: 0..<5, using: &random) == 0 { gateway.calleeRewrite = DialPlan(rules: [.replace(text(1), with: text(2))]) }
                if Int.random(in: 0..<6, using: &random) != 0 { deckOf[gateway.name] = Int.random(in: 0..<decks.count, using: &random) }
                gateways.append(gateway)
            }
            let index = RouteIndex(gateways: gateways, vendorRates: { gateway in deckOf[gateway.name].map { decks[$0] } })
            for _ in 0..<30 {
                let callee = text(Int.random(in: 1...9, using: &random))
                let plan = RoutePlanner.plan(for: callee, index: index, options: RouteOptions(systemSort: .lcr), status: { _ in GatewayStatus() },
                                             quality: { _ in nil }, isScheduled: { _ in true })
                for candidate in plan.candidates {
                    let expected = deckOf[candidate.gateway.name].flatMap { decks[$0].lookup(candidate.calleeOut)?.pricePerMinute }
                    #expect(candidate.price == expected, "round \(round) callee \(callee) gateway \(candidate.gateway.name)")
                    if expected != nil { priced += 1 }
                }
                let prices = plan.candidates.map { $0.price.map(\.units) ?? .max }
                #expect(prices == prices.sorted(), "lcr order, round \(round)")
            }
        }
        #expect(priced > 1000)
    }

    @Test func nestedPrefixesGiveEachGatewayItsLongestMatch() throws {
        let gateways = [vendor("short", ["4"]), vendor("both", ["44", "4478"]), vendor("deep", ["4478"]), vendor("plus", ["+44", "+4"]),
                        vendor("star", ["*7", "*"]), vendor("hash", ["#"])]
        let index = RouteIndex(gateways: gateways)
        func matches(_ callee: String) -> [String] {
            RoutePlanner.plan(for: callee, index: index, options: RouteOptions(), status: { _ in GatewayStatus() },
                              quality: { _ in nil }, isScheduled: { _ in true }).candidates.map { "\($0.gateway.name):\($0.matchedPrefix)" }
        }
        #expect(matches("447800") == ["both:4478", "deep:4478", "short:4"])
        #expect(matches("4479") == ["both:44", "short:4"])
        #expect(matches("4") == ["short:4"])
        #expect(matches("+4420") == ["plus:+44"])
        #expect(matches("+33") == [])
        #expect(matches("*71") == ["star:*7"])
        #expect(matches("*8") == ["star:*"])
        #expect(matches("#1") == ["hash:#"])
        #expect(matches("") == [] && matches("x44") == [])
        #expect(index.statistics.prefixes == 8)
    }

    @Test func sortRulesTakeTheLongestPrefix() {
        let index = RouteIndex(gateways: [], sortRules: [RouteSortRule(prefix: "4", sort: .quality), RouteSortRule(prefix: "447", sort: .lcr),
                                                         RouteSortRule(prefix: "44", sort: .mix), RouteSortRule(prefix: "+1", sort: .lcr)])
        #expect(index.sort(for: "4478", system: .priority) == (.lcr, "447"))
        #expect(index.sort(for: "4412", system: .priority) == (.mix, "44"))
        #expect(index.sort(for: "49", system: .priority) == (.quality, "4"))
        #expect(index.sort(for: "+1555", system: .priority) == (.lcr, "+1"))
        #expect(index.sort(for: "33", system: .mix) == (.mix, nil))
        #expect(RouteIndex(gateways: []).sort(for: "44", system: .quality) == (.quality, nil))
    }

    @Test func rateIndexAnswersAsTheRateTable() {
        var random = SeededGenerator(seed: 7)
        let alphabet = Array("0123456789+")
        func text(_ length: Int) -> String { String((0..<length).map { _ in alphabet.randomElement(using: &random) ?? "0" }) }
        for _ in 0..<100 {
            let entries = (0..<Int.random(in: 0...60, using: &random)).map { _ in
                RateEntry(prefix: text(Int.random(in: 1...4, using: &random)), pricePerMinute: Money(units: Int64.random(in: 0...9999, using: &random)))
            }
            let table = RateTable(name: "t", entries: entries)
            let index = RateIndex(table)
            let direct = RateIndex(name: "t", entries: entries)
            #expect(index.count == table.entries.count && direct.count == table.entries.count)
            for _ in 0..<50 {
                let number = text(Int.random(in: 0...8, using: &random))
                #expect(index.lookup(number) == table.lookup(number), "\(number)")
                #expect(direct.lookup(number) == table.lookup(number), "\(number)")
            }
        }
    }

    @Test func rateIndexOddPrefixesAndLongNumbers() {
        let long = String(repeating: "9", count: 40)
        let index = RateIndex(entries: [RateEntry(prefix: "9", pricePerMinute: Money(units: 1)),
                                        RateEntry(prefix: String(repeating: "9", count: 32), pricePerMinute: Money(units: 2)),
                                        RateEntry(prefix: String(repeating: "9", count: 34), pricePerMinute: Money(units: 3)),
                                        RateEntry(prefix: "4a", pricePerMinute: Money(units: 4))])
        #expect(index.lookup(long)?.pricePerMinute == Money(units: 3))
        #expect(index.lookup(String(repeating: "9", count: 33))?.pricePerMinute == Money(units: 2))
        #expect(index.lookup("99")?.pricePerMinute == Money(units: 1))
        #expect(index.lookup("4a1")?.pricePerMinute == Money(units: 4))
        #expect(index.lookup("41") == nil && index.lookup("") == nil)
    }

    @Test func vendorRatesAreResolvedOncePerGateway() {
        var asked: [String] = []
        let index = RouteIndex(gateways: [vendor("a", ["1"]), vendor("b", ["1"])], vendorRates: { gateway in
            asked.append(gateway.name)
            return gateway.name == "a" ? rateIndex(["1": 5]) : nil
        })
        #expect(asked == ["a", "b"])
        let plan = RoutePlanner.plan(for: "123", index: index, options: RouteOptions(systemSort: .lcr), status: { _ in GatewayStatus() },
                                     quality: { _ in nil }, isScheduled: { _ in true })
        #expect(plan.candidates.map(\.price) == [Money(units: 5), nil])
    }
}
