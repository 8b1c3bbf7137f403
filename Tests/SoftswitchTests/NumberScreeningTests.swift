import Testing
import VOSModel
@testable import Softswitch

func numberList(_ name: String, _ kind: NumberList.Kind, _ target: NumberList.Target = .both, _ numbers: [String]) throws -> NumberList {
    NumberList(name: name, kind: kind, target: target, numbers: try NumberSet(validating: numbers, field: "number"))
}

/// Black and white lists, number groups and prefix filters on a mapping gateway: what
/// `Admission` answers for each call.
@Suite struct NumberScreeningAdmissionTests {
    func customer(_ configure: (inout MappingGateway) -> Void) -> MappingGateway {
        var gateway = MappingGateway(name: "cust", ips: [])
        configure(&gateway)
        return gateway
    }

    func verdict(_ gateway: MappingGateway, caller: String = "1000", callee: String = "441234567", calleeAfterPlan: String? = nil,
                 callerAfterPlan: String? = nil, lists: [NumberList] = [], groups: [NumberGroup] = []) -> Admission.Refusal? {
        let screening = NumberScreening(mapping: [gateway], routing: [], lists: lists, groups: groups)
        let call = Admission.Call(gateway: gateway, caller: caller, calleeReceived: callee, callee: calleeAfterPlan ?? callee,
                                  activeCalls: 0, callerAfterPlan: callerAfterPlan)
        return Admission.refusal(call, screen: screening.mapping[gateway.name], globalCPS: { .admitted }, gatewayCPS: { .admitted })
    }

    let blacklisted = Admission.Refusal(reason: .blacklisted, code: 403)

    @Test func aWhiteListLetsOnlyItsNumbersThroughForItsTarget() throws {
        let allowed = try numberList("allowed", .white, .callee, ["441234567", "447700900123"])
        let gateway = customer { $0.listGroups = ["allowed"] }
        #expect(verdict(gateway, callee: "441234567", lists: [allowed]) == nil)
        #expect(verdict(gateway, caller: "anonymous", callee: "447700900123", lists: [allowed]) == nil, "a callee list does not judge callers")
        #expect(verdict(gateway, callee: "441234568", lists: [allowed]) == blacklisted)
        #expect(verdict(gateway, callee: "44123456", lists: [allowed]) == blacklisted, "whole numbers, not prefixes")
    }

    @Test func aBlackListRefusesItsNumbersOnEitherSide() throws {
        let fraud = try numberList("fraud", .black, .both, ["666", "447700900666"])
        let gateway = customer { $0.listGroups = ["fraud"] }
        #expect(verdict(gateway, caller: "666", lists: [fraud]) == blacklisted)
        #expect(verdict(gateway, callee: "447700900666", lists: [fraud]) == blacklisted)
        #expect(verdict(gateway, caller: "6666", callee: "4477009006660", lists: [fraud]) == nil)
        #expect(verdict(gateway, caller: "anonymous", lists: [fraud]) == nil, "a number that is not a dial string is in no list")
    }

    @Test func listsJudgeTheNumberAsReceivedAndAfterTheDialPlan() throws {
        let fraud = try numberList("fraud", .black, .both, ["+447700900666", "+8801711000001"])
        let gateway = customer { $0.listGroups = ["fraud"] }
        #expect(verdict(gateway, callee: "07700900666", calleeAfterPlan: "+447700900666", lists: [fraud]) == blacklisted)
        #expect(verdict(gateway, caller: "01711000001", callerAfterPlan: "+8801711000001", lists: [fraud]) == blacklisted)
        let vip = try numberList("vip", .white, .caller, ["01711000002"])
        let white = customer { $0.listGroups = ["vip"] }
        #expect(verdict(white, caller: "01711000002", callerAfterPlan: "+8801711000002", lists: [vip]) == nil)
        #expect(verdict(white, caller: "01711000003", callerAfterPlan: "+8801711000003", lists: [vip]) == blacklisted)
    }

