@testable import CallControl
import MediaControl
import SIPCore
import Testing
import VOSModel

/// Codec negotiation through the B2BUA (requirements §6): what each vendor is offered, what the
/// caller is answered, what vos-mediad is told to convert, and the 488s.
@Suite struct CodecNegotiationCallTests {
    static func offer(_ formats: String, rtpmaps: [String]) -> String {
        """
        v=0
        o=- 1 1 IN IP4 192.0.2.10
        s=-
        c=IN IP4 192.0.2.10
        t=0 0
        m=audio 40000 RTP/AVP \(formats)
        \(rtpmaps.map { "a=rtpmap:" + $0 }.joined(separator: "\n"))

        """
    }

    static let g729Answer = """
    v=0
    o=- 2 2 IN IP4 198.51.100.20
    s=-
    c=IN IP4 198.51.100.20
    t=0 0
    m=audio 50000 RTP/AVP 18
    a=rtpmap:18 G729/8000
    a=fmtp:18 annexb=no

    """

    static func settings(_ codecs: [Codec], _ mode: CodecSettings.Mode) -> CodecSettings {
        var settings = CodecSettings()
        settings.codecs = codecs
        settings.mode = mode
        return settings
    }

    @Test func aPCMACallerAndAG729VendorAreTranscodedWithEachLegOnItsOwnCodec() throws {
        let vendor = CallHarness.vendor("g729", host: 20) { $0.codecs = Self.settings([.g729], .convert) }
        let lab = try CallHarness(parameters: [.mediaProxyMode: "3"], vendors: [vendor]) { $0.codecs = Self.settings([.pcma], .convert) }
        lab.customerInvite(sdp: Self.offer("8", rtpmaps: ["8 PCMA/8000"]))
        var out = lab.drain()
        let invite = try #require(out.requests("INVITE").first?.message)
        let offered = try #require(try SDPSession(parsing: invite.body).audioFormats)
        #expect(offered.map(\.encoding) == ["G729", "telephone-event"], "the vendor is offered its own codec, not the caller's")
        #expect(offered.first?.payloadType == 18)
        // Both legs' formats are set when the relay session is made, before the INVITE: no early
        // packet can cross in the wrong codec.
        let created = try #require(lab.media.createdFormats.first ?? nil)
        #expect(created.map(\.codec) == ["PCMA", "G729"])

        lab.respond(to: invite, status: 200, reason: "OK", from: CallHarness.vendor(20), sdp: Self.g729Answer)
        out = lab.drain()
        let answer = try #require(out.responses(200).first { $0.to == CallHarness.customer }?.message)
        let answered = try #require(try SDPSession(parsing: answer.body).audioFormats)
        #expect(answered.map(\.encoding) == ["PCMA"], "the caller is answered in the codec it offered")
        #expect(lab.media.formats.contains { $0.leg == 0 && $0.media.codec == "PCMA" && $0.media.payloadType == 8 })
        #expect(lab.media.formats.contains { $0.leg == 1 && $0.media.codec == "G729" && $0.media.payloadType == 18 && $0.media.annexB == false })

        let view = try #require(lab.b2bua.callViews().first)
        #expect(view.callerCodec == "PCMA" && view.calleeCodec == "G729")
        #expect(view.callerDTMF == "info" && view.calleeDTMF == "info", "no telephone-event on either side: DTMF goes as SIP INFO, got \(view.callerDTMF ?? "-")/\(view.calleeDTMF ?? "-")")
    }

    @Test func noCommonCodecWithoutConversionIs488CodecMismatchAndNoVendorIsCalled() throws {
        let vendor = CallHarness.vendor("g729", host: 20) { $0.codecs = Self.settings([.g729], .auto) }
        let lab = try CallHarness(parameters: [.mediaProxyMode: "3"], vendors: [vendor]) { $0.codecs = Self.settings([.pcma], .convert) }
        lab.customerInvite(sdp: Self.offer("8", rtpmaps: ["8 PCMA/8000"]))
        let out = lab.drain()
        #expect(out.requests("INVITE").isEmpty, "no vendor gets an INVITE it could not answer")
        #expect(out.responses(488).contains { $0.to == CallHarness.customer })
        let record = try #require(lab.ledger.records.first)
        #expect(record.endReason == .codecMismatch)
        #expect(record.sipCode == 488)
        #expect(record.attempts.first?.reason.contains("no common codec") == true, "\(record.attempts)")
    }

