import MediaControl
import SIPCore
import SIPStack
import Testing
import VOSModel

/// Call setup, failover and the timers around it, in virtual time.
@Suite struct CallSetupTests {
    @Test func aCallConnectsAndEachSideSeesTheAddressFacingIt() throws {
        let lab = try CallHarness(parameters: [.mediaProxyMode: "3"], vendors: [CallHarness.vendor("uk", host: 20)])
        let callID = lab.customerInvite()
        var out = lab.drain()
        #expect(out.responses(100).count == 1)
        let invite = try #require(out.requests("INVITE").first)
        #expect(invite.to == CallHarness.vendor(20))
        #expect(try invite.message.topVia().host == "198.51.100.1")
        #expect(invite.message.firstHeaderValue("Contact") == "<sip:vos@198.51.100.1:5060>")
        let offer = try SDPSession(parsing: invite.message.body)
        #expect(offer.connection?.address == "198.51.100.1", "the vendor is offered the relay on its own network")

        lab.respond(to: invite.message, status: 180, reason: "Ringing", from: CallHarness.vendor(20))
        lab.respond(to: invite.message, status: 200, reason: "OK", from: CallHarness.vendor(20), sdp: CallHarness.answerSDP)
        out = lab.drain()
        let answer = try #require(out.responses(200).first { $0.to == CallHarness.customer })
        #expect(answer.message.firstHeaderValue("Contact") == "<sip:vos@192.0.2.1:5060>")
        #expect(try SDPSession(parsing: answer.message.body).connection?.address == "192.0.2.1")
        #expect(out.requests("ACK").first?.to == CallHarness.vendor(20))

        let toTag = try #require(try answer.message.to().tag)
        lab.customerRequest("ACK", callID: callID, toTag: toTag)
        lab.advance(seconds: 30)
        lab.customerRequest("BYE", callID: callID, toTag: toTag)
        out = lab.drain()
        #expect(out.responses(200).contains { $0.to == CallHarness.customer && $0.message.firstHeaderValue("CSeq")?.hasSuffix("BYE") == true })
        let bye = try #require(out.requests("BYE").first)
        #expect(bye.to == CallHarness.vendor(20))
        #expect(try bye.message.topVia().host == "198.51.100.1")
        let record = try #require(lab.ledger.records.first)
        #expect(record.endReason == .callerHangup)
        #expect(record.answerTime.map { record.endTime - $0 } == 30_000, "the CDR's duration is the virtual 30 s")
        #expect(lab.media.deleted == ["s1"])
    }

    @Test func aSilentVendorTimesOutAndTheNextOneIsTried() throws {
        let lab = try CallHarness(parameters: [.sipTimeoutInvite: "3"],
                                  vendors: [CallHarness.vendor("silent", host: 20, priority: 1), CallHarness.vendor("backup", host: 21, priority: 2)])
        lab.customerInvite()
        let first = lab.drain().requests("INVITE")
        #expect(first.map(\.to) == [CallHarness.vendor(20)], "the first-priority vendor is tried first")
        lab.advance(seconds: 2.9)
        #expect(lab.drain().requests("INVITE").allSatisfy { $0.to == CallHarness.vendor(20) }, "only retransmissions before the timeout")
        lab.advance(seconds: 0.2)
        let second = lab.drain().requests("INVITE")
        #expect(second.map(\.to) == [CallHarness.vendor(21)], "after SS_SIP_TIMEOUT_INVITE the next vendor gets the call")
        let invite = try #require(second.first)
        lab.respond(to: invite.message, status: 486, reason: "Busy Here", from: CallHarness.vendor(21))
        let final = try #require(lab.drain().finalResponses.first { $0.to == CallHarness.customer })
        #expect(final.message.statusCode == 486)
        let record = try #require(lab.ledger.records.first)
        #expect(record.attempts.map(\.gateway) == ["silent", "backup"])
        #expect(record.attempts.first?.sipCode == nil)
    }

    @Test func aSilentLastVendorEndsTheCallWith408InviteTimeout() throws {
        let lab = try CallHarness(parameters: [.sipTimeoutInvite: "2"], vendors: [CallHarness.vendor("silent", host: 20)])
        lab.customerInvite()
        _ = lab.drain()
        lab.advance(seconds: 2.5)
        let final = try #require(lab.drain().finalResponses.first { $0.to == CallHarness.customer })
        #expect(final.message.statusCode == 408)
        #expect(lab.ledger.records.first?.endReason == .inviteTimeout)
    }

