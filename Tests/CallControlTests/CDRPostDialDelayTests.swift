import SIPStack
import Testing
import VOSModel

/// The post-dial delay the B2BUA writes into each CDR (docs/REPORTS.md): INVITE to the first
/// 180/183, or to the answer when the vendor sent neither; none when the call never rang.
@Suite struct CDRPostDialDelayTests {
    @Test func ringingAfterOneAndAHalfSecondsIsThePDD() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)])
        lab.customerInvite()
        let invite = try #require(lab.drain().requests("INVITE").first)
        lab.advance(seconds: 1.5)
        lab.respond(to: invite.message, status: 183, reason: "Session Progress", from: CallHarness.vendor(20))
        lab.advance(seconds: 4)
        lab.respond(to: invite.message, status: 180, reason: "Ringing", from: CallHarness.vendor(20))
        lab.advance(seconds: 2)
        lab.respond(to: invite.message, status: 486, reason: "Busy Here", from: CallHarness.vendor(20))
        _ = lab.drain()
        let record = try #require(lab.ledger.records.first)
        #expect(record.sipCode == 486)
        #expect(record.postDialDelayMilliseconds == 1500, "the first 18x counts, not the later 180")
    }

    @Test func anAnswerWithoutRingingIsThePDD() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)])
        let callID = lab.customerInvite()
        let invite = try #require(lab.drain().requests("INVITE").first)
        lab.advance(seconds: 2)
        lab.respond(to: invite.message, status: 200, reason: "OK", from: CallHarness.vendor(20), sdp: CallHarness.answerSDP)
        let answer = try #require(lab.drain().responses(200).first { $0.to == CallHarness.customer })
        let toTag = try #require(try answer.message.to().tag)
        lab.customerRequest("ACK", callID: callID, toTag: toTag)
        lab.advance(seconds: 10)
        lab.customerRequest("BYE", callID: callID, toTag: toTag)
        _ = lab.drain()
        let record = try #require(lab.ledger.records.first)
        #expect(record.answerTime != nil)
        #expect(record.postDialDelayMilliseconds == 2000)
    }

    @Test func aCallThatNeverRangHasNoPDD() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)])
        lab.customerInvite()
        let invite = try #require(lab.drain().requests("INVITE").first)
        lab.advance(seconds: 1)
        lab.respond(to: invite.message, status: 503, reason: "Service Unavailable", from: CallHarness.vendor(20))
        _ = lab.drain()
        let record = try #require(lab.ledger.records.first)
        #expect(record.endReason == .vendorFailure)
        #expect(record.postDialDelayMilliseconds == nil)
    }
}
