import Foundation
import Testing
import VOSModel
import VOSTestSupport
@testable import Softswitch

@Suite struct RouteExplanationTests {
    /// A mix of everything an explanation names: try order by price, a full gateway, an offline
    /// one, a protect route, a schedule, margin, a dial-plan denial, a disabled gateway.
    func fixture() -> (RoutingFixture, (String) -> GatewayStatus) {
        var backup = vendor("backup", ["44"], priority: 1, protect: true)
        backup.clearingAccount = "v"
        var denies = vendor("denies", ["44"])
        denies.calleeRewrite = DialPlan(rules: [.deny("447")])
        var off = vendor("off", ["44"])
        off.enabled = false
        var fixture = RoutingFixture(gateways: [
            vendor("cheap", ["44"], priority: 3), vendor("full", ["44"], lineLimit: 2), vendor("down", ["447"]),
            vendor("mid", ["4"], priority: 2), backup, vendor("night", ["44"]), vendor("dear", ["44"]), denies, off,
            vendor("elsewhere", ["33"]),
        ])
        fixture.decks = ["cheap": ["44": 100], "full": ["44": 150], "down": ["44": 120], "mid": ["4": 200], "backup": ["44": 50],
                         "night": ["44": 10], "dear": ["44": 5000], "denies": ["44": 1]]
        fixture.unscheduled = ["night"]
        fixture.scores = ["cheap": score(attempts: 30, answered: 12, talk: 12 * 90)]
        let status: (String) -> GatewayStatus = { name in
            switch name {
            case "full": return GatewayStatus(activeCalls: 2)
            case "down": return GatewayStatus(online: false)
            default: return GatewayStatus(activeCalls: name == "cheap" ? 1 : 0)
            }
        }
        return (fixture, status)
    }

    func explain(_ fixture: RoutingFixture, _ status: (String) -> GatewayStatus, switchLimit: Int = 5,
                 options: RouteOptions = RouteOptions(systemSort: .lcr, customerRate: RateEntry(prefix: "44", pricePerMinute: Money(units: 1000)))) -> RouteExplanation {
        RouteExplanation.explain(callee: "447700900123", index: fixture.index, options: options, switchLimit: switchLimit,
                                 status: status, quality: { fixture.scores[$0] }, isScheduled: { !fixture.unscheduled.contains($0.name) })
    }

