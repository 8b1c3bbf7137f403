import SIPCore

/// Why a SIP byte stream could not be cut into messages. After one of these the stream is
/// out of sync and its connection is closed; `headerSection`, when present, is what a 400
/// (or 513) can be built from before closing.
public struct SIPStreamFramingError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// No empty line ending the header section within the size limit.
        case headerSectionTooLarge
        /// Header section plus declared body exceed the size limit.
        case messageTooLarge
        /// RFC 3261 §18.3: without Content-Length a stream cannot be framed.
        case missingContentLength
        case invalidContentLength
    }

    public var kind: Kind
    public var detail: String
    /// The complete header section of the offending message, if it was received.
    public var headerSection: [UInt8]?

    public init(kind: Kind, detail: String, headerSection: [UInt8]?) {
        self.kind = kind
        self.detail = detail
        self.headerSection = headerSection
    }

    public var description: String { detail }

    /// The same failure in the parser's terms, so responses and counters treat stream and
    /// datagram errors alike.
    public var parseError: SIPParseError {
        switch kind {
        case .headerSectionTooLarge, .messageTooLarge: return SIPParseError(.messageTooLarge, detail)
        case .missingContentLength: return SIPParseError(.missingHeader, header: "Content-Length", detail)
        case .invalidContentLength: return SIPParseError(.invalidHeader, header: "Content-Length", detail)
        }
    }
}
