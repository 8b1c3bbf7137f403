@testable import CallControl
import MediaControl
import SIPCore
import Testing
import VOSModel

/// DTMF across the B2BUA (requirements §6): SIP INFO digits become RFC 4733 events through
/// vos-mediad where the far side takes them, digits vos-mediad reports become SIP INFO, and the
/// first method seen in a direction locks it.
@Suite struct DTMFInterworkingCallTests {
    /// A caller without telephone-event (it sends SIP INFO) and a vendor with it (RFC 2833).
    static let infoCaller = CodecNegotiationCallTests.offer("8", rtpmaps: ["8 PCMA/8000"])
    static let rfc2833Vendor = CallHarness.answerSDP.replacingOccurrences(of: "RTP/AVP 8\n", with: "RTP/AVP 8 101\n")
        + "a=rtpmap:101 telephone-event/8000\na=fmtp:101 0-15\n"

    func infoDigit(_ signal: String, duration: Int = 160) -> String { "Signal=\(signal)\r\nDuration=\(duration)\r\n" }

    @Test func anInfoDigitFromTheCallerIsPlayedAsRFC2833TowardTheVendor() throws {
        let lab = try CallHarness(parameters: [.mediaProxyMode: "3"], vendors: [CallHarness.vendor("uk", host: 20)])
        let call = try lab.connect(offer: Self.infoCaller, answer: Self.rfc2833Vendor)
        _ = lab.drain()
        lab.customerRequest("INFO", callID: call.callID, toTag: call.customerTag, sequence: 3, branch: "z9hG4bK-info1",
                            sdp: infoDigit("5"), contentType: "application/dtmf-relay")
        let out = lab.drain()
        #expect(out.responses(200).contains { $0.to == CallHarness.customer }, "the INFO is answered by vos")
        #expect(out.requests("INFO").isEmpty, "the vendor takes RFC 2833, so no INFO goes to it")
        let played = try #require(lab.media.played.first)
        #expect(played.leg == 1 && played.digits == "5" && played.duration == 160)
        let view = try #require(lab.b2bua.callViews().first)
        #expect(view.callerDTMF == "info" && view.calleeDTMF == "rfc2833")
    }

    @Test func aDigitTheRelayReportsFromTheVendorReachesTheCallerAsInfo() throws {
        let lab = try CallHarness(parameters: [.mediaProxyMode: "3"], vendors: [CallHarness.vendor("uk", host: 20)])
        _ = try lab.connect(offer: Self.infoCaller, answer: Self.rfc2833Vendor)
        _ = lab.drain()
        lab.b2bua.mediaDigit(session: "s1", leg: 1, digit: "7", durationMilliseconds: 120, method: "rfc2833")
        lab.loop.run()
        let info = try #require(lab.drain().requests("INFO").first)
        #expect(info.to == CallHarness.customer)
        #expect(info.message.contentType == "application/dtmf-relay")
        #expect(String(decoding: info.message.body, as: UTF8.self) == "Signal=7\r\nDuration=120\r\n")
    }

    @Test func theFirstMethodInADirectionLocksItAndTheOtherIsDropped() throws {
        let lab = try CallHarness(parameters: [.mediaProxyMode: "3"], vendors: [CallHarness.vendor("uk", host: 20)])
        let call = try lab.connect(offer: Self.infoCaller, answer: Self.rfc2833Vendor)
        _ = lab.drain()
        // The caller's first digit comes by INFO: the direction is INFO's from now on.
        lab.customerRequest("INFO", callID: call.callID, toTag: call.customerTag, sequence: 3, branch: "z9hG4bK-info2",
                            sdp: infoDigit("1"), contentType: "application/dtmf-relay")
        // The same digit also arrives in the caller's media (a phone sending both): dropped.
        lab.b2bua.mediaDigit(session: "s1", leg: 0, digit: "1", durationMilliseconds: 100, method: "inband")
        lab.loop.run()
        let out = lab.drain()
        #expect(lab.media.played.map(\.digits) == ["1"], "the digit reaches the vendor once")
        #expect(out.requests("INFO").isEmpty, "and never a second time as INFO")
    }

    @Test func infoIsRelayedAsItCameWhenBothSidesUseInfo() throws {
        let lab = try CallHarness(parameters: [.mediaProxyMode: "3"], vendors: [CallHarness.vendor("uk", host: 20)])
        let call = try lab.connect(offer: Self.infoCaller, answer: CallHarness.answerSDP)
        _ = lab.drain()
        lab.customerRequest("INFO", callID: call.callID, toTag: call.customerTag, sequence: 3, branch: "z9hG4bK-info3",
                            sdp: infoDigit("9"), contentType: "application/dtmf-relay")
        let info = try #require(lab.drain().requests("INFO").first)
        #expect(info.to == CallHarness.vendor(20))
        #expect(String(decoding: info.message.body, as: UTF8.self).contains("Signal=9"))
        #expect(lab.media.played.isEmpty)
    }

    @Test func aGatewayReceivingOnlyRFC2833IgnoresInfoDigits() throws {
        let lab = try CallHarness(parameters: [.mediaProxyMode: "3"], vendors: [CallHarness.vendor("uk", host: 20)]) {
            $0.dtmf.receive = .rfc2833
        }
        let call = try lab.connect(offer: Self.infoCaller, answer: Self.rfc2833Vendor)
        _ = lab.drain()
        lab.customerRequest("INFO", callID: call.callID, toTag: call.customerTag, sequence: 3, branch: "z9hG4bK-info4",
                            sdp: infoDigit("3"), contentType: "application/dtmf-relay")
        let out = lab.drain()
        #expect(out.responses(200).contains { $0.to == CallHarness.customer })
        #expect(out.requests("INFO").isEmpty && lab.media.played.isEmpty, "receive = RFC 2833 only: INFO digits are ignored")
    }

    @Test func aDigitTheMediaCannotCarryGoesAsInfoAndALockedOneIsDropped() throws {
        let lab = try CallHarness(parameters: [.mediaProxyMode: "3"], vendors: [CallHarness.vendor("uk", host: 20)])
        let call = try lab.connect(offer: Self.infoCaller, answer: Self.rfc2833Vendor)
        _ = lab.drain()
        lab.media.playRefusal = MediaControlFailure(.dtmfNotPlayed, "leg 1 takes neither telephone-events nor tones")
        lab.customerRequest("INFO", callID: call.callID, toTag: call.customerTag, sequence: 3, branch: "z9hG4bK-info5",
                            sdp: infoDigit("4"), contentType: "application/dtmf-relay")
        lab.loop.run()
        let info = try #require(lab.drain().requests("INFO").first, "vos-mediad could not play it: INFO after all")
        #expect(info.to == CallHarness.vendor(20))
        #expect(String(decoding: info.message.body, as: UTF8.self).contains("Signal=4"))

        lab.media.playRefusal = MediaControlFailure(.dtmfDropped, "locked to rfc2833")
        lab.customerRequest("INFO", callID: call.callID, toTag: call.customerTag, sequence: 4, branch: "z9hG4bK-info6",
                            sdp: infoDigit("6"), contentType: "application/dtmf-relay")
        lab.loop.run()
        #expect(lab.drain().requests("INFO").isEmpty, "a dropped digit is not sent at all")
    }
}
