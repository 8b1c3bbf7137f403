import SIPCore
import SIPStack
import Testing
import VOSModel

/// RFC 4028 on each leg, in virtual time: negotiation, refreshes vos sends, refreshes it
/// expects, 422 both ways, and the limit for calls with no timer at all.
@Suite struct SessionTimerTests {
    func finalToCustomer(_ out: [(message: SIPMessage, to: SocketAddress)]) -> SIPMessage? {
        out.finalResponses.first { $0.to == CallHarness.customer && $0.message.firstHeaderValue("CSeq")?.hasSuffix("INVITE") == true }?.message
    }

    @Test func anIntervalBelowMinSEIs422AndAMalformedOneIs400() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)])
        lab.customerInvite(headers: ["Supported: timer", "Session-Expires: 60"])
        var out = lab.drain()
        let tooSmall = try #require(finalToCustomer(out))
        #expect(tooSmall.statusCode == 422)
        #expect(tooSmall.firstHeaderValue("Min-SE") == "90")
        #expect(out.requests("INVITE").isEmpty)
        lab.customerInvite(headers: ["Session-Expires: soon"])
        out = lab.drain()
        #expect(finalToCustomer(out)?.statusCode == 400)
        lab.customerInvite(headers: ["Session-Expires: 600", "Min-SE: -1"])
        #expect(finalToCustomer(lab.drain())?.statusCode == 400)
        #expect(lab.ledger.records.isEmpty, "a refused negotiation is no call")
    }

    @Test func vosRefreshesEachLegItsOwnWayAndAFailedRefreshEndsTheCall() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)])
        let callID = lab.customerInvite(headers: ["Supported: timer", "Session-Expires: 1800"])
        var out = lab.drain()
        let invite = try #require(out.requests("INVITE").first?.message)
        #expect(invite.firstHeaderValue("Session-Expires") == "600")
        #expect(invite.firstHeaderValue("Min-SE") == "90")
        #expect(invite.supported.contains("timer"))
        lab.respond(to: invite, status: 200, reason: "OK", from: CallHarness.vendor(20), sdp: CallHarness.answerSDP,
                    headers: [("Session-Expires", "600;refresher=uac"), ("Require", "timer"), ("Allow", "INVITE, ACK, BYE, UPDATE")])
        out = lab.drain()
        let answer = try #require(finalToCustomer(out))
        #expect(answer.firstHeaderValue("Session-Expires") == "600;refresher=uas", "vos shortened 1800 to its TTL and refreshes")
        #expect(answer.require.contains("timer"))
        let tag = try #require(try answer.to().tag)
        lab.customerRequest("ACK", callID: callID, toTag: tag)

        lab.advance(seconds: 299)
        #expect(lab.drain().filter { $0.message.isRequest }.isEmpty)
        lab.advance(seconds: 2)
        out = lab.drain()
        let vendorRefresh = try #require(out.requests("UPDATE").first)
        #expect(vendorRefresh.to == CallHarness.vendor(20), "the vendor allows UPDATE")
        #expect(vendorRefresh.message.firstHeaderValue("Session-Expires") == "600;refresher=uac")
        #expect(vendorRefresh.message.body.isEmpty)
        let customerRefresh = try #require(out.requests("INVITE").first)
        #expect(customerRefresh.to == CallHarness.customer, "the customer did not list UPDATE: re-INVITE")
        #expect(customerRefresh.message.body == answer.body, "the re-INVITE repeats the SDP the customer last got")
        lab.respond(to: vendorRefresh.message, status: 200, reason: "OK", from: CallHarness.vendor(20), headers: [("Session-Expires", "600;refresher=uac")])
        lab.receive(String(decoding: SIPMessage.response(to: customerRefresh.message, status: 200, reason: "OK", toTag: nil).withLength.serialized(), as: UTF8.self),
                    from: CallHarness.customer)
        out = lab.drain()
        #expect(out.requests("ACK").first?.to == CallHarness.customer, "the refresh re-INVITE is acknowledged")

        lab.advance(seconds: 301)
        out = lab.drain()
        let second = try #require(out.requests("UPDATE").first)
        lab.respond(to: second.message, status: 481, reason: "Call/Transaction Does Not Exist", from: CallHarness.vendor(20))
        out = lab.drain()
        #expect(Set(out.requests("BYE").map(\.to)) == [CallHarness.customer, CallHarness.vendor(20)])
        #expect(lab.ledger.records.first?.endReason == .sessionTimeout)
    }

    @Test func aCustomerThatRefreshesKeepsTheCallAndOneThatStopsLosesIt() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)])
        let callID = lab.customerInvite(headers: ["Supported: timer", "Session-Expires: 120;refresher=uac"])
        let invite = try #require(lab.drain().requests("INVITE").first?.message)
        lab.respond(to: invite, status: 200, reason: "OK", from: CallHarness.vendor(20), sdp: CallHarness.answerSDP)
        let answer = try #require(finalToCustomer(lab.drain()))
        #expect(answer.firstHeaderValue("Session-Expires") == "120;refresher=uac")
        let tag = try #require(try answer.to().tag)
        lab.customerRequest("ACK", callID: callID, toTag: tag)

        lab.advance(seconds: 60)
        lab.customerRequest("UPDATE", callID: callID, toTag: tag, sequence: 2, branch: "z9hG4bK-refresh1", headers: ["Session-Expires: 120;refresher=uac"])
        var out = lab.drain()
        let refreshed = try #require(out.responses(200).first { $0.to == CallHarness.customer })
        #expect(refreshed.message.firstHeaderValue("Session-Expires") == "120;refresher=uac")
        #expect(out.requests("UPDATE").isEmpty, "a refresh is answered on its own leg, not relayed")
        // 120 - min(32, 40) = 88 s after the last refresh, vos gives up.
        lab.advance(seconds: 87)
        #expect(lab.drain().requests("BYE").isEmpty)
        lab.advance(seconds: 2)
        out = lab.drain()
        #expect(Set(out.requests("BYE").map(\.to)) == [CallHarness.customer, CallHarness.vendor(20)])
        #expect(lab.ledger.records.first?.endReason == .sessionTimeout)
    }

    @Test func aVendors422IsRetriedWithItsMinSEAndIsNotAFailover() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20, priority: 1), CallHarness.vendor("backup", host: 21, priority: 2)])
        lab.customerInvite()
        let first = try #require(lab.drain().requests("INVITE").first)
        lab.respond(to: first.message, status: 422, reason: "Session Interval Too Small", from: CallHarness.vendor(20), headers: [("Min-SE", "1800")])
        let out = lab.drain()
        let retry = try #require(out.requests("INVITE").first)
        #expect(retry.to == CallHarness.vendor(20), "the same vendor, not the backup")
        #expect(retry.message.firstHeaderValue("Session-Expires") == "1800")
        #expect(retry.message.firstHeaderValue("Min-SE") == "1800", "RFC 4028 §7.4: the retry carries the vendor's Min-SE")
        #expect(retry.message.supported.contains("100rel") && retry.message.supported.contains("timer"), "nothing else of the INVITE is lost")
        #expect(retry.message.body == first.message.body)
        #expect(try retry.message.cseq().sequence == (try first.message.cseq().sequence) + 1)
        #expect(retry.message.callID == first.message.callID)
        #expect(try retry.message.from().tag == (try first.message.from().tag))
        #expect(out.requests("ACK").first?.to == CallHarness.vendor(20), "the 422 itself is acknowledged")
        lab.respond(to: retry.message, status: 200, reason: "OK", from: CallHarness.vendor(20), sdp: CallHarness.answerSDP)
        #expect(finalToCustomer(lab.drain())?.statusCode == 200)
    }

    @Test func withNoTimerOnEitherLegTheCallEndsAtTheNoTimerLimit() throws {
        let lab = try CallHarness(parameters: [.noTimerReinviteInterval: "100"], vendors: [CallHarness.vendor("uk", host: 20)])
        _ = try lab.connect()
        lab.advance(seconds: 99)
        #expect(lab.drain().requests("BYE").isEmpty)
        lab.advance(seconds: 2)
        #expect(Set(lab.drain().requests("BYE").map(\.to)) == [CallHarness.customer, CallHarness.vendor(20)])
        #expect(lab.ledger.records.first?.endReason == .sessionTimeout)
    }

    @Test func aGatewayWithTimersOffIsOfferedNone() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20) { $0.sessionTimer = false }])
        lab.customerInvite()
        let invite = try #require(lab.drain().requests("INVITE").first?.message)
        #expect(invite.firstHeaderValue("Session-Expires") == nil)
        #expect(!invite.supported.contains("timer"))
    }
}

