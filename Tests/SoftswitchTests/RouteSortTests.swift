import Testing
import VOSModel
@testable import Softswitch

/// A vendor's rate deck as `prefix: units` (ten-thousandths per minute).
func rateIndex(_ deck: [String: Int64]) -> RateIndex {
    RateIndex(entries: deck.map { RateEntry(prefix: $0.key, pricePerMinute: Money(units: $0.value)) })
}

/// Routing over `gateways` with the vendors' decks by gateway name.
struct RoutingFixture {
    var gateways: [RoutingGateway]
    var decks: [String: [String: Int64]] = [:]
    var rules: [RouteSortRule] = []
    var active: [String: Int] = [:]
    var scores: [String: GatewayScore] = [:]
    /// Gateways given a schedule that is closed now (the others have none: always open).
    var unscheduled: Set<String> = []

    var index: RouteIndex {
        let scheduled = gateways.map { gateway in
            var gateway = gateway
            if unscheduled.contains(gateway.name) { gateway.schedule = "closed" }
            return gateway
        }
        return RouteIndex(gateways: scheduled, sortRules: rules, vendorRates: { gateway in decks[gateway.name].map(rateIndex) })
    }

    func status(_ name: String) -> GatewayStatus { GatewayStatus(activeCalls: active[name] ?? 0) }

    func plan(_ callee: String, _ options: RouteOptions) -> RoutePlan {
        RoutePlanner.plan(for: callee, index: index, options: options, status: status, quality: { scores[$0] },
                          isScheduled: { !unscheduled.contains($0.name) })
    }

    func order(_ callee: String, _ options: RouteOptions) -> [String] { plan(callee, options).candidates.map(\.gateway.name) }
}

func score(attempts: Int, answered: Int, talk: Int = 0, minimum: Int = 20) -> GatewayScore {
    GatewayScore(attempts: attempts, answered: answered, talkSeconds: talk, minimumCalls: minimum)
}

@Suite struct RouteSortTests {
    @Test func priorityModeIsTodaysOrder() {
        var fixture = RoutingFixture(gateways: [
            vendor("b", ["44"], priority: 2), vendor("a", ["44"], priority: 2), vendor("uk-mobile", ["447"], priority: 5),
            vendor("cheap", ["44"], priority: 1), vendor("busy", ["44"], priority: 2, lineLimit: 10), vendor("fr", ["33"]),
        ])
        fixture.active = ["busy": 9]
        fixture.decks = ["b": ["44": 1], "uk-mobile": ["44": 900]]
        let options = RouteOptions(systemSort: .priority)
        #expect(fixture.order("447700900123", options) == ["uk-mobile", "cheap", "a", "b", "busy"])
        let linear = RoutePlanner.candidates(for: "447700900123", among: fixture.gateways, status: fixture.status).map(\.gateway.name)
        #expect(fixture.order("447700900123", options) == linear)
        #expect(fixture.plan("447700900123", options).sort == .priority)
    }

    @Test func lcrOrdersEveryMatchByThePriceOfTheNumberSentThenPriorityLoadName() {
        var viaPlan = vendor("via-plan", ["44"], priority: 9)
        viaPlan.calleeRewrite = DialPlan(rules: [.replace("44", with: "9944")])
        var fixture = RoutingFixture(gateways: [
            vendor("a", ["44"], priority: 2), vendor("long-prefix", ["447"], priority: 1), vendor("c", ["44"], priority: 1),
            vendor("no-deck", ["44"], priority: 1), vendor("loaded", ["44"], priority: 1, lineLimit: 10),
            vendor("not-this-number", ["44"], priority: 1), viaPlan, vendor("zeta", ["44"], priority: 1),
        ])
        fixture.active = ["loaded": 5]
        fixture.decks = [
            "a": ["44": 200], "long-prefix": ["447": 300], "c": ["4": 500, "44": 200], "loaded": ["44": 200],
            "not-this-number": ["33": 1], "via-plan": ["44": 5000, "9944": 10], "zeta": ["447": 200],
        ]
        let order = fixture.order("447700900123", RouteOptions(systemSort: .lcr))
        // 0.0010 (its dial plan makes 9944...), then 0.0200: priority 1 (c idle, zeta idle: name; loaded), priority 2,
        // then 0.0300 though its prefix is the longest, then the unknown prices by priority and name.
        #expect(order == ["via-plan", "c", "zeta", "loaded", "a", "long-prefix", "no-deck", "not-this-number"])
        let plan = fixture.plan("447700900123", RouteOptions(systemSort: .lcr))
        #expect(plan.candidates.first?.price == Money(units: 10))
        #expect(plan.candidates.first?.calleeOut == "99447700900123")
        #expect(plan.candidates.last?.price == nil)
    }

