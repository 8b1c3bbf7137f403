import Testing
import VOSModel
@testable import Softswitch

func vendor(_ name: String, _ prefixes: [String], priority: Int = 1, lineLimit: Int = 0, switchOn: Bool = true,
            protect: Bool = false) -> RoutingGateway {
    var gateway = RoutingGateway(name: name, address: SIPAddress(host: "198.51.100.7"), prefixes: prefixes)
    gateway.priority = priority
    gateway.lineLimit = lineLimit
    gateway.switchUntilConnect = switchOn
    gateway.protectRoute = protect
    return gateway
}

@Suite struct RoutePlannerTests {
    @Test func longestPrefixThenPriorityThenLoadThenName() {
        let gateways = [vendor("b", ["44"], priority: 2), vendor("a", ["44"], priority: 2), vendor("uk-mobile", ["447"], priority: 5),
                        vendor("cheap", ["44"], priority: 1), vendor("busy", ["44"], priority: 2, lineLimit: 10), vendor("fr", ["33"])]
        let status: (String) -> GatewayStatus = { $0 == "busy" ? GatewayStatus(activeCalls: 9) : GatewayStatus() }
        let order = RoutePlanner.candidates(for: "447700900123", among: gateways, status: status).map(\.gateway.name)
        #expect(order == ["uk-mobile", "cheap", "a", "b", "busy"])
        #expect(RoutePlanner.candidates(for: "1555", among: gateways, status: status).isEmpty)
    }

    @Test func disabledGatewaysAreNotCandidates() {
        var off = vendor("off", ["44"])
        off.enabled = false
        #expect(RoutePlanner.candidates(for: "44", among: [off], status: { _ in GatewayStatus() }).isEmpty)
    }
}

@Suite struct FailoverPlanTests {
    func plan(_ gateways: [RoutingGateway], limit: Int = 5, status: (String) -> GatewayStatus = { _ in GatewayStatus() }) -> FailoverPlan {
        FailoverPlan(candidates: RoutePlanner.candidates(for: "4420", among: gateways, status: status), switchLimit: limit)
    }