    @Test func aVendorThatRingsTooLongIsCancelledAndTheCallEndsRingingTimeout() throws {
        let lab = try CallHarness(parameters: [.sipTimeoutRinging: "20"], vendors: [CallHarness.vendor("slow", host: 20)])
        lab.customerInvite()
        let invite = try #require(lab.drain().requests("INVITE").first)
        lab.respond(to: invite.message, status: 180, reason: "Ringing", from: CallHarness.vendor(20))
        #expect(lab.drain().responses(180).count == 1)
        lab.advance(seconds: 19)
        #expect(lab.drain().requests("CANCEL").isEmpty)
        lab.advance(seconds: 1.5)
        let atTimeout = lab.drain()
        let cancel = try #require(atTimeout.requests("CANCEL").first)
        #expect(cancel.to == CallHarness.vendor(20))
        // No other vendor: the caller is told at once, not after the vendor's 487.
        let final = try #require(atTimeout.finalResponses.first { $0.to == CallHarness.customer })
        #expect(final.message.statusCode == 408)
        lab.respond(to: cancel.message, status: 200, reason: "OK", from: CallHarness.vendor(20))
        lab.respond(to: invite.message, status: 487, reason: "Request Terminated", from: CallHarness.vendor(20))
        #expect(lab.drain().finalResponses.filter { $0.to == CallHarness.customer }.isEmpty, "the 487 is absorbed")
        #expect(lab.ledger.records.first?.endReason == .ringingTimeout)
    }
}

/// Offers outside the INVITE (RFC 3261 §13.2.1): the answer rides on the ACK.
@Suite struct DelayedOfferTests {
    @Test func aDelayedOfferIsRelayedBothWaysWithTheAnswerInTheVendorsAck() throws {
        let lab = try CallHarness(parameters: [.mediaProxyMode: "3"], vendors: [CallHarness.vendor("uk", host: 20)])
        let callID = lab.customerInvite(sdp: nil)
        var out = lab.drain()
        let invite = try #require(out.requests("INVITE").first?.message)
        #expect(invite.body.isEmpty, "no offer to forward")
        #expect(lab.media.created == ["s1"], "the relay is set up even without an offer")

        lab.respond(to: invite, status: 200, reason: "OK", from: CallHarness.vendor(20), sdp: CallHarness.answerSDP)
        out = lab.drain()
        #expect(out.requests("ACK").isEmpty, "the vendor's ACK waits for the customer's answer")
        let answer = try #require(out.responses(200).first { $0.to == CallHarness.customer }?.message)
        let offerToCustomer = try SDPSession(parsing: answer.body)
        #expect(offerToCustomer.connection?.address == "192.0.2.1", "the vendor's offer reaches the customer pointed at the relay")
        #expect(lab.media.remotes.contains { $0.leg == 1 && $0.remote == MediaEndpoint(ip: "198.51.100.20", port: 50000) })

        // The vendor retransmits its 2xx meanwhile: still no ACK without the answer.
        lab.respond(to: invite, status: 200, reason: "OK", from: CallHarness.vendor(20), sdp: CallHarness.answerSDP)
        #expect(lab.drain().requests("ACK").isEmpty)

        let tag = try #require(try answer.to().tag)
        lab.customerRequest("ACK", callID: callID, toTag: tag, branch: "z9hG4bK-ack-delayed", sdp: CallHarness.offer)
        out = lab.drain()
        let ack = try #require(out.requests("ACK").first)
        #expect(ack.to == CallHarness.vendor(20))
        let answerToVendor = try SDPSession(parsing: ack.message.body)
        #expect(answerToVendor.connection?.address == "198.51.100.1", "the customer's answer reaches the vendor pointed at the relay")
        #expect(lab.media.remotes.contains { $0.leg == 0 && $0.remote == MediaEndpoint(ip: "192.0.2.10", port: 40000) })

        // A late 2xx retransmission gets the same ACK again, answer included.
        lab.respond(to: invite, status: 200, reason: "OK", from: CallHarness.vendor(20), sdp: CallHarness.answerSDP)
        #expect(lab.drain().requests("ACK").first?.message.body == ack.message.body)
    }

