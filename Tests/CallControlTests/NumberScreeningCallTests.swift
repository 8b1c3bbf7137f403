import SIPCore
import SIPStack
import Testing
import VOSModel

/// Number lists, number groups and prefix filters on calls through the B2BUA (virtual time): the
/// response the customer gets, where the INVITE goes and the CDR row.
@Suite struct NumberScreeningCallTests {
    static func list(_ name: String, _ kind: NumberList.Kind, _ target: NumberList.Target, _ numbers: [String]) throws -> NumberList {
        NumberList(name: name, kind: kind, target: target, numbers: try NumberSet(validating: numbers, field: "number"))
    }

    func finalToCustomer(_ out: [(message: SIPMessage, to: SocketAddress)]) -> SIPMessage? {
        out.finalResponses.first { $0.to == CallHarness.customer && $0.message.firstHeaderValue("CSeq")?.hasSuffix("INVITE") == true }?.message
    }

    @Test func aVendorWhoseBlackListHoldsTheCalleeIsPassedForTheNext() throws {
        let fraud = try Self.list("fraud", .black, .callee, ["441234567"])
        let lab = try CallHarness(vendors: [CallHarness.vendor("first", host: 20, priority: 1) { $0.listGroups = ["fraud"] },
                                            CallHarness.vendor("second", host: 21, priority: 2)],
                                  numberLists: [fraud])
        let call = try lab.connect(vendor: CallHarness.vendor(21))
        #expect(call.vendorInvite.requestURI?.user == "441234567")
        lab.customerRequest("BYE", callID: call.callID, toTag: call.customerTag, sequence: 2)
        let record = try #require(lab.ledger.records.first)
        #expect(record.attempts.map(\.gateway) == ["second"], "the listed vendor was never tried")
        #expect(record.endReason == .callerHangup)

        lab.customerInvite("441234568")
        #expect(lab.drain().requests("INVITE").first?.to == CallHarness.vendor(20), "other numbers still go to the first vendor")
    }

    @Test func everyVendorRefusingTheNumbersIsBlacklisted() throws {
        let fraud = try Self.list("fraud", .black, .callee, ["441234567"])
        let premium = NumberGroup(name: "premium", prefixes: ["4412"])
        let lab = try CallHarness(vendors: [CallHarness.vendor("first", host: 20) { $0.listGroups = ["fraud"] },
                                            CallHarness.vendor("second", host: 21) { $0.calleeFilter = PrefixFilter(denyGroups: ["premium"]) },
                                            CallHarness.vendor("france", host: 22, prefix: "33")],
                                  numberLists: [fraud], numberGroups: [premium])
        lab.customerInvite("441234567")
        let out = lab.drain()
        #expect(out.requests("INVITE").isEmpty, "no vendor is tried")
        #expect(finalToCustomer(out)?.statusCode == 403)
        let record = try #require(lab.ledger.records.first)
        #expect(record.endReason == .blacklisted && record.sipCode == 403)

        lab.customerInvite("3312345")
        #expect(lab.drain().requests("INVITE").first?.to == CallHarness.vendor(22))
        lab.customerInvite("4912345")
        #expect(finalToCustomer(lab.drain())?.statusCode == 503)
        #expect(lab.ledger.records.last?.endReason == .noAvailableRouter, "no vendor has the prefix: not a list's doing")
    }

    @Test func aWhiteListedCustomerReachesOnlyItsNumbers() throws {
        let allowed = try Self.list("allowed", .white, .callee, ["441234567"])
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)], numberLists: [allowed]) { $0.listGroups = ["allowed"] }
        lab.customerInvite("441234568")
        let refused = lab.drain()
        #expect(refused.requests("INVITE").isEmpty)
        #expect(finalToCustomer(refused)?.statusCode == 403)
        #expect(lab.ledger.records.first?.endReason == .blacklisted)
        lab.customerInvite("441234567")
        #expect(lab.drain().requests("INVITE").count == 1)
    }

    @Test func aCustomersCallerListJudgesTheCallerAfterItsDialPlanToo() throws {
        let fraud = try Self.list("fraud", .black, .caller, ["+8801000"])
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)], numberLists: [fraud]) {
            $0.listGroups = ["fraud"]
            $0.callerRewrite = (try? DialPlan(parsing: ":+880", field: "f")) ?? DialPlan()
        }
        lab.customerInvite()
        #expect(finalToCustomer(lab.drain())?.statusCode == 403, "the customer's caller 1000 becomes +8801000")
        #expect(lab.ledger.records.first?.endReason == .blacklisted)
    }
}
