/// The grammar of HTTP Digest as SIP uses it (RFC 3261 §22.4 and §25.1, RFC 7616, RFC 8760):
/// the credentials a client puts in Authorization / Proxy-Authorization, and the challenge a
/// server puts in WWW-Authenticate / Proxy-Authenticate. Text only: hashing and the decision
/// whether credentials are right belong to the authenticator (Softswitch), not here.
public enum SIPDigestAlgorithm: String, Sendable, CaseIterable {
    case md5 = "MD5"
    case sha256 = "SHA-256"

    /// Hex digits of a response computed with this algorithm.
    public var hexLength: Int { self == .md5 ? 32 : 64 }

    /// Parses an algorithm token case-insensitively; `-sess` variants are not offered, so not accepted.
    public init?(token: String) {
        switch token.uppercased() {
        case "MD5": self = .md5
        case "SHA-256": self = .sha256
        default: return nil
        }
    }
}

/// The client's answer to a challenge, from an Authorization or Proxy-Authorization header value.
public struct SIPDigestCredentials: Sendable, Equatable {
    public var username: String
    public var realm: String
    public var nonce: String
    public var uri: String
    /// Lower-case hex.
    public var response: String
    public var algorithm: SIPDigestAlgorithm
    public var opaque: String?
    /// `auth` when the client used quality of protection; nil for the RFC 2069 form.
    public var qop: String?
    public var cnonce: String?
    /// The nonce count, present with `qop`.
    public var nonceCount: UInt32?

    public init(username: String, realm: String, nonce: String, uri: String, response: String,
                algorithm: SIPDigestAlgorithm = .md5, opaque: String? = nil, qop: String? = nil,
                cnonce: String? = nil, nonceCount: UInt32? = nil) {
        self.username = username
        self.realm = realm
        self.nonce = nonce
        self.uri = uri
        self.response = response
        self.algorithm = algorithm
        self.opaque = opaque
        self.qop = qop
        self.cnonce = cnonce
        self.nonceCount = nonceCount
    }

    static let longestValue = 512

    /// Parses `Digest name=value, ...`. Every way a value can be wrong is named in the error,
    /// which the B2BUA sends back in a 400's Warning.
    public init(parsing text: String, header: String = "Authorization") throws(SIPParseError) {
        func failure(_ detail: String) -> SIPParseError { SIPParseError(.invalidHeader, header: header, detail) }
        let trimmed = text.drop { $0 == " " || $0 == "\t" }
        guard trimmed.count > 6, trimmed.prefix(6).lowercased() == "digest", let separator = trimmed.dropFirst(6).first,
              separator == " " || separator == "\t" else {
            throw failure("scheme is not Digest")
        }
        var fields: [String: String] = [:]
        for (name, value) in try SIPDigestParameterList.parse(trimmed.dropFirst(7), failure: failure) {
            guard fields.updateValue(value, forKey: name) == nil else { throw failure("parameter '\(name)' appears twice") }
        }
        func required(_ name: String) throws(SIPParseError) -> String {
            guard let value = fields[name] else { throw failure("parameter '\(name)' is missing") }
            return value
        }
        username = try required("username")
        realm = try required("realm")
        nonce = try required("nonce")
        uri = try required("uri")
        guard !username.isEmpty, !nonce.isEmpty, !uri.isEmpty else { throw failure("username, nonce and uri must not be empty") }
        if let token = fields["algorithm"] {
            guard let known = SIPDigestAlgorithm(token: token) else { throw failure("algorithm '\(token)' is not supported (MD5, SHA-256)") }
            algorithm = known
        } else {
            algorithm = .md5
        }
        let answer = try required("response").lowercased()
        guard answer.count == algorithm.hexLength, answer.utf8.allSatisfy({ ByteClass.isHexDigit($0) }) else {
            throw failure("response must be \(algorithm.hexLength) hex digits for \(algorithm.rawValue)")
        }
        response = answer
        opaque = fields["opaque"]
        qop = fields["qop"]
        cnonce = fields["cnonce"]
        if let qop {
            guard qop.lowercased() == "auth" else { throw failure("qop '\(qop)' is not supported (auth)") }
            guard let cnonce, !cnonce.isEmpty else { throw failure("cnonce is required with qop") }
            guard let count = fields["nc"], count.count == 8, let value = UInt32(count, radix: 16) else {
                throw failure("nc must be 8 hex digits with qop")
            }
            nonceCount = value
        } else {
            guard fields["nc"] == nil, fields["cnonce"] == nil else { throw failure("nc and cnonce are only valid with qop") }
            nonceCount = nil
        }
    }

