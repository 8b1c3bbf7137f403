import Crypto
import SIPCore
import VOSModel

/// The hashes of HTTP Digest (RFC 7616 §3.4.1, RFC 8760): HA1 from a password, and the response
/// a client must send for a request. No state; used by vosctl when a password is set and by the
/// authenticator when a request is checked.
public enum DigestHash {
    public static func hex(_ text: String, _ algorithm: SIPDigestAlgorithm) -> String {
        switch algorithm {
        case .md5: return hexString(Insecure.MD5.hash(data: Array(text.utf8)))
        case .sha256: return hexString(SHA256.hash(data: Array(text.utf8)))
        }
    }

    /// H(username:realm:password).
    public static func ha1(username: String, realm: String, password: String, _ algorithm: SIPDigestAlgorithm) -> String {
        hex("\(username):\(realm):\(password)", algorithm)
    }

    /// The credential vosctl stores for a password: one HA1 per algorithm vos can offer.
    public static func credential(username: String, realm: String, password: String) -> DigestCredential {
        var hashes: [String: String] = [:]
        for algorithm in SIPDigestAlgorithm.allCases {
            hashes[algorithm.rawValue] = ha1(username: username, realm: realm, password: password, algorithm)
        }
        return DigestCredential(username: username, realm: realm, ha1: hashes)
    }

    /// The expected `response` for `credentials` on a request with `method`, given HA1.
    public static func response(ha1: String, method: String, credentials: SIPDigestCredentials) -> String {
        let algorithm = credentials.algorithm
        let ha2 = hex("\(method):\(credentials.uri)", algorithm)
        if let qop = credentials.qop, let cnonce = credentials.cnonce, let count = credentials.nonceCount {
            let nc = String(count, radix: 16)
            let padded = String(repeating: "0", count: max(0, 8 - nc.count)) + nc
            return hex("\(ha1):\(credentials.nonce):\(padded):\(cnonce):\(qop):\(ha2)", algorithm)
        }
        return hex("\(ha1):\(credentials.nonce):\(ha2)", algorithm)
    }

    static func hexString<Digest: Sequence>(_ digest: Digest) -> String where Digest.Element == UInt8 {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in digest {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Compares two byte strings in time independent of where they differ.
    static func constantTimeEqual<Left: Collection<UInt8>, Right: Collection<UInt8>>(_ lhs: Left, _ rhs: Right) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for (left, right) in zip(lhs, rhs) { difference |= left ^ right }
        return difference == 0
    }
}
