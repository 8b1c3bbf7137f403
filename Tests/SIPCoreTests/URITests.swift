import Testing
@testable import SIPCore

@Suite struct URITests {
    @Test func fullSIPURI() throws {
        let uri = try SIPURI(parsing: "sips:alice:secret@example.com:5061;transport=tls;lr?subject=hi&priority=urgent")
        #expect(uri.scheme == .sips)
        #expect(uri.user == "alice")
        #expect(uri.password == "secret")
        #expect(uri.host == "example.com")
        #expect(uri.port == 5061)
        #expect(uri.parameters["transport"] == "tls")
        #expect(uri.parameters.contains("lr"))
        #expect(uri.headers == "subject=hi&priority=urgent")
        #expect(uri.description == "sips:alice:secret@example.com:5061;transport=tls;lr?subject=hi&priority=urgent")
    }

    @Test func hostForms() throws {
        #expect(try SIPURI(parsing: "sip:192.0.2.1").host == "192.0.2.1")
        let v6 = try SIPURI(parsing: "sip:bob@[2001:db8::10]:5070")
        #expect(v6.host == "[2001:db8::10]")
        #expect(v6.hostWithoutBrackets == "2001:db8::10")
        #expect(v6.port == 5070)
        #expect(try SIPURI(parsing: "SIP:Host.Example.COM").scheme == .sip)
    }

    @Test func telURI() throws {
        let uri = try SIPURI(parsing: "tel:+1-201-555-0123;phone-context=example.com")
        #expect(uri.scheme == .tel)
        #expect(uri.user == "+1-201-555-0123")
        #expect(uri.parameters["phone-context"] == "example.com")
        #expect(uri.description == "tel:+1-201-555-0123;phone-context=example.com")
    }

    @Test func percentEscapes() throws {
        let uri = try SIPURI(parsing: "sip:I%20have%20spaces@example.net")
        #expect(uri.user == "I%20have%20spaces")
        #expect(uri.decodedUser == "I have spaces")
    }

    @Test(arguments: [
        "http://example.com", "sip:", "sip:@example.com", "sip:a@", "sip:a@host:99999",
        "sip:a@host:", "sip:a b@host", "sip:a@[zz::1]", "sip:a@host;", "sip:a%2@host",
        "sip:a@host?", "<sip:a@host>", "sip:a@host>",
    ])
    func rejects(_ text: String) {
        #expect(throws: SIPParseError.self) { try SIPURI(parsing: text) }
    }
}
