/// A mapping gateway's password as vos keeps it: never the password itself, only the digest
/// hashes RFC 7616 lets a server verify with (HA1 = H(username:realm:password)), one per
/// algorithm offered. A leaked store gives no password and no hash usable in another realm.
public struct DigestCredential: Sendable, Hashable, Codable {
    public var username: String
    /// The realm the hashes were made with (SS_SIP_AUTH_REALM when the password was set).
    public var realm: String
    /// Lower-case hex HA1 per algorithm name ("MD5", "SHA-256").
    public var ha1: [String: String]

    public init(username: String, realm: String, ha1: [String: String]) {
        self.username = username
        self.realm = realm
        self.ha1 = ha1
    }

    /// Digest usernames go into quoted strings and URIs: printable ASCII without quotes,
    /// backslashes, colons (they delimit HA1's input) or spaces.
    public static func validate(username: String) throws(ModelError) {
        guard !username.isEmpty, username.count <= 64,
              username.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && !"\"\\:@".unicodeScalars.contains($0) }) else {
            throw ModelError.invalid(field: "--username", value: username,
                                     expected: "1-64 printable ASCII characters without spaces, quotes, backslashes, ':' or '@'")
        }
    }

    public func validate() throws(ModelError) {
        try Self.validate(username: username)
        guard !ha1.isEmpty else { throw ModelError.missing(field: "password hash for '\(username)'") }
        for (algorithm, hash) in ha1 {
            let length = algorithm == "MD5" ? 32 : algorithm == "SHA-256" ? 64 : 0
            guard length > 0, hash.count == length, hash.allSatisfy(\.isHexDigit) else {
                throw ModelError.invalid(field: "password hash", value: algorithm, expected: "an MD5 or SHA-256 HA1 in hex")
            }
        }
    }
}
