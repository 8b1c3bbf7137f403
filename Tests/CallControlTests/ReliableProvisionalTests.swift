import SIPCore
import SIPStack
import Testing
import VOSModel

/// RFC 3262 on each leg: vos PRACKs the vendor, sends the customer its own reliable 18x, and
/// never relays a PRACK across.
@Suite struct ReliableProvisionalTests {
    @Test func aVendorsReliableProvisionalIsPRACKedOnceAndRelayedOnce() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)])
        lab.customerInvite()
        let invite = try #require(lab.drain().requests("INVITE").first?.message)
        #expect(invite.supported.contains("100rel"), "vos offers 100rel to vendors by default")
        lab.respond(to: invite, status: 183, reason: "Session Progress", from: CallHarness.vendor(20), sdp: CallHarness.answerSDP,
                    headers: [("Require", "100rel"), ("RSeq", "7")], toTag: "early")
        var out = lab.drain()
        let prack = try #require(out.requests("PRACK").first)
        #expect(prack.to == CallHarness.vendor(20))
        #expect(prack.message.firstHeaderValue("RAck") == "7 1 INVITE")
        #expect(try prack.message.to().tag == "early", "inside the early dialog")
        #expect(prack.message.requestURI?.description == "sip:vendor@198.51.100.20:5060", "to the 18x's Contact")
        #expect(out.responses(183).filter { $0.to == CallHarness.customer }.count == 1)
        #expect(out.responses(183).first?.message.firstHeaderValue("RSeq") == nil, "the customer did not ask for 100rel")

        lab.respond(to: invite, status: 183, reason: "Session Progress", from: CallHarness.vendor(20), sdp: CallHarness.answerSDP,
                    headers: [("Require", "100rel"), ("RSeq", "7")], toTag: "early")
        out = lab.drain()
        #expect(out.requests("PRACK").isEmpty && out.responses(183).isEmpty, "a repeat is neither PRACKed again nor relayed")
        lab.respond(to: prack.message, status: 200, reason: "OK", from: CallHarness.vendor(20))
        lab.respond(to: invite, status: 200, reason: "OK", from: CallHarness.vendor(20), sdp: CallHarness.answerSDP, toTag: "early")
        #expect(lab.drain().responses(200).contains { $0.to == CallHarness.customer })
    }

    @Test func aCustomerThatSupports100relGetsReliableProvisionalsUntilItsPRACK() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)])
        let callID = lab.customerInvite(headers: ["Supported: 100rel"])
        let invite = try #require(lab.drain().requests("INVITE").first?.message)
        lab.respond(to: invite, status: 180, reason: "Ringing", from: CallHarness.vendor(20))
        var out = lab.drain()
        let ringing = try #require(out.responses(180).first { $0.to == CallHarness.customer }?.message)
        #expect(ringing.require.contains("100rel"))
        let rseq = try #require(ringing.firstHeaderValue("RSeq").flatMap { UInt32($0) })
        let tag = try #require(try ringing.to().tag)
        lab.advance(seconds: 1.6)
        #expect(lab.drain().responses(180).count == 2, "retransmitted at T1 and 2*T1 until the PRACK")

        // A second provisional waits for the first one's PRACK.
        lab.respond(to: invite, status: 183, reason: "Session Progress", from: CallHarness.vendor(20), sdp: CallHarness.answerSDP)
        #expect(lab.drain().responses(183).isEmpty)

        lab.customerRequest("PRACK", callID: callID, toTag: tag, sequence: 2, branch: "z9hG4bK-prack-bad", headers: ["RAck: one 1 INVITE"])
        #expect(lab.drain().responses(400).count == 1, "a malformed RAck is 400")
        lab.customerRequest("PRACK", callID: callID, toTag: tag, sequence: 3, branch: "z9hG4bK-prack-wrong", headers: ["RAck: \(rseq &+ 5) 1 INVITE"])
        #expect(lab.drain().responses(481).count == 1, "an RAck for nothing vos sent is 481")
        lab.customerRequest("PRACK", callID: callID, toTag: tag, sequence: 4, branch: "z9hG4bK-prack", headers: ["RAck: \(rseq) 1 INVITE"])
        out = lab.drain()
        #expect(out.responses(200).contains { $0.message.firstHeaderValue("CSeq") == "4 PRACK" })
        #expect(out.requests("PRACK").isEmpty, "the customer's PRACK is not relayed")
        let progress = try #require(out.responses(183).first?.message, "the held 183 goes out now")
        #expect(progress.firstHeaderValue("RSeq") == String(rseq &+ 1))
        lab.advance(seconds: 4)
        #expect(lab.drain().responses(180).isEmpty, "no retransmission after the PRACK")
    }

    @Test func a100relMismatchWithTheMappingGatewayIsRefused() throws {
        let off = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)]) { $0.reliableProvisional = .off }
        off.customerInvite(headers: ["Require: 100rel"])
        let badExtension = try #require(off.drain().finalResponses.first?.message)
        #expect(badExtension.statusCode == 420)
        #expect(badExtension.firstHeaderValue("Unsupported") == "100rel")

        let strict = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)]) { $0.reliableProvisional = .require }
        strict.customerInvite()
        let required = try #require(strict.drain().finalResponses.first?.message)
        #expect(required.statusCode == 421)
        #expect(required.require.contains("100rel"))
    }

    @Test func aVendorSetToRequireIsSentRequire100rel() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20) { $0.reliableProvisional = .require }])
        lab.customerInvite()
        let invite = try #require(lab.drain().requests("INVITE").first?.message)
        #expect(invite.require.contains("100rel"))
    }
}
