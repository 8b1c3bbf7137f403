import MediaControl

/// Why the relay refused an operation. Each case names what failed and why; `failure` is the
/// form sent back to the controller.
public enum RelayError: Error, Sendable, Equatable, CustomStringConvertible {
    case portRangeExhausted(range: ClosedRange<Int>, pairsInUse: Int)
    case invalidAddress(String, reason: String)
    case socketFailure(operation: String, address: String, reason: String)
    case unknownSession(String)
    case invalidLeg(session: String, leg: Int)
    case invalidRequest(String)
    case dtmfNotPlayed(String)
    case dtmfDropped(String)
    case stopped

    public var description: String {
        switch self {
        case let .portRangeExhausted(range, inUse):
            return "no free RTP/RTCP port pair in \(range.lowerBound)-\(range.upperBound) (\(inUse) pairs in use by vos-mediad; widen SS_MEDIAPROXYPORT_START/END)"
        case let .invalidAddress(text, reason):
            return "address \"\(text)\" is not usable: \(reason)"
        case let .socketFailure(operation, address, reason):
            return "\(operation) on \(address) failed: \(reason)"
        case let .unknownSession(id):
            return "no session \"\(id)\""
        case let .invalidLeg(session, leg):
            return "session \(session) has no leg \(leg) (legs are 0 and 1)"
        case let .invalidRequest(reason), let .dtmfNotPlayed(reason), let .dtmfDropped(reason):
            return reason
        case .stopped:
            return "the relay is shutting down"
        }
    }

    public var failure: MediaControlFailure {
        switch self {
        case .portRangeExhausted: return MediaControlFailure(.portRangeExhausted, description)
        case .invalidAddress: return MediaControlFailure(.invalidAddress, description)
        case .socketFailure: return MediaControlFailure(.socketFailure, description)
        case .unknownSession: return MediaControlFailure(.unknownSession, description)
        case .invalidLeg, .invalidRequest: return MediaControlFailure(.malformedRequest, description)
        case .dtmfNotPlayed: return MediaControlFailure(.dtmfNotPlayed, description)
        case .dtmfDropped: return MediaControlFailure(.dtmfDropped, description)
        case .stopped: return MediaControlFailure(.internalError, description)
        }
    }
}
