import Testing
@testable import SIPCore

private let invite = utf8("INVITE sip:bob@example.com SIP/2.0\r\n"
    + "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa;rport, SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKz\r\n"
    + "Via: SIP/2.0/TCP proxy.example.com;branch=z9hG4bKb\r\n"
    + "From: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: c1\r\n"
    + "CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContact: <sip:alice@192.0.2.1>\r\nContent-Length: 0\r\n\r\n")

@Suite struct BuilderTests {
    @Test func responseCopiesTransactionHeadersAndAddsToTag() throws {
        let request = try SIPMessage(parsing: invite)
        let response = SIPMessage.response(to: request, status: 180, toTag: "b2b")
        #expect(response.statusCode == 180)
        #expect(response.reasonPhrase == "Ringing")
        #expect(response.headerValues("Via") == request.headerValues("Via"))
        #expect(try response.to().tag == "b2b")
        #expect(response.callID == "c1")
        #expect(try response.cseq() == SIPCSeq(sequence: 1, method: "INVITE"))
        #expect(response.contentLength == 0)
        #expect(!response.hasHeader("Contact"))
        let reparsed = try SIPMessage(parsing: response.serialized())
        #expect(reparsed == response)
    }

    @Test func existingToTagIsKept() throws {
        var request = try SIPMessage(parsing: invite)
        request.setHeader("To", "<sip:bob@example.com>;tag=old")
        let response = SIPMessage.response(to: request, status: 200, toTag: "new")
        #expect(try response.to().tag == "old")
    }

    @Test func viaEditing() throws {
        var message = try SIPMessage(parsing: invite)
        message.prependVia(SIPVia(transport: "UDP", host: "10.0.0.1", port: 5060, branch: "z9hG4bKnew"))
        #expect(try message.topVia().host == "10.0.0.1")
        #expect(try message.vias().count == 4)
        let removed = try message.removeTopVia()
        #expect(removed.branch == "z9hG4bKnew")
        try message.removeTopVia() // splits the comma-separated line
        #expect(try message.vias().map(\.host) == ["192.0.2.9", "proxy.example.com"])
        var top = try message.topVia()
        top.received = "203.0.113.5"
        top.rport = 4242
        try message.replaceTopVia(top)
        let reparsed = try SIPMessage(parsing: message.serialized())
        #expect(try reparsed.topVia().received == "203.0.113.5")
        #expect(try reparsed.topVia().rport == 4242)
    }

    @Test func headerEditing() throws {
        var message = try SIPMessage(parsing: invite)
        message.setHeader("Max-Forwards", "69")
        #expect(message.maxForwards == 69)
        message.prependHeader("Record-Route", "<sip:vos.example.com;lr>")
        message.removeHeaders("Contact")
        #expect(!message.hasHeader("m"))
        message.setBody(utf8("v=0\r\n"), contentType: "application/sdp")
        #expect(message.contentLength == 5)
        let reparsed = try SIPMessage(parsing: message.serialized())
        #expect(reparsed.body == utf8("v=0\r\n"))
        #expect(try reparsed.recordRoutes().first?.uri.host == "vos.example.com")
    }

    @Test func nameAddressSerialization() throws {
        let address = SIPNameAddress(displayName: "A \"B\" \\C", uri: try SIPURI(parsing: "sip:a@b;lr"),
                                     parameters: [SIPParameter(name: "tag", value: "x")])
        #expect(address.description == "\"A \\\"B\\\" \\\\C\" <sip:a@b;lr>;tag=x")
        #expect(try SIPNameAddress(parsing: address.description) == address)
    }

    @Test func badRequestNeedsTheTransactionHeaders() throws {
        let noVia = utf8("INVITE sip:a@b SIP/2.0\r\nTo: <sip:a@b>\r\nFrom: <sip:c@d>;tag=1\r\n"
            + "Call-ID: x\r\nCSeq: 1 INVITE\r\n\r\n")
        #expect(!SIPBadRequest.isAnswerable(noVia))
        #expect(!SIPBadRequest.isAnswerable(utf8("garbage")))
        let malformed = utf8("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:a@b>\r\n"
            + "From: <sip:c@d>;tag=1\r\nCall-ID: x\r\nCSeq: one INVITE\r\n\r\n")
        var failure: SIPParseError?
        do { _ = try SIPMessage(parsing: malformed) } catch { failure = error }
        #expect(failure?.header == "CSeq")
        let answer = failure.flatMap { SIPBadRequest.response(for: malformed, error: $0, toTag: "t") }
        #expect(answer?.statusCode == 400)
        #expect(answer?.reasonPhrase == "Bad CSeq")
        #expect(try answer?.to().tag == "t")
    }
}
