/// Why a request was refused. Travels in the `error` member of a reply; `code` is stable for
/// programs, `message` says what failed and why for people.
public struct MediaControlFailure: Error, Sendable, Codable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Codable {
        case malformedRequest
        case unsupportedVersion
        case unknownOperation
        case missingField
        case invalidAddress
        case unknownSession
        case portRangeExhausted
        case socketFailure
        case internalError
        /// Firewall requests: this daemon does not manage the firewall, or the kernel refused
        /// for lack of privilege or nftables support.
        case firewallUnavailable
        /// Firewall requests: the kernel rejected the change (the message names the object).
        case firewallFailed
        /// `unban` of an address that is not banned.
        case notBanned
        /// `dtmf`: the digits cannot go in this session's media (no decoded path, or a leg that
        /// takes neither telephone-events nor tones): the controller sends them as SIP INFO.
        case dtmfNotPlayed
        /// `dtmf`: the digits are not to be delivered at all: the direction already sends DTMF
        /// in the media (first method locks it), or its receive setting excludes SIP INFO.
        case dtmfDropped
        /// Client side only: the daemon could not be reached or hung up.
        case connectionFailed
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
