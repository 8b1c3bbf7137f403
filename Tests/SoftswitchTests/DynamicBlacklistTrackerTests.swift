import Softswitch
import Testing
import VOSModel

/// The dynamic blacklist's counting, in-process: each threshold, windows, expiry, scope, memory.
@Suite struct DynamicBlacklistTrackerTests {
    static let start: Int64 = 1_796_000_000_000

    func tracker(_ rules: DynamicBlacklistRule...) -> DynamicBlacklistTracker {
        var tracker = DynamicBlacklistTracker()
        tracker.configure(rules)
        return tracker
    }

    func rule(_ name: String = "r", gateway: String? = nil, target: DynamicBlacklistRule.Target = .callee, window: Int = 60,
              calls: Int = 0, concurrent: Int = 0, unanswered: Int = 0, short: Int = 0, shortSeconds: Int = 10,
              block: Int = 300) -> DynamicBlacklistRule {
        DynamicBlacklistRule(name: name, gateway: gateway, target: target, windowSeconds: window, maxCalls: calls,
                             maxConcurrent: concurrent, maxUnanswered: unanswered, maxShortCalls: short,
                             shortCallSeconds: shortSeconds, blockSeconds: block)
    }

    /// Starts a call at admission through mapping gateway `cust`; `at` is seconds after `start`.
    func admit(_ tracker: inout DynamicBlacklistTracker, caller: String = "1000", callee: String = "4420", at seconds: Double,
               mapping: String = "cust") -> DynamicBlacklistTracker.Start {
        tracker.callStarted(at: .admission(mappingGateway: mapping), caller: caller, callee: callee, now: time(seconds))
    }

    func time(_ seconds: Double) -> Int64 { Self.start + Int64(seconds * 1000) }

    @Test func theCallOverMaxCallsIsRefusedAndMakesAnEntryWithItsReason() throws {
        var blacklist = tracker(rule(calls: 3, block: 4))
        for second in 0..<3 {
            let start = admit(&blacklist, at: Double(second))
            #expect(start.blockingEntry == nil, "call \(second + 1) of 3 is within the rule")
            #expect(!start.ticket.isEmpty)
        }
        let fourth = admit(&blacklist, at: 3)
        let entry = try #require(fourth.blockingEntry)
        #expect(entry.number == "4420" && entry.target == .callee && entry.gateway == nil && entry.rule == "r")
        #expect(entry.reason == "4 calls in 60 s > 3")
        #expect(entry.created == time(3) && entry.expires == time(7))
        #expect(fourth.newEntries == [entry], "the entry is new: the caller must store it")
        #expect(fourth.ticket.isEmpty, "a refused call is counted nowhere")

        let whileBlocked = admit(&blacklist, at: 6.9)
        #expect(whileBlocked.blockingEntry == entry)
        #expect(whileBlocked.newEntries.isEmpty, "an entry that blocks already is not made again")
        #expect(admit(&blacklist, callee: "4421", at: 5).blockingEntry == nil, "another callee is not blocked")
        #expect(admit(&blacklist, at: 7).blockingEntry == nil, "at its expiry the number has its full allowance again")
        #expect(admit(&blacklist, at: 7.5).blockingEntry == nil)
        #expect(admit(&blacklist, at: 8).blockingEntry == nil)
        #expect(admit(&blacklist, at: 8.5).blockingEntry?.reason == "4 calls in 60 s > 3")
    }

    @Test func aWindowRollsOverAndItsCountsStartAgain() {
        var blacklist = tracker(rule(window: 10, calls: 2))
        #expect(admit(&blacklist, at: 0).blockingEntry == nil)
        #expect(admit(&blacklist, at: 9.9).blockingEntry == nil)
        #expect(admit(&blacklist, at: 10).blockingEntry == nil, "the window opened at 0 ended at 10: a new one opens")
        #expect(admit(&blacklist, at: 15).blockingEntry == nil)
        #expect(admit(&blacklist, at: 19.9).blockingEntry != nil, "three calls in the window opened at 10")
    }

    @Test func concurrentCallsAreCountedUntilTheyEnd() throws {
        var blacklist = tracker(rule(concurrent: 2))
        let first = admit(&blacklist, at: 0)
        _ = admit(&blacklist, at: 1)
        let ended = blacklist.callEnded(first.ticket, answered: true, durationMilliseconds: 60_000, now: time(61))
        #expect(ended.isEmpty)
        #expect(admit(&blacklist, at: 62).blockingEntry == nil, "one call up, one more fits")
        let third = admit(&blacklist, at: 63)
        #expect(third.blockingEntry?.reason == "3 concurrent calls > 2")
    }

