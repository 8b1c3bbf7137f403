import SIPCore
import Testing

/// Authorization / Proxy-Authorization parsing: what real clients send reads back exactly;
/// every malformed form is refused with the culprit named (the B2BUA answers it 400).
struct DigestHeaderTests {
    @Test func baresipAndSippCredentialsParse() throws {
        let text = #"Digest username="alice",realm="vos",nonce="00000000000003e800000001aabbccddeeff0011",uri="sip:127.0.0.1:5060",response="0123456789abcdef0123456789ABCDEF",algorithm=MD5,qop=auth,cnonce="a1b2",nc=0000000a"#
        let credentials = try SIPDigestCredentials(parsing: text)
        #expect(credentials.username == "alice")
        #expect(credentials.uri == "sip:127.0.0.1:5060")
        #expect(credentials.response == "0123456789abcdef0123456789abcdef")
        #expect(credentials.nonceCount == 10)
        #expect(credentials.qop == "auth")
        // RFC 2069 form: no qop, algorithm defaults to MD5; quoted-pair unescaped.
        let plain = try SIPDigestCredentials(parsing: #"Digest username="a\"b", realm="vos", nonce="n", uri="sip:x", response="0123456789abcdef0123456789abcdef""#)
        #expect(plain.username == "a\"b")
        #expect(plain.algorithm == .md5)
        #expect(plain.nonceCount == nil)
        // What we render parses back the same.
        #expect(try SIPDigestCredentials(parsing: credentials.headerValue) == credentials)
    }

    @Test func sha256NeedsSixtyFourHexDigits() throws {
        let hex64 = String(repeating: "ab", count: 32)
        let ok = try SIPDigestCredentials(parsing: #"Digest username="u", realm="vos", nonce="n", uri="sip:x", algorithm=SHA-256, response=""# + hex64 + "\"")
        #expect(ok.algorithm == .sha256)
        #expect(throws: SIPParseError.self) {
            try SIPDigestCredentials(parsing: #"Digest username="u", realm="vos", nonce="n", uri="sip:x", algorithm=SHA-256, response="0123456789abcdef0123456789abcdef""#)
        }
    }

    @Test(arguments: [
        ("Basic YWxhZGRpbjpvcGVuc2VzYW1l", "scheme is not Digest"),
        (#"Digest realm="vos", nonce="n", uri="sip:x", response="0123456789abcdef0123456789abcdef""#, "parameter 'username' is missing"),
        (#"Digest username="u", username="v", realm="vos", nonce="n", uri="sip:x", response="0123456789abcdef0123456789abcdef""#, "parameter 'username' appears twice"),
        (#"Digest username="u, realm=vos"#, "unterminated quoted string"),
        (#"Digest username="u" realm="vos""#, "expected ','"),
        (#"Digest username="u", realm="vos", nonce="n", uri="sip:x", response="xyz""#, "response must be 32 hex digits"),
        (#"Digest username="u", realm="vos", nonce="n", uri="sip:x", response="0123456789abcdef0123456789abcdef", algorithm=MD5-sess"#, "algorithm 'MD5-sess' is not supported"),
        (#"Digest username="u", realm="vos", nonce="n", uri="sip:x", response="0123456789abcdef0123456789abcdef", qop=auth, nc=00000001"#, "cnonce is required with qop"),
        (#"Digest username="u", realm="vos", nonce="n", uri="sip:x", response="0123456789abcdef0123456789abcdef", qop=auth, cnonce="c", nc=1"#, "nc must be 8 hex digits"),
        (#"Digest username="", realm="vos", nonce="n", uri="sip:x", response="0123456789abcdef0123456789abcdef""#, "must not be empty"),
        ("Digest ", "no parameters"),
        (#"Digest username"#, "has no value"),
    ])
    func malformedCredentialsNameTheProblem(text: String, problem: String) {
        do {
            _ = try SIPDigestCredentials(parsing: text, header: "Proxy-Authorization")
            Issue.record("parsed: \(text)")
        } catch {
            #expect(error.header == "Proxy-Authorization")
            #expect(error.detail.contains(problem), "\(error.detail)")
        }
    }

    @Test func challengeRendersAndParsesBack() throws {
        let challenge = SIPDigestChallenge(realm: "vos", nonce: "abc", algorithm: .sha256, stale: true)
        #expect(challenge.headerValue == #"Digest realm="vos", nonce="abc", algorithm=SHA-256, qop="auth", stale=true"#)
        #expect(try SIPDigestChallenge(parsing: challenge.headerValue) == challenge)
    }
}