    /// The header value, for clients (tests, and the lab's own requests).
    public var headerValue: String {
        var text = "Digest username=\"\(username)\", realm=\"\(realm)\", nonce=\"\(nonce)\", uri=\"\(uri)\", response=\"\(response)\", algorithm=\(algorithm.rawValue)"
        if let opaque { text += ", opaque=\"\(opaque)\"" }
        if let qop, let cnonce, let nonceCount {
            let hex = String(nonceCount, radix: 16)
            text += ", qop=\(qop), cnonce=\"\(cnonce)\", nc=\(String(repeating: "0", count: max(0, 8 - hex.count)) + hex)"
        }
        return text
    }
}

/// A server's challenge, rendered for WWW-Authenticate or Proxy-Authenticate (and parsed back by
/// tests and clients).
public struct SIPDigestChallenge: Sendable, Equatable {
    public var realm: String
    public var nonce: String
    public var algorithm: SIPDigestAlgorithm
    public var opaque: String?
    /// The nonce was valid once but has expired: the client retries with the new one without
    /// asking its user for the password again (RFC 3261 §22.4).
    public var stale: Bool

    public init(realm: String, nonce: String, algorithm: SIPDigestAlgorithm, opaque: String? = nil, stale: Bool = false) {
        self.realm = realm
        self.nonce = nonce
        self.algorithm = algorithm
        self.opaque = opaque
        self.stale = stale
    }

    public var headerValue: String {
        var text = "Digest realm=\"\(realm)\", nonce=\"\(nonce)\", algorithm=\(algorithm.rawValue), qop=\"auth\""
        if let opaque { text += ", opaque=\"\(opaque)\"" }
        if stale { text += ", stale=true" }
        return text
    }

    public init(parsing text: String, header: String = "WWW-Authenticate") throws(SIPParseError) {
        func failure(_ detail: String) -> SIPParseError { SIPParseError(.invalidHeader, header: header, detail) }
        let trimmed = text.drop { $0 == " " }
        guard trimmed.prefix(7).lowercased() == "digest " else { throw failure("scheme is not Digest") }
        var fields: [String: String] = [:]
        for (name, value) in try SIPDigestParameterList.parse(trimmed.dropFirst(7), failure: failure) { fields[name] = value }
        guard let realm = fields["realm"], let nonce = fields["nonce"] else { throw failure("realm and nonce are required") }
        self.realm = realm
        self.nonce = nonce
        guard let algorithm = SIPDigestAlgorithm(token: fields["algorithm"] ?? "MD5") else { throw failure("unsupported algorithm") }
        self.algorithm = algorithm
        opaque = fields["opaque"]
        stale = fields["stale"]?.lowercased() == "true"
    }
}

/// `name=value` pairs separated by commas, values tokens or quoted strings (read with the
/// header grammar's own `ByteReader` and unquoted as display names are); names lower-cased.
enum SIPDigestParameterList {
    static func parse(_ text: Substring, failure: (String) -> SIPParseError) throws(SIPParseError) -> [(String, String)] {
        let pairs = try withByteReader(String(text)) { (reader: inout ByteReader) throws(SIPParseError) -> [(String, String)] in
            var pairs: [(String, String)] = []
            reader.skipWhitespace()
            while !reader.isAtEnd {
                let nameRange = reader.read(while: ByteClass.isToken)
                guard !nameRange.isEmpty else { throw failure("expected a parameter name at offset \(reader.position)") }
                let name = reader.string(nameRange).lowercased()
                guard reader.consumeSeparator(UInt8(ascii: "=")) else { throw failure("parameter '\(name)' has no value") }
                let value: String
                if reader.current == ByteClass.quote {
                    let quoted: Range<Int>
                    do throws(SIPParseError) { quoted = try reader.readQuotedString() } catch { throw failure("parameter '\(name)': \(error.detail)") }
                    value = SIPNameAddress.unquote(reader, quoted)
                } else {
                    let token = reader.read(while: ByteClass.isToken)
                    guard !token.isEmpty else { throw failure("parameter '\(name)' has an empty value") }
                    value = reader.string(token)
                }
                guard value.utf8.count <= SIPDigestCredentials.longestValue else {
                    throw failure("parameter '\(name)' is longer than \(SIPDigestCredentials.longestValue) bytes")
                }
                pairs.append((name, value))
                reader.skipWhitespace()
                guard !reader.isAtEnd else { break }
                guard reader.consumeSeparator(UInt8(ascii: ",")) else { throw failure("expected ',' after parameter '\(name)'") }
            }
            return pairs
        }
        guard !pairs.isEmpty else { throw failure("no parameters") }
        return pairs
    }
}