    @Test func unansweredCallsCountAtTheirEnd() throws {
        var blacklist = tracker(rule(target: .caller, unanswered: 2, block: 30))
        for second in 0..<2 {
            let call = admit(&blacklist, caller: "666", at: Double(second))
            #expect(blacklist.callEnded(call.ticket, answered: false, durationMilliseconds: 0, now: time(Double(second) + 0.5)).isEmpty)
        }
        let answered = admit(&blacklist, caller: "666", at: 2)
        #expect(blacklist.callEnded(answered.ticket, answered: true, durationMilliseconds: 30_000, now: time(32)).isEmpty,
                "an answered call is not unanswered")
        let third = admit(&blacklist, caller: "666", at: 33)
        let made = blacklist.callEnded(third.ticket, answered: false, durationMilliseconds: 0, now: time(34))
        let entry = try #require(made.first)
        #expect(entry.reason == "3 unanswered calls in 60 s > 2")
        #expect(entry.target == .caller && entry.number == "666" && entry.expires == time(64))
        #expect(admit(&blacklist, caller: "666", at: 35).blockingEntry == entry, "the caller's next call is refused")
        #expect(admit(&blacklist, caller: "667", at: 35).blockingEntry == nil)
    }

    @Test func shortCallsAreAnsweredCallsUnderTheirSeconds() throws {
        var blacklist = tracker(rule(short: 1, shortSeconds: 5))
        let long = admit(&blacklist, at: 0)
        #expect(blacklist.callEnded(long.ticket, answered: true, durationMilliseconds: 5_000, now: time(6)).isEmpty, "5 s is not under 5 s")
        let short = admit(&blacklist, at: 7)
        #expect(blacklist.callEnded(short.ticket, answered: true, durationMilliseconds: 4_999, now: time(12)).isEmpty, "one short call is allowed")
        let unanswered = admit(&blacklist, at: 13)
        #expect(blacklist.callEnded(unanswered.ticket, answered: false, durationMilliseconds: 0, now: time(14)).isEmpty,
                "an unanswered call is not a short one")
        let second = admit(&blacklist, at: 15)
        let made = blacklist.callEnded(second.ticket, answered: true, durationMilliseconds: 1_000, now: time(17))
        #expect(made.first?.reason == "2 calls shorter than 5 s in 60 s > 1")
    }

    @Test func aGatewayRuleCountsOnlyThatGatewaysCallsAndCentralCountsAll() {
        var blacklist = tracker(rule("vendor", gateway: "uk", calls: 1), rule("customer", gateway: "cust", calls: 1))
        #expect(admit(&blacklist, at: 0, mapping: "other").ticket.isEmpty, "another mapping gateway's call counts on no rule here")
        #expect(admit(&blacklist, at: 1, mapping: "other").blockingEntry == nil)
        #expect(admit(&blacklist, at: 2).blockingEntry == nil)
        let customerOver = admit(&blacklist, at: 3)
        #expect(customerOver.blockingEntry?.gateway == "cust")
        #expect(admit(&blacklist, at: 4, mapping: "other").blockingEntry == nil, "an entry of mapping gateway cust blocks there only")

        let onUK = blacklist.callStarted(at: .attempt(routingGateway: "uk"), caller: "1000", callee: "4420", now: time(5))
        #expect(onUK.blockingEntry == nil && !onUK.ticket.isEmpty)
        #expect(blacklist.callStarted(at: .attempt(routingGateway: "de"), caller: "1000", callee: "4420", now: time(6)).ticket.isEmpty)
        let ukOver = blacklist.callStarted(at: .attempt(routingGateway: "uk"), caller: "1000", callee: "4420", now: time(7))
        #expect(ukOver.blockingEntry?.gateway == "uk")
        #expect(blacklist.callStarted(at: .attempt(routingGateway: "de"), caller: "1000", callee: "4420", now: time(8)).blockingEntry == nil,
                "a routing gateway's entry blocks that route only")

        var central = tracker(rule("all", calls: 2))
        #expect(admit(&central, at: 0, mapping: "a").blockingEntry == nil)
        #expect(admit(&central, at: 1, mapping: "b").blockingEntry == nil)
        let over = admit(&central, at: 2, mapping: "c")
        #expect(over.blockingEntry?.gateway == nil, "a central rule counts every gateway's calls together")
        #expect(admit(&central, at: 3, mapping: "d").blockingEntry != nil, "and its entry refuses the number on every gateway")
    }

    @Test func entriesRestoredFromTheStoreBlockUntilTheyExpireAndCanBeRemoved() {
        var blacklist = tracker()
        let running = DynamicBlacklistEntry(number: "4420", target: .callee, gateway: nil, rule: "r", reason: "4 calls in 60 s > 3",
                                            created: time(-10), expires: time(10))
        let expired = DynamicBlacklistEntry(number: "4421", target: .callee, gateway: nil, rule: "r", reason: "x",
                                            created: time(-10), expires: time(0))
        blacklist.restore([running, expired], now: time(0))
        #expect(blacklist.activeEntries(now: time(0)) == [running])
        #expect(admit(&blacklist, at: 1).blockingEntry == running)
        #expect(admit(&blacklist, callee: "4421", at: 1).blockingEntry == nil)
        #expect(blacklist.removeEntry(running.key) == running)
        #expect(admit(&blacklist, at: 2).blockingEntry == nil, "a removed entry blocks no more")
    }

    @Test func aRuleKeepsItsCountsAcrossAReloadUnlessItsScopeOrTargetChanges() {
        var blacklist = tracker(rule(calls: 2))
        _ = admit(&blacklist, at: 0)
        _ = admit(&blacklist, at: 1)
        blacklist.configure([rule(calls: 2, block: 60)])
        #expect(admit(&blacklist, at: 2).blockingEntry != nil, "new block time, same counts")

        var retargeted = tracker(rule(concurrent: 1))
        let up = admit(&retargeted, at: 0)
        retargeted.configure([rule(target: .caller, concurrent: 1)])
        #expect(retargeted.trackedNumbers(rule: "r") == 0)
        #expect(retargeted.callEnded(up.ticket, answered: true, durationMilliseconds: 1, now: time(1)).isEmpty)
        #expect(retargeted.trackedNumbers(rule: "r") == 0, "an old ticket touches nothing of the new rule")
    }

    @Test func memoryIsBoundedAndIdleNumbersAreForgotten() {
        var blacklist = DynamicBlacklistTracker(maximumNumbersPerRule: 3, sweepInterval: 10_000)
        blacklist.configure([rule(window: 5, calls: 100)])
        var tickets: [DynamicBlacklistTracker.Ticket] = []
        for number in 0..<5 {
            tickets.append(admit(&blacklist, callee: "44\(number)", at: 0).ticket)
        }
        #expect(blacklist.trackedNumbers(rule: "r") == 3)
        #expect(blacklist.untrackedCalls == 2, "numbers over the cap are not counted")
        #expect(tickets.filter(\.isEmpty).count == 2)
        let up = admit(&blacklist, callee: "448", at: 6)
        #expect(up.ticket.isEmpty, "still full: a number with a call up is never forgotten")
        for ticket in tickets { _ = blacklist.callEnded(ticket, answered: true, durationMilliseconds: 1000, now: time(1)) }
        _ = admit(&blacklist, callee: "449", at: 11)
        #expect(blacklist.trackedNumbers(rule: "r") == 1, "numbers whose window ended with no call up are forgotten")
    }

    @Test func anEmptyNumberIsNeitherCheckedNorCounted() {
        var blacklist = tracker(rule(target: .caller, calls: 1))
        #expect(admit(&blacklist, caller: "", at: 0).ticket.isEmpty)
        #expect(admit(&blacklist, caller: "", at: 1).blockingEntry == nil)
    }

    @Test func rulesAreValidatedWithTheRangeNamed() {
        #expect(throws: ModelError.self) { try rule(calls: 0).validate() }
        #expect(throws: ModelError.outOfRange(field: "rule 'r' window seconds", value: "0", range: "1-86400")) {
            try rule(window: 0, calls: 1).validate()
        }
        #expect(throws: ModelError.outOfRange(field: "rule 'r' block seconds", value: "0", range: "1-2592000")) {
            try rule(calls: 1, block: 0).validate()
        }
        #expect(throws: ModelError.outOfRange(field: "rule 'r' max calls", value: "-1", range: "0-1000000")) {
            try rule(calls: -1, concurrent: 1).validate()
        }
        #expect(throws: Never.self) { try rule(gateway: "uk", unanswered: 3).validate() }
    }
}