    @Test func qualityTriesUnlearnedGatewaysFirstThenBestScore() {
        var fixture = RoutingFixture(gateways: [
            vendor("poor", ["44"], priority: 1), vendor("good", ["44"], priority: 2), vendor("new-low", ["44"], priority: 3),
            vendor("new-high", ["44"], priority: 1), vendor("good-idle", ["44"], priority: 2, lineLimit: 10),
            vendor("good-busy", ["44"], priority: 2, lineLimit: 10), vendor("long-calls", ["447"], priority: 4),
        ])
        fixture.active = ["good-busy": 5]
        fixture.scores = [
            "poor": score(attempts: 100, answered: 30, talk: 100 * 600),
            "good": score(attempts: 50, answered: 30, talk: 30 * 10),
            "good-idle": score(attempts: 100, answered: 60, talk: 60 * 10),
            "good-busy": score(attempts: 20, answered: 12, talk: 12 * 10),
            "new-low": score(attempts: 19, answered: 0),
            "long-calls": score(attempts: 40, answered: 18, talk: 18 * 300),
        ]
        // Unscored by priority (no record at all counts as unscored), then ASR: 0.6 x3 (priority 2: load, then name), 0.45, 0.3.
        #expect(fixture.order("447700", RouteOptions(systemSort: .quality))
            == ["new-high", "new-low", "good", "good-idle", "good-busy", "long-calls", "poor"])
        // Talk seconds per attempt: poor 180, long-calls 135, then good, good-idle and good-busy 6.
        #expect(fixture.order("447700", RouteOptions(systemSort: .quality, useACD: true))
            == ["new-high", "new-low", "poor", "long-calls", "good", "good-idle", "good-busy"])
        // With quality not calculated nothing is scored: priority order, prefix length aside.
        #expect(fixture.order("447700", RouteOptions(systemSort: .quality, qualityEnabled: false))
            == ["new-high", "poor", "good", "good-idle", "good-busy", "new-low", "long-calls"])
    }

    @Test func mixOrdersByPricePerAnsweredCall() {
        var fixture = RoutingFixture(gateways: [
            vendor("m1", ["44"]), vendor("m2", ["44"]), vendor("m3", ["44"]), vendor("m4", ["44"]), vendor("m5", ["44"]),
            vendor("m6", ["44"], priority: 2), vendor("m7", ["44"], priority: 1),
        ])
        fixture.decks = ["m1": ["44": 100], "m2": ["44": 300], "m3": ["44": 200], "m5": ["44": 100], "m6": ["44": 250], "m7": ["44": 250]]
        fixture.scores = [
            "m1": score(attempts: 100, answered: 25),  // 0.0100 / 0.25 = 0.0400
            "m2": score(attempts: 100, answered: 90),  // 0.0300 / 0.9 = 0.0333
            "m3": score(attempts: 5, answered: 0),  // not counted yet: ASR 1, 0.0200
            "m5": score(attempts: 30, answered: 0),  // never answers: after every answered price
            "m6": score(attempts: 40, answered: 40),  // 0.0250, priority 2
            "m7": score(attempts: 80, answered: 80),  // 0.0250, priority 1
        ]
        #expect(fixture.order("4420", RouteOptions(systemSort: .mix)) == ["m3", "m7", "m6", "m2", "m1", "m5", "m4"])
        // Unscored everywhere: plain price.
        #expect(fixture.order("4420", RouteOptions(systemSort: .mix, qualityEnabled: false)) == ["m1", "m5", "m3", "m7", "m6", "m2", "m4"])
    }

    @Test func longestRouteSortRuleOverridesTheSystemMode() {
        var fixture = RoutingFixture(gateways: [vendor("dear", ["4"], priority: 1), vendor("cheap", ["4"], priority: 2),
                                                vendor("unlearned", ["4"], priority: 3)])
        fixture.decks = ["dear": ["4": 900], "cheap": ["4": 100]]
        fixture.scores = ["dear": score(attempts: 50, answered: 40), "cheap": score(attempts: 50, answered: 10)]
        fixture.rules = [RouteSortRule(prefix: "44", sort: .quality), RouteSortRule(prefix: "447", sort: .lcr),
                         RouteSortRule(prefix: "49", sort: .mix)]
        let system = RouteOptions(systemSort: .priority)
        let lcr = fixture.plan("447700", system)
        #expect(lcr.sort == .lcr && lcr.sortRule == "447")
        #expect(lcr.candidates.map(\.gateway.name) == ["cheap", "dear", "unlearned"])
        let quality = fixture.plan("4420", system)
        #expect(quality.sort == .quality && quality.sortRule == "44")
        #expect(quality.candidates.map(\.gateway.name) == ["unlearned", "dear", "cheap"])
        // mix: cheap 0.0100 / 0.2 = 0.05, dear 0.0900 / 0.8 = 0.1125.
        #expect(fixture.order("4930", system) == ["cheap", "dear", "unlearned"])
        let fallback = fixture.plan("4330", RouteOptions(systemSort: .lcr))
        #expect(fallback.sort == .lcr && fallback.sortRule == nil)
        #expect(fixture.order("4330", system) == ["dear", "cheap", "unlearned"])
    }

    @Test func asrFloorExcludesScoredGatewaysInEveryMode() {
        var fixture = RoutingFixture(gateways: [vendor("bad", ["44"], priority: 1), vendor("edge", ["44"], priority: 2),
                                                vendor("learning", ["44"], priority: 3), vendor("fine", ["44"], priority: 4)])
        fixture.decks = ["bad": ["44": 1], "edge": ["44": 2], "learning": ["44": 3], "fine": ["44": 4]]
        fixture.scores = ["bad": score(attempts: 100, answered: 19), "edge": score(attempts: 100, answered: 20),
                          "learning": score(attempts: 10, answered: 0), "fine": score(attempts: 100, answered: 90)]
        for sort in RoutingSort.allCases {
            let plan = fixture.plan("4420", RouteOptions(systemSort: sort, asrFloorPercent: 20))
            #expect(Set(plan.candidates.map(\.gateway.name)) == ["edge", "learning", "fine"], "\(sort)")
            #expect(plan.excluded.map(\.gateway) == ["bad"] && plan.excluded.first?.reason == .qualityFloor, "\(sort)")
            #expect(plan.excluded.first?.quality?.answered == 19)
        }
        #expect(fixture.plan("4420", RouteOptions(asrFloorPercent: 0)).excluded.isEmpty)
        #expect(fixture.plan("4420", RouteOptions(qualityEnabled: false, asrFloorPercent: 20)).excluded.isEmpty)
    }

    @Test func marginProtectionExcludesDearerAndUnpricedVendors() throws {
        var fixture = RoutingFixture(gateways: [vendor("under", ["44"]), vendor("equal", ["44"]), vendor("over", ["44"]),
                                                vendor("unpriced", ["44"])])
        fixture.decks = ["under": ["44": 100], "equal": ["44": 200], "over": ["44": 201]]
        let customer = RateEntry(prefix: "44", pricePerMinute: Money(units: 200))
        for sort in RoutingSort.allCases {
            let plan = fixture.plan("4420", RouteOptions(systemSort: sort, customerRate: customer))
            #expect(Set(plan.candidates.map(\.gateway.name)) == ["under", "equal"])
            #expect(plan.excluded.map(\.gateway) == ["over", "unpriced"] && plan.excluded.allSatisfy { $0.reason == .margin })
            #expect(plan.excluded.first?.price == Money(units: 201))
            #expect(!plan.refusedByMargin)
        }
        // Without the customer's rate (margin protection off) every vendor stays.
        #expect(fixture.plan("4420", RouteOptions()).candidates.count == 4)

        let dear = RoutingFixture(gateways: fixture.gateways, decks: ["under": ["44": 300], "equal": ["44": 300], "over": ["44": 900]])
        let refused = dear.plan("4420", RouteOptions(systemSort: .lcr, customerRate: customer))
        #expect(refused.candidates.isEmpty && refused.refusedByMargin && refused.excluded.count == 4)
        var failover = FailoverPlan(route: refused, switchLimit: 5)
        #expect(failover.next(status: dear.status) == .fail(reason: .marginProtected, sipCode: 503))
        // No gateway at all stays NoAvailableRouter.
        var nothing = FailoverPlan(route: dear.plan("3320", RouteOptions(customerRate: customer)), switchLimit: 5)
        #expect(nothing.next(status: dear.status) == .fail(reason: .noAvailableRouter, sipCode: 503))
    }

    @Test func marginAndScheduleTogetherIsStillMarginProtected() {
        var fixture = RoutingFixture(gateways: [vendor("night", ["44"]), vendor("dear", ["44"])], decks: ["night": ["44": 1], "dear": ["44": 900]])
        fixture.unscheduled = ["night"]
        let plan = fixture.plan("4420", RouteOptions(customerRate: RateEntry(prefix: "4", pricePerMinute: Money(units: 100))))
        #expect(plan.excluded.map(\.reason) == [.schedule, .margin])
        var failover = FailoverPlan(route: plan, switchLimit: 5)
        #expect(failover.next(status: fixture.status) == .fail(reason: .marginProtected, sipCode: 503))
    }

    @Test func scheduleExcludesGatewaysOutsideTheirWindow() {
        var fixture = RoutingFixture(gateways: [vendor("day", ["44"], priority: 1), vendor("always", ["44"], priority: 2)])
        fixture.unscheduled = ["day"]
        let plan = fixture.plan("4420", RouteOptions())
        #expect(plan.candidates.map(\.gateway.name) == ["always"])
        #expect(plan.excluded == [RouteExclusion(gateway: "day", position: 0, matchedPrefix: "44", reason: .schedule, price: nil, quality: nil)])
        // Only gateways that name a schedule are asked about.
        var asked: [String] = []
        _ = RoutePlanner.plan(for: "4420", index: fixture.index, options: RouteOptions(), status: fixture.status, quality: { _ in nil },
                              isScheduled: { asked.append($0.name); return false })
        #expect(asked == ["day"])
        fixture.unscheduled = ["day", "always"]
        let none = fixture.plan("4420", RouteOptions())
        #expect(!none.refusedByScreening && !none.refusedByMargin)
        var failover = FailoverPlan(route: none, switchLimit: 5)
        #expect(failover.next(status: fixture.status) == .fail(reason: .noAvailableRouter, sipCode: 503))
    }

    @Test func groupLineLimitIsSkippedAndCountsAsBusy() {
        let fixture = RoutingFixture(gateways: [vendor("g1", ["44"], priority: 1), vendor("g2", ["44"], priority: 2),
                                                vendor("own-limit", ["44"], priority: 3, lineLimit: 1)])
        let status: (String) -> GatewayStatus = { name in
            name == "own-limit" ? GatewayStatus(activeCalls: 1) : GatewayStatus(groupLineAvailable: false)
        }
        var plan = FailoverPlan(route: fixture.plan("4420", RouteOptions()), switchLimit: 5)
        #expect(plan.next(status: status) == .fail(reason: .allGatewayBusy, sipCode: 503))
        #expect(plan.skipped.map(\.reason) == [.groupLineLimit, .groupLineLimit, .lineLimit])
        #expect(SkipReason.groupLineLimit.rawValue == "group line limit")

        // A gateway with a free group line is tried; group-limited primaries do not keep a protect route waiting.
        var backup = vendor("backup", ["44"], priority: 9)
        backup.protectRoute = true
        let withBackup = RoutingFixture(gateways: [vendor("g1", ["44"]), backup])
        var failover = FailoverPlan(route: withBackup.plan("4420", RouteOptions()), switchLimit: 5)
        let groupFull: (String) -> GatewayStatus = { GatewayStatus(groupLineAvailable: $0 != "g1") }
        #expect(failover.next(status: groupFull) == .tryGateway(withBackup.plan("4420", RouteOptions()).candidates[1]))
        #expect(failover.skipped.map(\.reason) == [.groupLineLimit])
    }

    /// The case in the planner: a vendor answering 503 most of the time is tried first
    /// while it is learned, then loses its rank once its window holds enough attempts.
    @Test func vendorAnswering503LosesItsRankAfterTheWindowFills() throws {
        let fixture = RoutingFixture(gateways: [vendor("flaky", ["44"], priority: 1), vendor("solid", ["44"], priority: 2)])
        let index = fixture.index
        let quality = GatewayQuality(settings: .init(windowSeconds: 600, sliceSeconds: 60, minimumCalls: 20))
        let options = RouteOptions(systemSort: .quality)
        var firsts: [String] = []
        var now: UInt64 = 1_000_000_000
        var calls = [String: Int]()
        for call in 0..<120 {
            now += 2_000_000_000  // a call every 2 s: 120 calls in 4 minutes, inside the window
            let route = RoutePlanner.plan(for: "4420\(call)", index: index, options: options, status: { _ in GatewayStatus() },
                                          quality: { [now] in quality.score($0, now: now) }, isScheduled: { _ in true })
            var plan = FailoverPlan(route: route, switchLimit: 5)
            var first = true
            while case let .tryGateway(candidate) = plan.next(status: { _ in GatewayStatus() }) {
                let name = candidate.gateway.name
                if first { firsts.append(name); first = false }
                calls[name, default: 0] += 1
                // flaky answers one call in ten (503 otherwise), solid seven in ten.
                let answered = name == "flaky" ? calls[name, default: 0] % 10 == 0 : calls[name, default: 0] % 10 < 7
                quality.record(name, answered: answered, talkSeconds: answered ? 60 : 0, now: now)
                if answered { break }
                plan.record(.response(503), for: candidate)
            }
        }
        // Learning flaky (priority 1) first, then solid once flaky counts and solid does not, then solid for good.
        #expect(firsts.prefix(5).allSatisfy { $0 == "flaky" })
        #expect(firsts.suffix(60).allSatisfy { $0 == "solid" })
        let flaky = quality.score("flaky", now: now), solid = quality.score("solid", now: now)
        #expect(flaky.counts && solid.counts && flaky.asr < 0.2 && solid.asr > 0.6)

        // Ten minutes without calls: the window empties, both are learned again, flaky (priority 1) first.
        now += 11 * 60 * 1_000_000_000
        let later = RoutePlanner.plan(for: "4420", index: index, options: options, status: { _ in GatewayStatus() },
                                      quality: { [now] in quality.score($0, now: now) }, isScheduled: { _ in true })
        #expect(later.candidates.map(\.gateway.name) == ["flaky", "solid"])
        #expect(later.candidates.allSatisfy { $0.quality?.attempts == 0 })
    }
}
