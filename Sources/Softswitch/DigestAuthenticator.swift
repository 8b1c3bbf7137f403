import Crypto
import SIPCore
import VOSModel

/// Decides whether a request's digest credentials are good (RFC 3261 §22, RFC 7616, RFC 8760):
/// issues nonces that expire and cannot be replayed, and checks responses against the stored
/// HA1. Pure state owned by the B2BUA's event-loop thread; time is passed in (monotonic ms).
///
/// Nonces are stateless to issue: the issue time and a serial, signed with a key that lives as
/// long as the process (HMAC-SHA-256, truncated). Only nonces that were answered correctly are
/// remembered, until they expire, so a flood of unanswered challenges costs no memory.
public struct DigestAuthenticator: Sendable {
    public struct Settings: Sendable, Equatable {
        public var realm: String
        /// Offered in this order, one challenge header each (RFC 8760 §2.4).
        public var algorithms: [SIPDigestAlgorithm]
        public var nonceLifetimeMilliseconds: UInt64

        public init(realm: String = "vos", algorithms: [SIPDigestAlgorithm] = [.sha256, .md5], nonceLifetimeMilliseconds: UInt64 = 300_000) {
            self.realm = realm
            self.algorithms = algorithms
            self.nonceLifetimeMilliseconds = nonceLifetimeMilliseconds
        }

        public init(parameters: ParameterSet) {
            realm = parameters.text(.authRealm)
            algorithms = parameters.list(.authAlgorithms).compactMap(SIPDigestAlgorithm.init(token:))
            if algorithms.isEmpty { algorithms = [.md5] }
            nonceLifetimeMilliseconds = UInt64(parameters.int(.authNonceLifetime)) * 1000
        }
    }

    public enum Verdict: Sendable, Equatable {
        case accepted(username: String)
        /// Ask again: no usable credentials yet. `stale` tells the client its password was right
        /// but the nonce is too old or was already used, so it retries without asking its user.
        case challenge(stale: Bool, reason: String)
        /// The credentials are wrong: a failed authentication that counts towards suspension.
        case rejected(username: String, reason: String)
    }

    public var settings: Settings
    /// Key bytes rather than a `SymmetricKey`, which is not Sendable.
    private let secret: [UInt8]
    private var serial: UInt32 = 0
    /// Nonces answered correctly: the highest nonce count seen, and when the nonce expires.
    private var answered: [String: (count: UInt32, expires: UInt64)] = [:]
    /// Bound on `answered`; past it expired entries are swept first.
    static let answeredLimit = 200_000

    /// `secret` keys the nonces' signature; the B2BUA draws it at random at start.
    public init(settings: Settings, secret: [UInt8]) {
        self.settings = settings
        self.secret = secret
    }

    /// One challenge per offered algorithm, sharing a fresh nonce.
    public mutating func challenges(now: UInt64, stale: Bool = false) -> [SIPDigestChallenge] {
        let nonce = issueNonce(now: now)
        return settings.algorithms.map { SIPDigestChallenge(realm: settings.realm, nonce: nonce, algorithm: $0, stale: stale) }
    }

    /// Checks `credentials` sent with a request of `method`. `credential` finds the stored
    /// password hashes by username.
    public mutating func verify(_ credentials: SIPDigestCredentials, method: String, now: UInt64,
                                credential: (String) -> DigestCredential?) -> Verdict {
        guard let issuedAt = issueTime(of: credentials.nonce) else {
            // Not ours (or from before a restart): a new challenge, not a failure.
            return .challenge(stale: false, reason: "unknown nonce")
        }
        guard settings.algorithms.contains(credentials.algorithm) else {
            return .challenge(stale: false, reason: "algorithm \(credentials.algorithm.rawValue) is not offered")
        }
        let username = credentials.username
        guard credentials.realm == settings.realm else {
            return .rejected(username: username, reason: "realm '\(credentials.realm)' is not '\(settings.realm)'")
        }
        guard let stored = credential(username) else { return .rejected(username: username, reason: "unknown user") }
        guard stored.realm == settings.realm, let ha1 = stored.ha1[credentials.algorithm.rawValue] else {
            return .rejected(username: username, reason: "the password was stored for realm '\(stored.realm)'; set it again")
        }
        let expected = DigestHash.response(ha1: ha1, method: method, credentials: credentials)
        guard DigestHash.constantTimeEqual(expected.utf8, credentials.response.utf8) else {
            return .rejected(username: username, reason: "wrong password")
        }
        let expires = issuedAt &+ settings.nonceLifetimeMilliseconds
        guard now < expires else { return .challenge(stale: true, reason: "nonce expired") }
        let count = credentials.nonceCount ?? 0
        if let seen = answered[credentials.nonce], credentials.nonceCount == nil || count <= seen.count {
            return .challenge(stale: true, reason: credentials.nonceCount == nil ? "nonce reused" : "nonce count \(count) replayed")
        }
        remember(credentials.nonce, count: count, expires: expires, now: now)
        return .accepted(username: username)
    }

    // MARK: Nonces

    private mutating func issueNonce(now: UInt64) -> String {
        serial &+= 1
        var body: [UInt8] = []
        body.reserveCapacity(20)
        for shift in stride(from: 56, through: 0, by: -8) { body.append(UInt8(truncatingIfNeeded: now >> UInt64(shift))) }
        for shift in stride(from: 24, through: 0, by: -8) { body.append(UInt8(truncatingIfNeeded: serial >> UInt32(shift))) }
        body += signature(body)
        return DigestHash.hexString(body)
    }

    private func signature(_ body: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: secret)).prefix(8))
    }

    /// The issue time of a nonce this authenticator signed, or nil.
    private func issueTime(of nonce: String) -> UInt64? {
        let hex = Array(nonce.utf8)
        guard hex.count == 40 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(20)
        var index = 0
        while index < hex.count {
            guard let high = Self.nibble(hex[index]), let low = Self.nibble(hex[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        let body = Array(bytes[0..<12])
        guard DigestHash.constantTimeEqual(signature(body), bytes[12...]) else { return nil }
        return body[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private mutating func remember(_ nonce: String, count: UInt32, expires: UInt64, now: UInt64) {
        if answered.count >= Self.answeredLimit { answered = answered.filter { $0.value.expires > now } }
        // Still full of live nonces: forget them all rather than grow; their clients get
        // stale=true once and carry on with a new nonce.
        if answered.count >= Self.answeredLimit { answered.removeAll(keepingCapacity: true) }
        answered[nonce] = (count, expires)
    }
}
