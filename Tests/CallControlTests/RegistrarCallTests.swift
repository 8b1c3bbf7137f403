@testable import CallControl
import SIPCore
import SIPStack
import Softswitch
import Testing
import VOSModel

/// Digest authentication, the registrar, keep-alives and suspension, in-process: a phone
/// behind NAT (Contact 10.0.0.5, seen from 203.0.113.50:40000) registers as mapping gateway
/// `phones` (user alice, password s3cret), calls out and is called.
struct RegistrarCallTests {
    static let phone = SocketAddress.literal("203.0.113.50", 40000)
    static let elsewhere = SocketAddress.literal("203.0.113.66", 5060)

    static func phones(ips: [IPAddress] = []) -> MappingGateway {
        var gateway = MappingGateway(name: "phones", ips: ips)
        gateway.authentication = .password
        gateway.credential = DigestHash.credential(username: "alice", realm: "vos", password: "s3cret")
        gateway.account = "alice-account"
        return gateway
    }

    func harness(_ parameters: [SystemParameter: String] = [:], ips: [IPAddress] = []) throws -> (CallHarness, RecordingSubscriberState) {
        var parameters = parameters
        if parameters[.authAlgorithms] == nil { parameters[.authAlgorithms] = "SHA-256,MD5" }
        let harness = try CallHarness(parameters: parameters, vendors: [CallHarness.vendor("v1", host: 20)], otherMapping: [Self.phones(ips: ips)])
        let state = RecordingSubscriberState()
        harness.b2bua.subscriberState = state
        harness.b2bua.startRegistrar(bindings: [])
        return (harness, state)
    }

    /// A REGISTER from the phone; `authorization` is the header value, if any.
    static func register(_ harness: CallHarness, authorization: String? = nil, expires: Int = 300, contact: String = "<sip:alice@10.0.0.5:5060>",
                         from source: SocketAddress = phone, extra: [String] = []) {
        // Each REGISTER is a new transaction: its own branch and a higher CSeq.
        let sequence = Int.random(in: 1...1_000_000)
        var headers = extra
        if let authorization { headers.append("Authorization: \(authorization)") }
        harness.receive("""
        REGISTER sip:192.0.2.1 SIP/2.0
        Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK-reg\(sequence);rport
        Max-Forwards: 70
        From: <sip:alice@192.0.2.1>;tag=reg
        To: <sip:alice@192.0.2.1>
        Call-ID: reg@10.0.0.5
        CSeq: \(sequence) REGISTER
        Contact: \(contact)
        Expires: \(expires)
        User-Agent: test-phone
        \(headers.map { $0 + "\n" }.joined())Content-Length: 0


        """, from: source)
    }

    /// The phone's answer to a challenge (first offered algorithm unless told).
    static func answer(_ response: SIPMessage, header: String = "WWW-Authenticate", method: String = "REGISTER", password: String = "s3cret",
                       algorithm: SIPDigestAlgorithm? = nil, count: UInt32 = 1) throws -> String {
        let challenges = try response.headerValues(header).map { try SIPDigestChallenge(parsing: $0) }
        let challenge = try #require(challenges.first { algorithm == nil || $0.algorithm == algorithm })
        var credentials = SIPDigestCredentials(username: "alice", realm: challenge.realm, nonce: challenge.nonce, uri: "sip:192.0.2.1",
                                               response: "", algorithm: challenge.algorithm, qop: "auth", cnonce: "cafe", nonceCount: count)
        let ha1 = DigestHash.ha1(username: "alice", realm: challenge.realm, password: password, challenge.algorithm)
        credentials.response = DigestHash.response(ha1: ha1, method: method, credentials: credentials)
        return credentials.headerValue
    }

    /// Challenge, answer, 200: the phone is registered.
    static func registerWithPassword(_ harness: CallHarness, algorithm: SIPDigestAlgorithm? = nil) throws -> SIPMessage {
        register(harness)
        let challenge = try #require(harness.drain().responses(401).first?.message)
        register(harness, authorization: try answer(challenge, algorithm: algorithm))
        return try #require(harness.drain().responses(200).first?.message)
    }

