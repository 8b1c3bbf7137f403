import SIPCore
import SIPStack
import Testing
import VOSModel

/// Caller identity, dial plans and caller number pools as vendors and CDRs see them.
@Suite struct CallerIdentityCallTests {
    static let assertedHeaders = ["P-Asserted-Identity: <sip:+15550001111@192.0.2.10>", "Privacy: id"]

    @Test func anUntrustedCustomersOwnIdentityNeverReachesTheVendor() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)])
        lab.customerInvite(headers: Self.assertedHeaders)
        let invite = try #require(lab.drain().requests("INVITE").first?.message)
        #expect(invite.headerValues("P-Asserted-Identity").isEmpty, "passthrough, but the customer is not trusted")
        #expect(invite.headerValues("Privacy").isEmpty, "Privacy is not supported on this mapping gateway")
    }

    @Test func aTrustedCustomersIdentityPassesAndCallerModeBuildsOne() throws {
        let trusted = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)]) {
            $0.trustedIdentity = true
            $0.supportPrivacy = true
        }
        trusted.customerInvite(headers: Self.assertedHeaders)
        let passed = try #require(trusted.drain().requests("INVITE").first?.message)
        #expect(passed.headerValues("P-Asserted-Identity") == ["<sip:+15550001111@192.0.2.10>"])
        #expect(passed.headerValues("Privacy") == ["id"])

        let building = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20) {
            $0.pAssertedIdentity = .caller
            $0.privacy = .id
            $0.pPreferredIdentity = .caller
        }])
        building.customerInvite()
        let built = try #require(building.drain().requests("INVITE").first?.message)
        #expect(built.headerValues("P-Asserted-Identity") == ["<sip:1000@198.51.100.1>"])
        #expect(built.headerValues("P-Preferred-Identity") == ["<sip:1000@198.51.100.1>"])
        #expect(built.headerValues("Privacy") == ["id"])
    }

    @Test func theCallerCanComeFromPAI() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)]) { $0.callerNumberSource = .pai }
        lab.customerInvite(headers: Self.assertedHeaders)
        let invite = try #require(lab.drain().requests("INVITE").first?.message)
        #expect(try invite.from().uri.decodedUser == "+15550001111")
    }

    @Test func dialPlansRewriteBothNumbersAndADenyIsRefusedWithACDR() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20) {
            $0.calleeRewrite = (try? DialPlan(parsing: "44:0044", field: "callee rewrite")) ?? DialPlan()
            $0.callerRewrite = (try? DialPlan(parsing: ":+", field: "caller rewrite")) ?? DialPlan()
        }]) { $0.calleeRewrite = (try? DialPlan(parsing: "4490:!", field: "callee rewrite")) ?? DialPlan() }
        lab.customerInvite("441234567")
        let invite = try #require(lab.drain().requests("INVITE").first?.message)
        #expect(invite.requestURI?.decodedUser == "00441234567")
        #expect(try invite.from().uri.decodedUser == "+1000")

        lab.customerInvite("449012345")
        let out = lab.drain()
        #expect(out.requests("INVITE").isEmpty)
        #expect(out.finalResponses.first { $0.to == CallHarness.customer }?.message.statusCode == 403)
        #expect(lab.ledger.records.first?.endReason == .dialPlanDenied)
        #expect(lab.ledger.records.first?.calleeReceived == "449012345")
    }

    @Test func aCallerPoolHandsOutNumbersWithinMultiplexesThen503() throws {
        let lab = try CallHarness(parameters: [.forwardSignalRewriteSequence: "1"], vendors: [CallHarness.vendor("uk", host: 20) {
            $0.callerPool = CallerNumberPool(numbers: ["8801700000001", "8801700000002"], multiplexes: 1)
            $0.pAssertedIdentity = .caller
        }])
        var callers: [String] = []
        for _ in 0..<2 {
            lab.customerInvite()
            let invite = try #require(lab.drain().requests("INVITE").first?.message)
            callers.append(try invite.from().uri.decodedUser ?? "")
            #expect(invite.headerValues("P-Asserted-Identity").first?.contains(callers.last ?? "-") == true)
        }
        #expect(callers == ["8801700000001", "8801700000002"], "round robin over the pool")
        lab.customerInvite()
        let refused = lab.drain()
        #expect(refused.requests("INVITE").isEmpty)
        #expect(refused.finalResponses.first { $0.to == CallHarness.customer }?.message.statusCode == 503)
        #expect(lab.ledger.records.last?.endReason == .callerPoolExhausted)
    }

    @Test func aMappingGatewaysConversationLimitEndsTheCall() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20) { $0.conversationLimit = 600 }]) { $0.conversationLimit = 30 }
        _ = try lab.connect()
        lab.advance(seconds: 31)
        #expect(Set(lab.drain().requests("BYE").map(\.to)) == [CallHarness.customer, CallHarness.vendor(20)])
        #expect(lab.ledger.records.first?.endReason == .conversationLimit)
    }
}