    @Test func everyMatchingGatewayWithItsVerdictInTryOrder() throws {
        let (fixture, status) = fixture()
        let explanation = explain(fixture, status)
        #expect(explanation.sort == .lcr && explanation.sortRule == nil && explanation.refusal == nil)
        let verdicts = explanation.entries.map { "\($0.name) \($0.position.map(String.init) ?? "-") \($0.reason ?? "")" }
        // Try order by price (protect routes last), the skipped in place, then those left out.
        #expect(verdicts == ["cheap 1 ", "down - offline", "full - line limit", "mid 2 ", "backup 3 ",
                             "night - time window", "dear - margin", "denies - dial plan", "off - disabled"])
        let cheap = try #require(explanation.entries.first)
        #expect(cheap.included && cheap.matchedPrefix == "44" && cheap.calleeOut == "447700900123" && cheap.priority == 3)
        #expect(cheap.pricePerMinute == Money(units: 100) && cheap.quality?.answered == 12 && cheap.activeCalls == 1)
        #expect(cheap.sort == .lcr && cheap.sortSource == "SS_ROUTING_SORT")
        let dear = try #require(explanation.entries.first { $0.name == "dear" })
        #expect(!dear.included && dear.pricePerMinute == Money(units: 5000))
        #expect(explanation.entries.first { $0.name == "night" }?.pricePerMinute == Money(units: 10))
        #expect(explanation.entries.first { $0.name == "full" }?.lineLimit == 2)
        #expect(!explanation.entries.contains { $0.name == "elsewhere" })
    }

    /// The explanation's order is FailoverPlan's: walk the real plan, failing every attempt.
    @Test func explanationOrderEqualsTheFailoverPlansTryOrder() {
        var random = SeededGenerator(seed: 1616)
        for round in 0..<60 {
            var gateways: [RoutingGateway] = []
            var decks: [String: [String: Int64]] = [:]
            var scores: [String: GatewayScore] = [:]
            var states: [String: GatewayStatus] = [:]
            for number in 0..<Int.random(in: 1...12, using: &random) {
                let name = "v\(number)"
                gateways.append(vendor(name, [["4", "44", "447"].randomElement(using: &random) ?? "4"], priority: Int.random(in: 1...3, using: &random),
                                       lineLimit: Int.random(in: 0...1, using: &random) * 3, protect: Int.random(in: 0..<5, using: &random) == 0))
                if Bool.random(using: &random) { decks[name] = ["4": Int64.random(in: 1...500, using: &random)] }
                scores[name] = score(attempts: Int.random(in: 0...40, using: &random), answered: Int.random(in: 0...10, using: &random))
                states[name] = GatewayStatus(activeCalls: Int.random(in: 0...3, using: &random), online: Int.random(in: 0..<6, using: &random) != 0,
                                             withinCPS: Int.random(in: 0..<8, using: &random) != 0,
                                             groupLineAvailable: Int.random(in: 0..<8, using: &random) != 0)
            }
            let fixture = RoutingFixture(gateways: gateways, decks: decks, scores: scores)
            let status: (String) -> GatewayStatus = { states[$0] ?? GatewayStatus() }
            let sort = RoutingSort.allCases.randomElement(using: &random) ?? .priority
            let options = RouteOptions(systemSort: sort, asrFloorPercent: Int.random(in: 0...1, using: &random) * 10)
            let switchLimit = Int.random(in: 1...6, using: &random)
            let explanation = RouteExplanation.explain(callee: "4477", index: fixture.index, options: options, switchLimit: switchLimit,
                                                       status: status, quality: { scores[$0] }, isScheduled: { _ in true })
            let route = RoutePlanner.plan(for: "4477", index: fixture.index, options: options, status: status,
                                          quality: { scores[$0] }, isScheduled: { _ in true })
            var plan = FailoverPlan(route: route, switchLimit: switchLimit)
            var tried: [String] = []
            var outcome = plan.next(status: status)
            while case let .tryGateway(candidate) = outcome {
                tried.append(candidate.gateway.name)
                plan.record(.response(503), for: candidate)
                outcome = plan.next(status: status)
            }
            #expect(explanation.tryOrder == tried, "round \(round) \(sort)")
            #expect(explanation.entries.filter(\.included).map(\.name) == plan.order.map(\.gateway.name), "round \(round)")
            #expect(Set(explanation.entries.map(\.name)) == Set(gateways.map(\.name)), "every gateway matches 4477")
            if tried.isEmpty {
                #expect(outcome == .fail(reason: explanation.refusal ?? .vendorFailure, sipCode: explanation.refusalCode ?? 0))
            }
        }
    }

    @Test func refusalWhenNothingWouldBeTried() {
        let (fixture, _) = fixture()
        let busy = explain(fixture, { _ in GatewayStatus(groupLineAvailable: false) })
        #expect(busy.tryOrder.isEmpty && busy.refusal == .allGatewayBusy && busy.refusalCode == 503)
        #expect(busy.entries.first { $0.name == "cheap" }?.reason == "group line limit")
        let margin = explain(fixture, { _ in GatewayStatus() },
                             options: RouteOptions(customerRate: RateEntry(prefix: "4", pricePerMinute: Money(units: 1))))
        #expect(margin.refusal == .marginProtected && margin.refusalCode == 503)
        #expect(margin.table().contains("no gateway would be tried: MarginProtected (SIP 503)"))
    }

    @Test func switchLimitIsNamed() {
        let (fixture, status) = fixture()
        let two = explain(fixture, status, switchLimit: 2)
        #expect(two.tryOrder == ["cheap", "mid"])
        #expect(two.entries.first { $0.name == "full" }?.reason == "line limit")
        #expect(two.entries.first { $0.name == "backup" }?.reason == "switch limit")
        let one = explain(fixture, status, switchLimit: 1)
        #expect(one.tryOrder == ["cheap"])
        #expect(one.entries.filter(\.included).dropFirst().allSatisfy { $0.reason == "switch limit" })
    }

    @Test func jsonIsAListInTryOrderWithNames() throws {
        let (fixture, status) = fixture()
        var rules = fixture
        rules.rules = [RouteSortRule(prefix: "4477", sort: .lcr)]
        let explanation = explain(rules, status, options: RouteOptions())
        #expect(explanation.sortRule == "4477")
        let data = try JSONEncoder().encode(explanation)
        struct Probe: Decodable {
            var name: String
            var position: Int?
            var sortSource: String
            var pricePerMinute: String?
        }
        let list = try JSONDecoder().decode([Probe].self, from: data)
        #expect(list.map(\.name) == explanation.entries.map(\.name))
        #expect(list.first?.position == 1 && list.first?.sortSource == "rule 4477")
        #expect(list.first?.pricePerMinute == "0.0100")
        let decoded = try JSONDecoder().decode(RouteExplanation.self, from: data)
        #expect(decoded.entries == explanation.entries && decoded.sort == .lcr && decoded.sortRule == "4477")
    }

    @Test func tableHasAHeaderAndOneLinePerGateway() {
        let (fixture, status) = fixture()
        let table = explain(fixture, status).table()
        let lines = table.split(separator: "\n").map(String.init)
        #expect(lines.first == "447700900123: sort lcr (SS_ROUTING_SORT)")
        #expect(lines[1].hasPrefix("#  gateway"))
        #expect(lines.count == 2 + 9)
        #expect(lines[2].hasPrefix("1  cheap") && lines[2].contains("0.0100") && lines[2].contains("40.0 %") && lines[2].hasSuffix("try"))
        #expect(lines.contains { $0.hasPrefix("-  full") && $0.hasSuffix("skip: line limit") })
        #expect(lines.contains { $0.hasPrefix("3  backup (protect)") })
        #expect(lines.contains { $0.hasPrefix("-  night") && $0.hasSuffix("out: time window") })
        #expect(RouteExplanation(callee: "1", sort: .priority, sortRule: nil, entries: []).table().contains("no routing gateway"))
    }
}