    @Test func registerIsChallengedWithBothAlgorithmsAndBindsThePhone() throws {
        let (harness, state) = try harness()
        Self.register(harness)
        let sent = harness.drain()
        let challenge = try #require(sent.responses(401).first)
        #expect(challenge.to == Self.phone)
        let offered = try challenge.message.headerValues("WWW-Authenticate").map { try SIPDigestChallenge(parsing: $0).algorithm }
        #expect(offered == [.sha256, .md5])
        #expect(state.changes.isEmpty)

        for algorithm in [SIPDigestAlgorithm.md5, .sha256] {
            let ok = try Self.registerWithPassword(harness, algorithm: algorithm)
            #expect(ok.headerValues("Contact") == ["<sip:alice@10.0.0.5:5060>;expires=300"])
        }
        let binding = try #require(harness.b2bua.liveRegistrations.first)
        #expect(binding.received == "203.0.113.50:40000")
        #expect(binding.behindNAT)
        #expect(binding.gateway == "phones")
        guard case let .saved(stored)? = state.changes.last else { Issue.record("binding not stored: \(state.changes)"); return }
        #expect(stored.contact == "sip:alice@10.0.0.5:5060")
    }

    @Test func malformedAuthorizationGets400AndChangesNothing() throws {
        let (harness, state) = try harness()
        Self.register(harness, authorization: #"Digest username="alice", realm="vos", nonce="x", uri="sip:192.0.2.1", response="nothex""#)
        let bad = try #require(harness.drain().responses(400).first?.message)
        #expect(bad.reasonPhrase == "Bad Authorization")
        #expect(bad.firstHeaderValue("Warning")?.contains("response must be 32 hex digits") == true)
        #expect(state.changes.isEmpty)
        #expect(harness.b2bua.liveRegistrations.isEmpty)
    }

    @Test func replayedCredentialsGetStaleChallenge() throws {
        let (harness, _) = try harness()
        Self.register(harness)
        let challenge = try #require(harness.drain().responses(401).first?.message)
        let authorization = try Self.answer(challenge)
        Self.register(harness, authorization: authorization)
        #expect(harness.drain().responses(200).count == 1)
        // The same Authorization again (a captured REGISTER played back).
        Self.register(harness, authorization: authorization)
        let stale = try #require(harness.drain().responses(401).first?.message)
        #expect(try stale.headerValues("WWW-Authenticate").allSatisfy { try SIPDigestChallenge(parsing: $0).stale })
    }

    @Test func expiredNonceGetsStaleChallenge() throws {
        let (harness, _) = try harness([.authNonceLifetime: "10"])
        Self.register(harness)
        let challenge = try #require(harness.drain().responses(401).first?.message)
        harness.advance(seconds: 11)
        Self.register(harness, authorization: try Self.answer(challenge))
        let stale = try #require(harness.drain().responses(401).first?.message)
        #expect(try SIPDigestChallenge(parsing: try #require(stale.firstHeaderValue("WWW-Authenticate"))).stale)
    }

    @Test func tooShortExpiresGets423AndZeroUnregisters() throws {
        let (harness, state) = try harness()
        Self.register(harness, expires: 5)
        let challenge = try #require(harness.drain().responses(401).first?.message)
        Self.register(harness, authorization: try Self.answer(challenge), expires: 5)
        let brief = try #require(harness.drain().responses(423).first?.message)
        #expect(brief.firstHeaderValue("Min-Expires") == "60")
        #expect(harness.b2bua.liveRegistrations.isEmpty)
        _ = try Self.registerWithPassword(harness)
        #expect(harness.b2bua.liveRegistrations.count == 1)
        Self.register(harness, authorization: try Self.answer(challenge, count: 2), expires: 0)
        #expect(harness.drain().responses(200).count == 1)
        #expect(harness.b2bua.liveRegistrations.isEmpty)
        #expect(state.changes.last == .removed(username: "alice", contact: "sip:alice@10.0.0.5:5060"))
    }

    @Test func bindingExpiresByItself() throws {
        let (harness, state) = try harness()
        Self.register(harness)
        let challenge = try #require(harness.drain().responses(401).first?.message)
        Self.register(harness, authorization: try Self.answer(challenge), expires: 60)
        #expect(harness.b2bua.liveRegistrations.count == 1)
        harness.advance(seconds: 61)
        #expect(harness.b2bua.liveRegistrations.isEmpty)
        #expect(state.changes.last == .removed(username: "alice", contact: "sip:alice@10.0.0.5:5060"))
    }

    @Test func natedPhoneGetsKeepAlivesEveryPeriod() throws {
        let (harness, _) = try harness([.natKeepAlivePeriod: "20", .natKeepAliveMessage: "PING"])
        _ = try Self.registerWithPassword(harness)
        harness.advance(seconds: 19)
        #expect(harness.keepAlives.isEmpty)
        harness.advance(seconds: 2)
        #expect(harness.keepAlives.map(\.payload) == ["PING"])
        #expect(harness.keepAlives.first?.to == Self.phone)
        harness.advance(seconds: 20)
        #expect(harness.keepAlives.count == 2)
    }

    @Test func emptyKeepAliveMessageSendsNone() throws {
        let (harness, _) = try harness([.natKeepAlivePeriod: "10", .natKeepAliveMessage: ""])
        _ = try Self.registerWithPassword(harness)
        harness.advance(seconds: 60)
        #expect(harness.keepAlives.isEmpty)
    }

    @Test func wrongPasswordsSuspendTheGatewayUntilTheTimeEnds() throws {
        let (harness, state) = try harness([.authMaxFailures: "3", .authSuspendTime: "60"])
        for _ in 0..<3 {
            Self.register(harness)
            let challenge = try #require(harness.drain().responses(401).first?.message)
            Self.register(harness, authorization: try Self.answer(challenge, password: "guess"))
            #expect(harness.drain().responses(403).count == 1)
        }
        let suspension = try #require(state.suspensions.first)
        #expect(suspension.gateway == "phones")
        #expect(suspension.reason == "3 failed authentications in 60 s (last: wrong password)")
        #expect(suspension.sources == ["203.0.113.50"])
        // The right password is refused while suspended, with the reason.
        Self.register(harness)
        let challenge = try #require(harness.drain().responses(401).first?.message)
        Self.register(harness, authorization: try Self.answer(challenge))
        let refused = try #require(harness.drain().responses(403).first?.message)
        #expect(refused.reasonPhrase == "Gateway Suspended")
        #expect(refused.firstHeaderValue("Warning")?.contains("3 failed authentications") == true)
        harness.advance(seconds: 61)
        #expect(try Self.registerWithPassword(harness).statusCode == 200)
    }

    @Test func operatorLiftsASuspensionThroughTheStore() throws {
        let (harness, state) = try harness([.authMaxFailures: "1"])
        Self.register(harness)
        let challenge = try #require(harness.drain().responses(401).first?.message)
        Self.register(harness, authorization: try Self.answer(challenge, password: "guess"))
        #expect(state.suspensions.count == 1)
        state.landSuspensions(on: harness)
        // The store's configuration comes back without it (vosctl gateway unsuspend).
        var parameters = ParameterSet()
        try parameters.set(.mediaProxyMode, to: "0")
        try parameters.set(.authMaxFailures, to: "1")
        var customer = MappingGateway(name: "cust", ips: [try IPAddress(parsing: "192.0.2.10")])
        customer.account = nil
        harness.b2bua.reload(ControllerSnapshot(parameters: parameters, mapping: [customer, Self.phones()], routing: [CallHarness.vendor("v1", host: 20)]))
        #expect(try Self.registerWithPassword(harness).statusCode == 200)
    }

    @Test func registerFromAGeofencedRegionIsRefusedBeforeAnyChallenge() throws {
        let (harness, state) = try harness()
        var parameters = ParameterSet()
        try parameters.set(.mediaProxyMode, to: "0")
        try parameters.set(.authAlgorithms, to: "SHA-256,MD5")
        let forbidden = try GeofenceRange(prefix: try IPPrefix(parsing: "203.0.113.0/24"), mode: .forbidden)
        harness.b2bua.reload(ControllerSnapshot(parameters: parameters, mapping: [Self.phones()], routing: [], geofence: [forbidden]))
        Self.register(harness)
        let sent = harness.drain()
        #expect(sent.responses(403).count == 1)
        #expect(sent.responses(401).isEmpty)
        #expect(state.changes.isEmpty)
    }

    @Test func sourceOutsideTheGatewaysIPsIsRefused() throws {
        let (harness, _) = try harness(ips: [try IPAddress(parsing: "203.0.113.50")])
        Self.register(harness, from: Self.elsewhere)
        let challenge = try #require(harness.drain().responses(401).first?.message)
        Self.register(harness, authorization: try Self.answer(challenge), from: Self.elsewhere)
        #expect(harness.drain().responses(403).count == 1)
        #expect(try Self.registerWithPassword(harness).statusCode == 200)
    }

    /// An INVITE from the phone: 407 first, then billed to the phone's gateway and routed.
    @Test func inviteFromAPhoneIsChallengedThenRouted() throws {
        let (harness, _) = try harness()
        let invite = { (authorization: String?, sequence: Int) in
            harness.receive("""
            INVITE sip:441234567@192.0.2.1 SIP/2.0
            Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK-pinv\(sequence);rport
            Max-Forwards: 70
            From: <sip:alice@192.0.2.1>;tag=phone
            To: <sip:441234567@192.0.2.1>
            Call-ID: out@10.0.0.5
            CSeq: \(sequence) INVITE
            Contact: <sip:alice@10.0.0.5:5060>
            \(authorization.map { "Proxy-Authorization: \($0)\n" } ?? "")Content-Length: 0


            """, from: Self.phone)
        }
        invite(nil, 1)
        let challenge = try #require(harness.drain().responses(407).first?.message)
        #expect(challenge.headerValues("Proxy-Authenticate").count == 2)
        harness.receive("""
        ACK sip:441234567@192.0.2.1 SIP/2.0
        Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK-pinv1;rport
        Max-Forwards: 70
        From: <sip:alice@192.0.2.1>;tag=phone
        To: <sip:441234567@192.0.2.1>;tag=\(try challenge.to().tag ?? "")
        Call-ID: out@10.0.0.5
        CSeq: 1 ACK
        Content-Length: 0


        """, from: Self.phone)
        invite(try Self.answer(challenge, header: "Proxy-Authenticate", method: "INVITE"), 2)
        let sent = harness.drain()
        #expect(sent.responses(100).count == 1)
        let vendorInvite = try #require(sent.requests("INVITE").first)
        #expect(vendorInvite.to == CallHarness.vendor(20))
        harness.respond(to: vendorInvite.message, status: 486, reason: "Busy Here", from: CallHarness.vendor(20))
        harness.loop.run()
        let record = try #require(harness.ledger.records.first)
        #expect(record.mappingGateway == "phones")
    }

    @Test func callToARegisteredUserGoesToItsBinding() throws {
        let (harness, _) = try harness()
        _ = try Self.registerWithPassword(harness)
        harness.customerInvite("alice")
        let sent = harness.drain()
        let toPhone = try #require(sent.requests("INVITE").first)
        #expect(toPhone.to == Self.phone)
        #expect(toPhone.message.requestURI?.description == "sip:alice@10.0.0.5:5060")
        harness.respond(to: toPhone.message, status: 200, reason: "OK", from: Self.phone, sdp: CallHarness.answerSDP)
        let answered = harness.drain()
        #expect(answered.responses(200).first?.to == CallHarness.customer, "\(answered.map { String(decoding: $0.message.serialized(), as: UTF8.self) })")
        #expect(answered.requests("ACK").first?.to == Self.phone)
    }

    @Test func unansweredCallToARegisteredUserIsRecordedAgainstItsGateway() throws {
        let (harness, _) = try harness()
        _ = try Self.registerWithPassword(harness)
        harness.customerInvite("alice")
        let toPhone = try #require(harness.drain().requests("INVITE").first)
        harness.respond(to: toPhone.message, status: 480, reason: "Temporarily Unavailable", from: Self.phone)
        let record = try #require(harness.ledger.records.first)
        #expect(record.attempts.map(\.gateway) == ["phones"])
    }

    @Test func callToAnUnregisteredUserIsRoutedAsUsual() throws {
        let (harness, _) = try harness()
        harness.customerInvite("alice")
        // No vendor prefix matches "alice": no route.
        #expect(harness.drain().finalResponses.first?.message.statusCode == 503)
    }
}

/// Registration changes and suspensions as the B2BUA asked to store them.
final class RecordingSubscriberState: SubscriberStateStore, @unchecked Sendable {
    private(set) var changes: [RegistrationTable.Change] = []
    private(set) var suspensions: [GatewaySuspension] = []
    private var pending: [@Sendable () -> Void] = []

    func record(_ change: RegistrationTable.Change) { changes.append(change) }

    func suspend(_ suspension: GatewaySuspension, stored: @escaping @Sendable () -> Void) {
        suspensions.append(suspension)
        pending.append(stored)
    }

    /// The store writes land (their completions run on the loop).
    func landSuspensions(on harness: CallHarness) {
        for completion in pending { completion() }
        pending.removeAll()
        harness.loop.run()
    }
}