    @Test func aVendorWithoutTheCallersCodecIsSkippedForOneThatHasIt() throws {
        let first = CallHarness.vendor("g729", host: 20, priority: 1) { $0.codecs = Self.settings([.g729], .auto) }
        let second = CallHarness.vendor("pcma", host: 21, priority: 2)
        let lab = try CallHarness(parameters: [.mediaProxyMode: "3"], vendors: [first, second])
        lab.customerInvite(sdp: Self.offer("8", rtpmaps: ["8 PCMA/8000"]))
        let invite = try #require(lab.drain().requests("INVITE").first)
        #expect(invite.to == CallHarness.vendor(21))
        #expect(try SDPSession(parsing: invite.message.body).audioFormats?.first?.encoding == "PCMA")
    }

    @Test func anOfferOfOnlyG723IsRefusedWithTheReasonNamed() throws {
        let lab = try CallHarness(parameters: [.mediaProxyMode: "3"], vendors: [CallHarness.vendor("uk", host: 20)])
        lab.customerInvite(sdp: Self.offer("4", rtpmaps: ["4 G723/8000"]))
        let out = lab.drain()
        #expect(out.requests("INVITE").isEmpty)
        #expect(out.responses(488).contains { $0.to == CallHarness.customer })
        let record = try #require(lab.ledger.records.first)
        #expect(record.endReason == .codecMismatch)
        #expect(record.attempts.first?.reason.contains("G723") == true, "\(record.attempts)")
    }

    @Test func transcodingWithTheRelayOffIsACodecMismatch() throws {
        let vendor = CallHarness.vendor("g729", host: 20) { $0.codecs = Self.settings([.g729], .convert) }
        let lab = try CallHarness(parameters: [.mediaProxyMode: "0"], vendors: [vendor]) { $0.codecs = Self.settings([.pcma], .convert) }
        lab.customerInvite(sdp: Self.offer("8", rtpmaps: ["8 PCMA/8000"]))
        let out = lab.drain()
        #expect(out.requests("INVITE").isEmpty)
        #expect(lab.ledger.records.first?.endReason == .codecMismatch)
        #expect(lab.ledger.records.first?.attempts.first?.reason.contains("needs the media relay") == true)
    }

    @Test func autoMediaModeRelaysACallThatNeedsTranscodingEvenWithoutNAT() throws {
        let vendor = CallHarness.vendor("g729", host: 20) { $0.codecs = Self.settings([.g729], .convert) }
        let lab = try CallHarness(parameters: [.mediaProxyMode: "2"], vendors: [vendor]) { $0.codecs = Self.settings([.pcma], .convert) }
        lab.customerInvite(sdp: Self.offer("8", rtpmaps: ["8 PCMA/8000"]))
        let invite = try #require(lab.drain().requests("INVITE").first?.message)
        #expect(lab.media.created.count == 1, "the caller is not NATed (its SDP address is its signalling source), yet the relay is used")
        #expect(try SDPSession(parsing: invite.body).connection?.address == "198.51.100.1")
    }

    @Test func aSameCodecCallWithMatchingEventsStaysOnThePlainRelay() throws {
        let lab = try CallHarness(parameters: [.mediaProxyMode: "3"], vendors: [CallHarness.vendor("uk", host: 20)])
        lab.customerInvite(sdp: CallHarness.offer)
        let invite = try #require(lab.drain().requests("INVITE").first?.message)
        let answer = CallHarness.answerSDP.replacingOccurrences(of: "RTP/AVP 8\n", with: "RTP/AVP 8 101\n")
            + "a=rtpmap:101 telephone-event/8000\n"
        lab.respond(to: invite, status: 200, reason: "OK", from: CallHarness.vendor(20), sdp: answer)
        _ = lab.drain()
        #expect(lab.media.formats.isEmpty, "nothing to convert: vos-mediad relays (and may offload) the packets untouched")
        let view = try #require(lab.b2bua.callViews().first)
        #expect(view.callerCodec == "PCMA" && view.calleeCodec == "PCMA")
        #expect(view.callerDTMF == "rfc2833" && view.calleeDTMF == "rfc2833", "\(view.callerDTMF ?? "-")/\(view.calleeDTMF ?? "-")")
    }
}