    @Test func switchesUntilConnectOn503() {
        var plan = plan([vendor("first", ["44"], priority: 1), vendor("second", ["44"], priority: 2)])
        guard case let .tryGateway(first) = plan.next(status: { _ in GatewayStatus() }) else { Issue.record("no first"); return }
        #expect(first.gateway.name == "first")
        do { let continues = plan.record(.response(503), for: first); #expect(continues) }
        guard case let .tryGateway(second) = plan.next(status: { _ in GatewayStatus() }) else { Issue.record("no second"); return }
        #expect(second.gateway.name == "second")
    }

    @Test func switchOffReturnsTheFailureAtOnce() {
        var plan = plan([vendor("first", ["44"], priority: 1, switchOn: false), vendor("second", ["44"], priority: 2)])
        guard case let .tryGateway(first) = plan.next(status: { _ in GatewayStatus() }) else { Issue.record("no first"); return }
        do { let continues = plan.record(.response(503), for: first); #expect(!continues) }
        let outcome = plan.next(status: { _ in GatewayStatus() })
        #expect(outcome == .fail(reason: .vendorFailure, sipCode: 503))
        #expect(plan.attempts == [GatewayAttempt(gateway: "first", sipCode: 503, reason: "SIP 503")])
    }

    @Test func stopCodesEndFailover() {
        var plan = plan([vendor("first", ["44"], priority: 1), vendor("second", ["44"], priority: 2)])
        guard case let .tryGateway(first) = plan.next(status: { _ in GatewayStatus() }) else { Issue.record("no first"); return }
        do { let continues = plan.record(.response(486), for: first); #expect(!continues) }
        let outcome = plan.next(status: { _ in GatewayStatus() })
        #expect(outcome == .fail(reason: .vendorFailure, sipCode: 486))
    }

    @Test func lastTimeoutIs408InviteTimeout() {
        var plan = plan([vendor("only", ["44"])])
        guard case let .tryGateway(only) = plan.next(status: { _ in GatewayStatus() }) else { Issue.record("the only gateway not tried"); return }
        plan.record(.inviteTimeout, for: only)
        let outcome = plan.next(status: { _ in GatewayStatus() })
        #expect(outcome == .fail(reason: .inviteTimeout, sipCode: 408))
    }

    @Test func noPrefixIsNoAvailableRouter() {
        var plan = FailoverPlan(candidates: [], switchLimit: 5)
        let outcome = plan.next(status: { _ in GatewayStatus() })
        #expect(outcome == .fail(reason: .noAvailableRouter, sipCode: 503))
    }

    @Test func everyGatewayFullIsAllGatewayBusy() {
        let status: (String) -> GatewayStatus = { name in name == "a" ? GatewayStatus(activeCalls: 2) : GatewayStatus(withinCPS: false) }
        var plan = plan([vendor("a", ["44"], lineLimit: 2), vendor("b", ["44"])], status: status)
        let outcome = plan.next(status: status)
        #expect(outcome == .fail(reason: .allGatewayBusy, sipCode: 503))
        #expect(plan.skipped.map(\.reason) == [.cpsLimit, .lineLimit], "least loaded first")
    }

    @Test func vendorWithoutMoneyIsSkipped() {
        let status: (String) -> GatewayStatus = { name in GatewayStatus(vendorCreditOK: name != "poor") }
        var plan = plan([vendor("poor", ["44"], priority: 1), vendor("rich", ["44"], priority: 2)], status: status)
        guard case let .tryGateway(chosen) = plan.next(status: status) else { Issue.record("nothing chosen"); return }
        #expect(chosen.gateway.name == "rich")
        var alone = self.plan([vendor("poor", ["44"])], status: status)
        let outcome = alone.next(status: status)
        #expect(outcome == .fail(reason: .accountBalanceNotEnough, sipCode: 503))
    }

    @Test func protectRouteOnlyWhenPrimariesAreUnusable() {
        let gateways = [vendor("backup", ["44"], priority: 1, protect: true), vendor("primary", ["44"], priority: 2)]
        var healthy = plan(gateways)
        guard case let .tryGateway(first) = healthy.next(status: { _ in GatewayStatus() }) else { Issue.record("no first"); return }
        #expect(first.gateway.name == "primary")
        healthy.record(.response(503), for: first)
        guard case let .tryGateway(second) = healthy.next(status: { _ in GatewayStatus() }) else { Issue.record("backup not used after failure"); return }
        #expect(second.gateway.name == "backup")

        let offline: (String) -> GatewayStatus = { GatewayStatus(online: $0 != "primary") }
        var primaryDown = plan(gateways, status: offline)
        guard case let .tryGateway(chosen) = primaryDown.next(status: offline) else { Issue.record("backup not used with the primary offline"); return }
        #expect(chosen.gateway.name == "backup")
    }

    @Test func switchLimitCapsAttempts() {
        var plan = plan([vendor("a", ["44"], priority: 1), vendor("b", ["44"], priority: 2), vendor("c", ["44"], priority: 3)], limit: 2)
        for _ in 0..<2 {
            guard case let .tryGateway(candidate) = plan.next(status: { _ in GatewayStatus() }) else { Issue.record("stopped early"); return }
            plan.record(.response(503), for: candidate)
        }
        let outcome = plan.next(status: { _ in GatewayStatus() })
        #expect(outcome == .fail(reason: .vendorFailure, sipCode: 503))
        #expect(plan.attempts.count == 2)
    }

    @Test func offlineGatewayIgnoredWhenOptionsCheckOff() {
        var gateway = vendor("a", ["44"])
        gateway.optionsCheck = false
        var plan = plan([gateway])
        let outcome = plan.next(status: { _ in GatewayStatus(online: false) })
        #expect(outcome != .fail(reason: .noAvailableRouter, sipCode: 503))
    }
}

@Suite struct AdmissionTests {
    @Test func tokenBucketAllowsRatePerSecond() {
        var bucket = TokenBucket(rate: 5, now: 0)
        var admittedCount = 0
        for _ in 0..<5 where bucket.admit(now: 0) { admittedCount += 1 }
        #expect(admittedCount == 5)
        do { let admitted = bucket.admit(now: 0); #expect(!admitted) }
        #expect(bucket.secondsUntilNextToken() == 1)
        do { let admitted = bucket.admit(now: 200_000_000); #expect(admitted) }
        do { let admitted = bucket.admit(now: 200_000_000); #expect(!admitted) }
        var unlimited = TokenBucket(rate: 0, now: 0)
        var unlimitedCount = 0
        for _ in 0..<1000 where unlimited.admit(now: 0) { unlimitedCount += 1 }
        #expect(unlimitedCount == 1000)
    }

    @Test func limiterTableFollowsRateChanges() {
        var table = RateLimiterTable<String>()
        do { let admitted = table.admit("gw", rate: 1, now: 0); #expect(admitted) }
        do { let admitted = table.admit("gw", rate: 1, now: 0); #expect(!admitted) }
        do { let admitted = table.admit("other", rate: 1, now: 0); #expect(admitted) }
        do { let admitted = table.wouldAdmit("gw", rate: 10, now: 1_000_000_000); #expect(admitted) }
    }

    @Test func callerIdentificationPrefersIPPort() throws {
        let address = try IPAddress(parsing: "203.0.113.5")
        var byPort = MappingGateway(name: "by-port", ips: [address])
        byPort.authentication = .ipPort
        byPort.port = 5080
        let byIP = MappingGateway(name: "by-ip", ips: [address])
        let identification = CallerIdentification(gateways: [byIP, byPort])
        #expect(identification.gateway(source: address, port: 5080)?.name == "by-port")
        #expect(identification.gateway(source: address, port: 5060)?.name == "by-ip")
        #expect(identification.gateway(source: try IPAddress(parsing: "203.0.113.6"), port: 5060) == nil)
    }
}
