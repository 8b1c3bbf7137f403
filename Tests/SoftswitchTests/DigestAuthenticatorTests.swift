import SIPCore
import Softswitch
import Testing
import VOSModel

/// Digest responses against the RFCs' own examples, and the authenticator's verdicts: right and
/// wrong passwords, expired and replayed nonces, nonces it never issued.
struct DigestAuthenticatorTests {
    @Test func responsesMatchTheRFCExamples() throws {
        // RFC 2617 §3.5 (MD5, qop=auth).
        let md5 = SIPDigestCredentials(username: "Mufasa", realm: "testrealm@host.com", nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                                       uri: "/dir/index.html", response: "", algorithm: .md5, qop: "auth", cnonce: "0a4f113b", nonceCount: 1)
        let md5HA1 = DigestHash.ha1(username: "Mufasa", realm: "testrealm@host.com", password: "Circle Of Life", .md5)
        #expect(DigestHash.response(ha1: md5HA1, method: "GET", credentials: md5) == "6629fae49393a05397450978507c4ef1")
        // RFC 7616 §3.9.1 (SHA-256 and MD5 for the same request).
        var sha = SIPDigestCredentials(username: "Mufasa", realm: "http-auth@example.org", nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
                                       uri: "/dir/index.html", response: "", algorithm: .sha256, qop: "auth",
                                       cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", nonceCount: 1)
        let shaHA1 = DigestHash.ha1(username: "Mufasa", realm: "http-auth@example.org", password: "Circle of Life", .sha256)
        #expect(DigestHash.response(ha1: shaHA1, method: "GET", credentials: sha) == "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1")
        sha.algorithm = .md5
        let md5HA1Again = DigestHash.ha1(username: "Mufasa", realm: "http-auth@example.org", password: "Circle of Life", .md5)
        #expect(DigestHash.response(ha1: md5HA1Again, method: "GET", credentials: sha) == "8ca523f5e9506fed4657c9700eebdbec")
    }

    static let stored = DigestHash.credential(username: "alice", realm: "vos", password: "s3cret")

    /// A client's answer to `challenge`, as a phone computes it.
    static func answer(_ challenge: SIPDigestChallenge, password: String = "s3cret", method: String = "REGISTER",
                       count: UInt32? = 1, username: String = "alice") -> SIPDigestCredentials {
        var credentials = SIPDigestCredentials(username: username, realm: challenge.realm, nonce: challenge.nonce, uri: "sip:vos.example",
                                               response: "", algorithm: challenge.algorithm, qop: count == nil ? nil : "auth",
                                               cnonce: count == nil ? nil : "c0ffee", nonceCount: count)
        let ha1 = DigestHash.ha1(username: username, realm: challenge.realm, password: password, challenge.algorithm)
        credentials.response = DigestHash.response(ha1: ha1, method: method, credentials: credentials)
        return credentials
    }

    func authenticator(lifetime: UInt64 = 300_000) -> DigestAuthenticator {
        DigestAuthenticator(settings: .init(realm: "vos", algorithms: [.sha256, .md5], nonceLifetimeMilliseconds: lifetime),
                            secret: Array(repeating: 7, count: 32))
    }

    func lookup(_ name: String) -> DigestCredential? { name == "alice" ? Self.stored : nil }

    @Test func rightPasswordIsAcceptedWithEitherAlgorithm() throws {
        var auth = authenticator()
        let challenges = auth.challenges(now: 1000)
        #expect(challenges.map(\.algorithm) == [.sha256, .md5])
        #expect(challenges[0].headerValue.hasPrefix("Digest realm=\"vos\", nonce=\""))
        for challenge in challenges {
            let verdict = auth.verify(Self.answer(challenge, count: challenge.algorithm == .md5 ? 2 : 1), method: "REGISTER", now: 2000, credential: lookup)
            #expect(verdict == .accepted(username: "alice"))
        }
    }

    @Test func wrongPasswordAndUnknownUserAreRejected() throws {
        var auth = authenticator()
        let challenge = try #require(auth.challenges(now: 0).first)
        #expect(auth.verify(Self.answer(challenge, password: "guess"), method: "REGISTER", now: 10, credential: lookup)
            == .rejected(username: "alice", reason: "wrong password"))
        #expect(auth.verify(Self.answer(challenge, username: "bob"), method: "REGISTER", now: 10, credential: lookup)
            == .rejected(username: "bob", reason: "unknown user"))
        // The response covers the method: a REGISTER's answer does not authenticate an INVITE.
        #expect(auth.verify(Self.answer(challenge, method: "REGISTER"), method: "INVITE", now: 10, credential: lookup)
            == .rejected(username: "alice", reason: "wrong password"))
    }

    @Test func expiredNonceIsStaleOnlyWhenThePasswordIsRight() throws {
        var auth = authenticator(lifetime: 1000)
        let challenge = try #require(auth.challenges(now: 0).first)
        #expect(auth.verify(Self.answer(challenge), method: "REGISTER", now: 1500, credential: lookup)
            == .challenge(stale: true, reason: "nonce expired"))
        #expect(auth.verify(Self.answer(challenge, password: "guess"), method: "REGISTER", now: 1500, credential: lookup)
            == .rejected(username: "alice", reason: "wrong password"))
    }

    @Test func replayedNonceIsStale() throws {
        var auth = authenticator()
        let challenge = try #require(auth.challenges(now: 0).first)
        #expect(auth.verify(Self.answer(challenge, count: 1), method: "REGISTER", now: 1, credential: lookup) == .accepted(username: "alice"))
        // The same nonce count again: a captured request played back.
        #expect(auth.verify(Self.answer(challenge, count: 1), method: "REGISTER", now: 2, credential: lookup)
            == .challenge(stale: true, reason: "nonce count 1 replayed"))
        // A higher count is the same client going on.
        #expect(auth.verify(Self.answer(challenge, count: 2), method: "REGISTER", now: 3, credential: lookup) == .accepted(username: "alice"))
        // Without qop a nonce is good once.
        let other = try #require(auth.challenges(now: 4).first)
        #expect(auth.verify(Self.answer(other, count: nil), method: "REGISTER", now: 5, credential: lookup) == .accepted(username: "alice"))
        #expect(auth.verify(Self.answer(other, count: nil), method: "REGISTER", now: 6, credential: lookup)
            == .challenge(stale: true, reason: "nonce reused"))
    }

    @Test func noncesFromAnotherKeyOrTamperedAreUnknown() throws {
        var auth = authenticator()
        var foreign = DigestAuthenticator(settings: auth.settings, secret: Array(repeating: 9, count: 32))
        let theirs = try #require(foreign.challenges(now: 0).first)
        #expect(auth.verify(Self.answer(theirs), method: "REGISTER", now: 1, credential: lookup) == .challenge(stale: false, reason: "unknown nonce"))
        var ours = try #require(auth.challenges(now: 0).first)
        // A client moving the issue time forward to dodge expiry breaks the signature.
        ours.nonce = "ff" + ours.nonce.dropFirst(2)
        #expect(auth.verify(Self.answer(ours), method: "REGISTER", now: 1, credential: lookup) == .challenge(stale: false, reason: "unknown nonce"))
    }

    @Test func passwordStoredForAnotherRealmIsRejectedWithTheReason() throws {
        var auth = authenticator()
        let challenge = try #require(auth.challenges(now: 0).first)
        let elsewhere = DigestHash.credential(username: "alice", realm: "old", password: "s3cret")
        let verdict = auth.verify(Self.answer(challenge), method: "REGISTER", now: 1) { _ in elsewhere }
        #expect(verdict == .rejected(username: "alice", reason: "the password was stored for realm 'old'; set it again"))
    }

    @Test func failuresSuspendAtTheLimitWithinTheWindow() {
        var failures = AuthenticationFailures(settings: .init(limit: 3, windowMilliseconds: 60_000))
        #expect(failures.record(gateway: "phones", source: "203.0.113.9", reason: "wrong password", now: 0) == nil)
        #expect(failures.record(gateway: "phones", source: "203.0.113.9", reason: "wrong password", now: 1000) == nil)
        // The window rolled over: the count starts again.
        #expect(failures.record(gateway: "phones", source: "203.0.113.9", reason: "wrong password", now: 61_000) == nil)
        #expect(failures.record(gateway: "phones", source: "203.0.113.7", reason: "wrong password", now: 62_000) == nil)
        let suspension = failures.record(gateway: "phones", source: "203.0.113.9", reason: "wrong password", now: 63_000)
        #expect(suspension?.sources == ["203.0.113.9", "203.0.113.7"])
        #expect(suspension?.reason == "3 failed authentications in 60 s (last: wrong password)")
        var never = AuthenticationFailures(settings: .init(limit: 0, windowMilliseconds: 60_000))
        for second in 0..<100 { #expect(never.record(gateway: "g", source: "s", reason: "r", now: UInt64(second)) == nil) }
    }
}
