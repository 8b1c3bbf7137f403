import Foundation
import Testing
@testable import SIPCore

private let basicInvite = """
    INVITE sip:bob@example.com SIP/2.0\r
    v: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa;rport\r
    Via: SIP/2.0/TCP proxy.example.com;branch=z9hG4bKb, SIP/2.0/UDP [2001:db8::1]:5070;branch=z9hG4bKc\r
    f: "Alice \\"A\\"" <sip:alice@example.com>;tag=1\r
    t: Bob <sip:bob@example.com>\r
    i: abc@192.0.2.1\r
    CSeq: 7 INVITE\r
    Max-Forwards: 70\r
    m: <sip:alice@192.0.2.1:5060;transport=udp>;expires=60\r
    Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r
    Route: <sip:p3.example.com;lr>\r
    k: timer, 100rel\r
    Supported: replaces\r
    Require: timer\r
    x: 1800;refresher=uac\r
    Min-SE: 90\r
    User-Agent: vos test\r
    Expires: 120\r
    Reason: Q.850;cause=16\r
    l: 0\r
    \r

    """

@Suite struct HeaderTests {
    @Test func compactAndLongNamesAreTheSameHeader() throws {
        let message = try SIPMessage(parsing: utf8(basicInvite))
        #expect(message.headerValues("VIA").count == 2)
        #expect(message.headerValues("v") == message.headerValues("via"))
        #expect(message.firstHeaderValue("call-id") == "abc@192.0.2.1")
        #expect(message.callID == "abc@192.0.2.1")
        #expect(message.contentLength == 0)
        #expect(message.headers[0].name == "v") // original spelling kept
    }

    @Test func typedAccessors() throws {
        let message = try SIPMessage(parsing: utf8(basicInvite))
        let vias = try message.vias()
        #expect(vias.count == 3)
        #expect(vias[0].port == 5060)
        #expect(vias[0].hasRport && vias[0].rport == nil)
        #expect(vias[0].hasMagicCookieBranch)
        #expect(vias[2].host == "[2001:db8::1]")
        #expect(vias[2].port == 5070)
        let from = try message.from()
        #expect(from.displayName == "Alice \"A\"")
        #expect(from.tag == "1")
        #expect(try message.to().displayName == "Bob")
        #expect(try message.to().tag == nil)
        #expect(try message.cseq() == SIPCSeq(sequence: 7, method: "INVITE"))
        #expect(message.maxForwards == 70)
        let contact = try #require(try message.contacts().first)
        #expect(contact.uri.parameters["transport"] == "udp")
        #expect(contact.parameters["expires"] == "60")
        #expect(try message.recordRoutes().map(\.uri.host) == ["p1.example.com", "p2.example.com"])
        #expect(try message.routes().first?.uri.parameters.contains("lr") == true)
        #expect(message.supported == ["timer", "100rel", "replaces"])
        #expect(message.require == ["timer"])
        #expect(message.sessionExpires?.seconds == 1800)
        #expect(message.sessionExpires?.parameters["refresher"] == "uac")
        #expect(message.minSE == 90)
        #expect(message.userAgent == "vos test")
        #expect(message.expires == 120)
        #expect(message.reason == "Q.850;cause=16")
    }

    @Test func wildcardContact() throws {
        let text = basicInvite.replacingOccurrences(
            of: "m: <sip:alice@192.0.2.1:5060;transport=udp>;expires=60", with: "Contact: *")
        let message = try SIPMessage(parsing: utf8(text))
        #expect(message.isWildcardContact)
        #expect(try message.contacts().isEmpty)
    }

    @Test func foldingBecomesSingleSpace() throws {
        let text = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:a@b>\r\n"
            + "From: <sip:c@d>\r\n  ;tag=9\r\nCall-ID: x\r\nCSeq: 1\r\n\tOPTIONS\r\nSubject: one\r\n two\r\n\r\n"
        let message = try SIPMessage(parsing: utf8(text))
        #expect(message.firstHeaderValue("Subject") == "one two")
        #expect(try message.from().tag == "9")
        #expect(try message.cseq().method == "OPTIONS")
    }

    @Test func bareLineFeedsAreTolerated() throws {
        let text = "OPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nTo: <sip:a@b>\n"
            + "From: <sip:c@d>;tag=1\nCall-ID: x\nCSeq: 1 OPTIONS\n\n"
        #expect(try SIPMessage(parsing: utf8(text)).method == "OPTIONS")
    }

    @Test func rejectsBrokenHeaders() {
        let good = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:a@b>\r\n"
            + "From: <sip:c@d>;tag=1\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n"
        let cases = [
            good + "Max-Forwards: 256\r\n\r\n",
            good + "No colon here\r\n\r\n",
            good + "Content-Length: 1\r\nContent-Length: 1\r\n\r\nx",
            good + "Bad Name: x\r\n\r\n",
            good, // no blank line
            good.replacingOccurrences(of: "Call-ID: x\r\n", with: "") + "\r\n",
            good.replacingOccurrences(of: "<sip:a@b>", with: "<sip:a@b") + "\r\n",
            good + "Expires: 4294967296\r\n\r\n",
        ]
        for text in cases {
            #expect(throws: SIPParseError.self) { try SIPMessage(parsing: utf8(text)) }
        }
    }

    @Test func invalidUTF8IsRejected() {
        var bytes = utf8("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:a@b>\r\n"
            + "From: <sip:c@d>;tag=1\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nSubject: ")
        bytes += [0xC3, 0x28]
        bytes += utf8("\r\n\r\n")
        #expect(throws: SIPParseError.self) { try SIPMessage(parsing: bytes) }
    }
}
