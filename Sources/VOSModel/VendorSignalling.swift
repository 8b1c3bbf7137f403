/// How vos writes the INVITE a routing gateway gets, beyond numbers and identity: `user=phone`,
/// headers of the operator's own, which of the customer's other headers go through, and what a
/// 3xx from the vendor means.
public struct VendorSignalling: Sendable, Hashable, Codable {
    /// What a vendor's 3xx means.
    public enum Redirects: String, Sendable, Codable, CaseIterable {
        /// An ordinary failure of this gateway (failover goes on per its stop codes).
        case fail
        /// Its first Contact is tried as a new attempt of the same call, with the gateway's limits.
        case follow
    }

    /// `;user=phone` on the Request-URI and To (RFC 3261 §19.1.1): the user part is a number.
    public var userPhone = false
    /// Extra header lines, `Name: value`, added to every INVITE to this gateway.
    public var headers: [String] = []
    /// Which of the customer's other INVITE headers are forwarded: nil none, `["*"]` all.
    public var forwardHeaders: [String]?
    public var redirects: Redirects = .fail

    public init() {}

    public var isDefault: Bool { self == VendorSignalling() }

    /// Headers vos writes itself: never added or forwarded as extras.
    public static let reservedHeaders: Set<String> = [
        "via", "from", "to", "call-id", "cseq", "contact", "max-forwards", "content-length", "content-type",
        "route", "record-route", "allow", "supported", "require", "session-expires", "min-se",
        "p-asserted-identity", "p-preferred-identity", "privacy", "remote-party-id", "rseq", "rack",
        "authorization", "proxy-authorization", "proxy-require", "expires", "content-encoding", "accept",
    ]

    /// Checks one `Name: value` line for `--header`.
    public static func validateHeader(_ line: String) throws(ModelError) {
        guard let colon = line.firstIndex(of: ":") else {
            throw ModelError.invalid(field: "--header", value: line, expected: "Name: value")
        }
        let name = line[..<colon].trimmingSpaces
        let value = line[line.index(after: colon)...].trimmingSpaces
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.!%*+`'~".contains($0)) }) else {
            throw ModelError.invalid(field: "--header", value: line, expected: "a header name of letters, digits and -_.!%*+`'~")
        }
        guard !value.isEmpty, !value.contains(where: { $0.isNewline || $0 == "\0" }) else {
            throw ModelError.invalid(field: "--header", value: line, expected: "a value on one line")
        }
        guard !reservedHeaders.contains(name.lowercased()) else {
            throw ModelError.invalid(field: "--header", value: line, expected: "a header vos does not write itself (not \(name))")
        }
    }

    /// Checks the whole setting.
    public func validate() throws(ModelError) {
        for line in headers { try Self.validateHeader(line) }
        for name in forwardHeaders ?? [] where name != "*" {
            guard !name.isEmpty, !Self.reservedHeaders.contains(name.lowercased()),
                  name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
                throw ModelError.invalid(field: "--forward-headers", value: name, expected: "header names vos does not write itself, or all, or none")
            }
        }
    }

    /// Whether the customer's header `name` goes through to the vendor.
    public func forwards(_ name: String) -> Bool {
        guard let names = forwardHeaders, !Self.reservedHeaders.contains(name.lowercased()) else { return false }
        return names == ["*"] || names.contains { $0.lowercased() == name.lowercased() }
    }
}
