/// Header-name normalization: SIP names are case-insensitive and many have a one-letter compact
/// form (RFC 3261 §7.3.3 and later extensions). Lookups compare canonical lowercase long names.
public enum SIPHeaderName {
    /// Compact form letter -> canonical long name.
    public static let compactForms: [UInt8: String] = [
        UInt8(ascii: "a"): "Accept-Contact",
        UInt8(ascii: "b"): "Referred-By",
        UInt8(ascii: "c"): "Content-Type",
        UInt8(ascii: "d"): "Request-Disposition",
        UInt8(ascii: "e"): "Content-Encoding",
        UInt8(ascii: "f"): "From",
        UInt8(ascii: "i"): "Call-ID",
        UInt8(ascii: "j"): "Reject-Contact",
        UInt8(ascii: "k"): "Supported",
        UInt8(ascii: "l"): "Content-Length",
        UInt8(ascii: "m"): "Contact",
        UInt8(ascii: "n"): "Identity-Info",
        UInt8(ascii: "o"): "Event",
        UInt8(ascii: "r"): "Refer-To",
        UInt8(ascii: "s"): "Subject",
        UInt8(ascii: "t"): "To",
        UInt8(ascii: "u"): "Allow-Events",
        UInt8(ascii: "v"): "Via",
        UInt8(ascii: "x"): "Session-Expires",
        UInt8(ascii: "y"): "Identity",
    ]

    private static let lowercasedCompactForms: [UInt8: String] =
        compactForms.mapValues { ByteClass.asciiLowercased($0) }

    /// The lookup key of a header name: lowercase, with compact forms expanded.
    public static func key(for name: String) -> String {
        let utf8 = name.utf8
        if utf8.count == 1, let first = utf8.first,
           let long = lowercasedCompactForms[ByteClass.lowercased(first)] {
            return long
        }
        return ByteClass.asciiLowercased(name)
    }

    // Keys of the headers the parser validates; spelled once to avoid typos.
    static let via = "via"
    static let from = "from"
    static let to = "to"
    static let callID = "call-id"
    static let cseq = "cseq"
    static let maxForwards = "max-forwards"
    static let contentLength = "content-length"
    static let contentType = "content-type"
    static let contact = "contact"
    static let route = "route"
    static let recordRoute = "record-route"
    static let expires = "expires"
    static let retryAfter = "retry-after"
    static let date = "date"
    static let minSE = "min-se"
    static let sessionExpires = "session-expires"
}