    @Test func severalWhiteListsAreOneAndABlackListWins() throws {
        let first = try numberList("first", .white, .caller, ["1001"])
        let second = try numberList("second", .white, .caller, ["1002"])
        let fraud = try numberList("fraud", .black, .caller, ["1002"])
        let gateway = customer { $0.listGroups = ["first", "second"] }
        #expect(verdict(gateway, caller: "1001", lists: [first, second]) == nil)
        #expect(verdict(gateway, caller: "1002", lists: [first, second]) == nil)
        #expect(verdict(gateway, caller: "1003", lists: [first, second]) == blacklisted)
        let both = customer { $0.listGroups = ["first", "second", "fraud"] }
        #expect(verdict(both, caller: "1002", lists: [first, second, fraud]) == blacklisted)
        let empty = try numberList("empty", .white, .caller, [])
        #expect(verdict(customer { $0.listGroups = ["empty"] }, caller: "1001", lists: [empty]) == blacklisted,
                "an empty white list lets nobody through")
    }

    @Test func filtersTakePrefixesAndNumberGroups() {
        let mobile = NumberGroup(name: "uk-mobile", prefixes: ["447", "4475555"])
        let premium = NumberGroup(name: "premium", prefixes: ["449", "4470"])
        let gateway = customer {
            $0.calleeFilter = PrefixFilter(allow: ["33"], allowGroups: ["uk-mobile"], denyGroups: ["premium"])
            $0.callerFilter = PrefixFilter(deny: ["1900"])
        }
        let groups = [mobile, premium]
        #expect(verdict(gateway, callee: "447700900123", groups: groups) == nil)
        #expect(verdict(gateway, callee: "33123", groups: groups) == nil)
        #expect(verdict(gateway, callee: "441234567", groups: groups) == blacklisted, "not in the allow group")
        #expect(verdict(gateway, callee: "447012345", groups: groups) == blacklisted, "a deny group beats an allow group")
        #expect(verdict(gateway, caller: "19001", callee: "447700900123", groups: groups) == blacklisted)
        #expect(verdict(gateway, callee: "44", groups: groups) == blacklisted, "shorter than every allow prefix")
        let onlyEmpty = customer { $0.calleeFilter = PrefixFilter(allowGroups: ["nothing"]) }
        #expect(verdict(onlyEmpty, groups: [NumberGroup(name: "nothing")]) == blacklisted, "an allow entry, even an empty group, restricts")
    }

    @Test func missingReferencesFailClosedForWhiteAndOpenForBlack() {
        let gateway = customer {
            $0.listGroups = ["gone"]
            $0.callerFilter = PrefixFilter(denyGroups: ["gone-group"])
        }
        let screening = NumberScreening(mapping: [gateway], routing: [], lists: [], groups: [])
        #expect(screening.missingReferences.count == 2)
        #expect(verdict(gateway) == blacklisted, "the numbers a missing list meant to let through are unknown")
        #expect(NumberScreening(mapping: [customer { _ in }], routing: [], lists: [], groups: []).mapping.isEmpty,
                "a gateway with no filter or list has no screen")
    }

    @Test func aPrefixFilterAllowsThenDenies() {
        var missing: [String] = []
        let filter = CompiledPrefixFilter(PrefixFilter(allow: ["44"], deny: ["449"]), groups: [:], gateway: "g", missing: &missing)
        #expect(filter.permits("4471") && !filter.permits("4491"))
        #expect(!CompiledPrefixFilter(PrefixFilter(allow: ["44"]), groups: [:], gateway: "g", missing: &missing).permits("33"))
        #expect(CompiledPrefixFilter(PrefixFilter(), groups: [:], gateway: "g", missing: &missing).permits("anything"))
        #expect(missing.isEmpty)
    }

    @Test func prefixSetsMatchEveryLength() {
        let set = PrefixSet(["1", "12345678901234567", String(repeating: "8", count: 32)])
        #expect(set.matches("19"))
        #expect(set.matches("123456789012345678"))
        #expect(!set.matches("2123456789012345678"))
        #expect(set.matches(String(repeating: "8", count: 40)))
        #expect(!set.matches(String(repeating: "8", count: 31)))
        #expect(!PrefixSet([]).matches("1"))
        #expect(!set.matches("x1"))
    }
}