    @Test func aCustomerThatNeverAnswersTheOfferLeavesTheVendorAcknowledgedThenHungUp() throws {
        let lab = try CallHarness(parameters: [.mediaProxyMode: "3"], vendors: [CallHarness.vendor("uk", host: 20)])
        lab.customerInvite(sdp: nil)
        let invite = try #require(lab.drain().requests("INVITE").first?.message)
        lab.respond(to: invite, status: 200, reason: "OK", from: CallHarness.vendor(20), sdp: CallHarness.answerSDP)
        _ = lab.drain()
        lab.advance(seconds: 36)
        let out = lab.drain()
        let toVendor = out.filter { $0.to == CallHarness.vendor(20) }.compactMap(\.message.method)
        #expect(toVendor.first == "ACK" && toVendor.contains("BYE"), "ACK before BYE: \(toVendor)")
        #expect(lab.ledger.records.first?.endReason == .ackTimeout)
    }
}

@Suite struct RetransmissionTests {
    /// Our ACK was lost: the vendor repeats its 2xx and gets the ACK again; the call stays up.
    @Test func aRepeated2xxFromTheVendorIsAcknowledgedAndNeverHangsUp() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)])
        let call = try lab.connect()
        _ = lab.drain()
        lab.respond(to: call.vendorInvite, status: 200, reason: "OK", from: CallHarness.vendor(20), sdp: CallHarness.answerSDP)
        let out = lab.drain()
        #expect(out.requests("ACK").map(\.to) == [CallHarness.vendor(20)])
        #expect(out.requests("BYE").isEmpty, "a retransmitted 2xx must not end the vendor leg")
        #expect(lab.ledger.records.isEmpty)
    }
}

extension DelayedOfferTests {
    @Test func anOfferlessReinviteCarriesTheAnswerInTheAcks() throws {
        let lab = try CallHarness(parameters: [.mediaProxyMode: "3"], vendors: [CallHarness.vendor("uk", host: 20)])
        let call = try lab.connect()
        _ = lab.drain()
        lab.customerRequest("INVITE", callID: call.callID, toTag: call.customerTag, sequence: 2, branch: "z9hG4bK-reinvite")
        var out = lab.drain()
        let reinvite = try #require(out.requests("INVITE").first { $0.to == CallHarness.vendor(20) }?.message)
        #expect(reinvite.body.isEmpty)
        lab.respond(to: reinvite, status: 200, reason: "OK", from: CallHarness.vendor(20), sdp: CallHarness.answerSDP)
        out = lab.drain()
        #expect(out.requests("ACK").isEmpty, "the vendor's ACK waits for the customer's answer")
        let offer = try #require(out.responses(200).first { $0.to == CallHarness.customer }?.message)
        #expect(try SDPSession(parsing: offer.body).connection?.address == "192.0.2.1")
        lab.customerRequest("ACK", callID: call.callID, toTag: call.customerTag, acknowledging: 2, branch: "z9hG4bK-reack", sdp: CallHarness.offer)
        out = lab.drain()
        let ack = try #require(out.requests("ACK").first)
        #expect(ack.to == CallHarness.vendor(20))
        #expect(try SDPSession(parsing: ack.message.body).connection?.address == "198.51.100.1")
        #expect(try ack.message.cseq().sequence == (try reinvite.cseq().sequence))
    }
}

extension DelayedOfferTests {
    /// RFC 3311: an UPDATE with a new offer before the call is answered crosses the early dialogs.
    @Test func anEarlyUpdateReachesTheVendorsEarlyDialogPointedAtTheRelay() throws {
        let lab = try CallHarness(parameters: [.mediaProxyMode: "3"], vendors: [CallHarness.vendor("uk", host: 20)])
        let callID = lab.customerInvite()
        let invite = try #require(lab.drain().requests("INVITE").first?.message)
        lab.respond(to: invite, status: 183, reason: "Session Progress", from: CallHarness.vendor(20), sdp: CallHarness.answerSDP, toTag: "early")
        let progress = try #require(lab.drain().responses(183).first?.message)
        let tag = try #require(try progress.to().tag)
        lab.customerRequest("UPDATE", callID: callID, toTag: tag, sequence: 2, branch: "z9hG4bK-early-update", sdp: CallHarness.offer)
        var out = lab.drain()
        let update = try #require(out.requests("UPDATE").first)
        #expect(update.to == CallHarness.vendor(20))
        #expect(try update.message.to().tag == "early")
        #expect(try SDPSession(parsing: update.message.body).connection?.address == "198.51.100.1")
        lab.respond(to: update.message, status: 200, reason: "OK", from: CallHarness.vendor(20), sdp: CallHarness.answerSDP, toTag: "early")
        out = lab.drain()
        let answered = try #require(out.responses(200).first { $0.to == CallHarness.customer && $0.message.firstHeaderValue("CSeq") == "2 UPDATE" }?.message)
        #expect(try SDPSession(parsing: answered.body).connection?.address == "192.0.2.1")
    }
}
