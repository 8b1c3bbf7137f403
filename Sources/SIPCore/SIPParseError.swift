/// Why a message, header, URI or SDP body could not be parsed.
///
/// `description` is meant for logs and Warning headers, e.g.
/// `header 'CSeq': method 'INVITE' does not match request method 'OPTIONS'`.
public struct SIPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case messageTooLarge
        case tooManyHeaders
        case lineTooLong
        case incompleteHeaderSection
        case invalidEncoding
        case invalidStartLine
        case unsupportedVersion
        case invalidHeader
        case missingHeader
        case duplicateHeader
        case invalidURI
        case bodyLengthMismatch
        case invalidSDP
    }

    public var kind: Kind
    /// Canonical name of the header involved, if any.
    public var header: String?
    public var detail: String

    public init(_ kind: Kind, header: String? = nil, _ detail: String) {
        self.kind = kind
        self.header = header
        self.detail = detail
    }

    public var description: String {
        if let header { return "header '\(header)': \(detail)" }
        return detail
    }

    /// The status a UAS or proxy should answer a request with when this error is hit.
    public var suggestedStatusCode: Int {
        switch kind {
        case .messageTooLarge: return 513
        case .unsupportedVersion: return 505
        default: return 400
        }
    }

    /// A short reason phrase naming the culprit, e.g. "Bad CSeq".
    public var suggestedReasonPhrase: String {
        switch kind {
        case .messageTooLarge: return "Message Too Large"
        case .unsupportedVersion: return "Version Not Supported"
        case .invalidStartLine: return "Bad Request Line"
        case .invalidURI where header == nil: return "Bad Request-URI"
        case .bodyLengthMismatch: return "Bad Content-Length"
        case .missingHeader: return "Missing \(header ?? "Header")"
        default:
            if let header { return "Bad \(header)" }
            return "Bad Request"
        }
    }

    func withHeader(_ name: String) -> SIPParseError {
        var copy = self
        if copy.header == nil { copy.header = name }
        return copy
    }
}
