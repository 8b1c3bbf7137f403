import Softswitch
import Testing
import VOSModel

@Suite struct AdmissionDecisionTests {
    let gateway: MappingGateway = {
        var gateway = MappingGateway(name: "acme", ips: [])
        gateway.concurrentLimit = 2
        gateway.calleeFilter = PrefixFilter(deny: ["4490"])
        gateway.listGroups = ["fraud"]
        return gateway
    }()

    func call(_ gateway: MappingGateway, caller: String = "1000", callee: String = "4420", active: Int = 0) -> Admission.Call {
        Admission.Call(gateway: gateway, caller: caller, calleeReceived: callee, callee: callee, activeCalls: active)
    }

    static let fraud = NumberList(name: "fraud", kind: .black, target: .caller, numbers: NumberSet(unordered: [PackedNumber("666")].compactMap { $0 }))

    func refusal(_ call: Admission.Call, lists: [NumberList] = [fraud], global: Admission.RateCheck = .admitted,
                 perGateway: Admission.RateCheck = .admitted) -> Admission.Refusal? {
        let screening = NumberScreening(mapping: [call.gateway], routing: [], lists: lists, groups: [])
        return Admission.refusal(call, screen: screening.mapping[call.gateway.name], globalCPS: { global }, gatewayCPS: { perGateway })
    }

    @Test func eachCheckGivesItsEndReasonInOrder() throws {
        var off = gateway
        off.enabled = false
        #expect(refusal(call(off), global: .exceeded(retryAfter: 1)) == Admission.Refusal(reason: .unauthorizedSource, code: 403))
        #expect(refusal(call(gateway), global: .exceeded(retryAfter: 2)) == Admission.Refusal(reason: .rateLimited, code: 503, retryAfter: 2))
        #expect(refusal(call(gateway), perGateway: .exceeded(retryAfter: 1)) == Admission.Refusal(reason: .rateLimited, code: 503, retryAfter: 1))
        #expect(refusal(call(gateway, active: 2)) == Admission.Refusal(reason: .concurrentLimit, code: 503, retryAfter: 5))
        #expect(refusal(call(gateway, callee: "449012")) == Admission.Refusal(reason: .blacklisted, code: 403))
        #expect(refusal(call(gateway, caller: "666")) == Admission.Refusal(reason: .blacklisted, code: 403))
        #expect(refusal(call(gateway, callee: "666")) == nil, "a caller list does not judge callees")
        #expect(refusal(call(gateway, active: 1)) == nil)
    }

    @Test func aRefusedCallTakesNoTokenItDidNotNeed() {
        var off = gateway
        off.enabled = false
        var asked = 0
        _ = Admission.refusal(call(off), screen: nil, globalCPS: { asked += 1; return .admitted }, gatewayCPS: { asked += 1; return .admitted })
        #expect(asked == 0)
        _ = Admission.refusal(call(gateway), screen: nil, globalCPS: { asked += 1; return .exceeded(retryAfter: 1) }, gatewayCPS: { asked += 10; return .admitted })
        #expect(asked == 1, "a call over the global rate does not spend the gateway's token")
    }
}