/// A routing gateway the number is blocked on is skipped, not tried (`FailoverPlan.skip`).
@Suite struct DynamicBlacklistFailoverTests {
    func plan(_ gateways: [RoutingGateway]) -> FailoverPlan {
        FailoverPlan(candidates: RoutePlanner.candidates(for: "4420", among: gateways, status: { _ in GatewayStatus() }), switchLimit: 5)
    }

    /// The gateway the plan offers next (the test fails when it offers none).
    func offered(_ plan: inout FailoverPlan) throws -> RouteCandidate {
        let next = plan.next(status: { _ in GatewayStatus() })
        guard case let .tryGateway(candidate) = next else { throw PlanEnded(next: next) }
        return candidate
    }

    struct PlanEnded: Error { let next: FailoverPlan.Next }

    @Test func everyCandidateSkippedIs403Blacklisted() throws {
        var plan = plan([vendor("uk", ["44"])])
        plan.skip(try offered(&plan), reason: .dynamicBlacklist)
        #expect(plan.next(status: { _ in GatewayStatus() }) == .fail(reason: .blacklisted, sipCode: 403))
        #expect(plan.attempts.isEmpty, "a skipped gateway is no attempt")
    }

    @Test func aSkippedPrimaryLetsItsProtectRouteServe() throws {
        var plan = plan([vendor("backup", ["44"], priority: 1, protect: true), vendor("primary", ["44"], priority: 2)])
        let primary = try offered(&plan)
        #expect(primary.gateway.name == "primary")
        plan.skip(primary, reason: .dynamicBlacklist)
        #expect(try offered(&plan).gateway.name == "backup", "the primary cannot take this number: its protect route serves")
    }
}