extension SIPMessage {
    var isRequest: Bool { method != nil }
    var withLength: SIPMessage {
        var copy = self
        copy.setHeader("Content-Length", String(body.count))
        return copy
    }
}

@Suite struct GlareTests {
    /// vos's refresh re-INVITE to the customer crosses the customer's own re-INVITE: each side
    /// gets 491, and vos tries again within 0-2 s (the customer owns that Call-ID).
    @Test func aRefreshThatMeetsGlareIsRetriedAndTheCrossingRequestGets491() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)])
        let callID = lab.customerInvite(headers: ["Supported: timer", "Session-Expires: 600"])
        let invite = try #require(lab.drain().requests("INVITE").first?.message)
        lab.respond(to: invite, status: 200, reason: "OK", from: CallHarness.vendor(20), sdp: CallHarness.answerSDP)
        let answer = try #require(lab.drain().responses(200).first { $0.to == CallHarness.customer }?.message)
        let tag = try #require(try answer.to().tag)
        lab.customerRequest("ACK", callID: callID, toTag: tag)
        lab.advance(seconds: 301)
        let refresh = try #require(lab.drain().requests("INVITE").first { $0.to == CallHarness.customer })

        lab.customerRequest("INVITE", callID: callID, toTag: tag, sequence: 5, branch: "z9hG4bK-glare")
        #expect(lab.drain().responses(491).first?.to == CallHarness.customer, "the customer's crossing re-INVITE gets 491")

        lab.receive(String(decoding: SIPMessage.response(to: refresh.message, status: 491, reason: "Request Pending", toTag: nil).withLength.serialized(), as: UTF8.self),
                    from: CallHarness.customer)
        var out = lab.drain()
        #expect(out.requests("BYE").isEmpty, "491 is glare, not a failed refresh")
        #expect(out.requests("ACK").first?.to == CallHarness.customer, "the 491 is acknowledged")
        lab.advance(seconds: 2.1)
        out = lab.drain()
        let retries = Set(out.requests("INVITE").filter { $0.to == CallHarness.customer }.compactMap { try? $0.message.cseq().sequence })
        #expect(retries.count == 1, "the refresh is tried again within 2 s, as a new transaction")
        #expect(retries.first.map { $0 > (try? refresh.message.cseq().sequence) ?? 0 } == true)
        #expect(lab.ledger.records.isEmpty)
    }
}