/// Routing gateways' filters and lists in route selection, and what the call ends with when
/// they exclude every gateway for the prefix.
@Suite struct NumberScreeningRouteTests {
    func plan(_ gateways: [RoutingGateway], callee: String = "441234567", caller: String = "1000", lists: [NumberList] = [],
              groups: [NumberGroup] = []) -> RoutePlan {
        RoutePlanner.plan(for: callee, caller: caller, among: gateways,
                          screening: NumberScreening(mapping: [], routing: gateways, lists: lists, groups: groups),
                          status: { _ in GatewayStatus() })
    }

    @Test func aVendorWhoseBlackListHoldsTheCalleeIsNoCandidate() throws {
        var first = vendor("first", ["44"], priority: 1)
        first.listGroups = ["fraud"]
        let second = vendor("second", ["44"], priority: 2)
        let fraud = try numberList("fraud", .black, .callee, ["441234567"])
        let route = plan([first, second], lists: [fraud])
        #expect(route.candidates.map(\.gateway.name) == ["second"])
        #expect(route.screenedOut == ["first"] && !route.refusedByScreening)
        #expect(plan([first, second], callee: "441234568", lists: [fraud]).candidates.map(\.gateway.name) == ["first", "second"])
    }

    @Test func everyVendorExcludedByItsListsIsBlacklisted() throws {
        var first = vendor("first", ["44"])
        first.listGroups = ["uk-only"]
        var second = vendor("second", ["4412"])
        second.calleeFilter = PrefixFilter(denyGroups: ["premium"])
        let ukOnly = try numberList("uk-only", .white, .caller, ["+441000"])
        let route = plan([first, second, vendor("france", ["33"])], lists: [ukOnly], groups: [NumberGroup(name: "premium", prefixes: ["4412"])])
        #expect(route.candidates.isEmpty && route.refusedByScreening)
        #expect(Set(route.screenedOut) == ["first", "second"])
        var failover = FailoverPlan(route: route, switchLimit: 5)
        #expect(failover.next(status: { _ in GatewayStatus() }) == .fail(reason: .blacklisted, sipCode: 403))
    }

    @Test func withoutAScreenedVendorItStaysNoAvailableRouter() throws {
        var denied = vendor("denied", ["44"])
        denied.calleeRewrite = try DialPlan(parsing: "44:!", field: "f")
        var listed = vendor("listed", ["44"])
        listed.listGroups = ["fraud"]
        let fraud = try numberList("fraud", .black, .callee, ["441234567"])
        let mixed = plan([denied, listed], lists: [fraud])
        #expect(mixed.candidates.isEmpty && !mixed.refusedByScreening, "a dial-plan deny is not a list")
        var failover = FailoverPlan(route: mixed, switchLimit: 5)
        #expect(failover.next(status: { _ in GatewayStatus() }) == .fail(reason: .noAvailableRouter, sipCode: 503))
        var none = FailoverPlan(route: plan([vendor("fr", ["33"])]), switchLimit: 5)
        #expect(none.next(status: { _ in GatewayStatus() }) == .fail(reason: .noAvailableRouter, sipCode: 503))
    }

    @Test func aVendorsListsJudgeItsOwnDialPlansResultToo() throws {
        var bd = vendor("bd", ["880"])
        bd.callerRewrite = try DialPlan(parsing: "0:+880", field: "f")
        bd.listGroups = ["bd-callers"]
        let callers = try numberList("bd-callers", .white, .caller, ["+8801711000001"])
        #expect(plan([bd], callee: "8801912", caller: "01711000001", lists: [callers]).candidates.map(\.gateway.name) == ["bd"])
        #expect(plan([bd], callee: "8801912", caller: "01711000002", lists: [callers]).refusedByScreening)
    }

    @Test func aVendorsCallerFilterExcludesIt() {
        var strict = vendor("strict", ["44"], priority: 1)
        strict.callerFilter = PrefixFilter(allow: ["44"])
        let relaxed = vendor("relaxed", ["44"], priority: 2)
        #expect(plan([strict, relaxed], caller: "4420").candidates.map(\.gateway.name) == ["strict", "relaxed"])
        #expect(plan([strict, relaxed], caller: "3320").candidates.map(\.gateway.name) == ["relaxed"])
        #expect(RoutePlanner.candidates(for: "441", caller: "3320", among: [strict, relaxed], status: { _ in GatewayStatus() }).count == 2,
                "the planner without screening keeps every gateway")
    }
}
