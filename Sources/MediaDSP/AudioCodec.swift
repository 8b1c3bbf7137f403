/// The narrowband audio codecs the relay can decode and encode, with their RTP framing facts
/// (RFC 3551): all three run an 8 kHz RTP clock, so timestamps count samples for every one.
public enum AudioCodec: String, Sendable, CaseIterable {
    case pcma = "PCMA"
    case pcmu = "PCMU"
    case g729 = "G729"

    /// RTP clock rate (RFC 3551 section 6); the same for every case, so timestamps map 1:1.
    public static let clockRate = 8000

    /// Samples in 10 ms at the 8 kHz clock: the unit every ptime is built from (one G.729 frame).
    public static let samplesPer10Milliseconds = 80

    /// The RFC 3551 static payload type.
    public var staticPayloadType: UInt8 {
        switch self {
        case .pcmu: return 0
        case .pcma: return 8
        case .g729: return 18
        }
    }

    /// Payload bytes for 10 ms of voice (G.711: one byte a sample; G.729: one 10-byte frame).
    public var bytesPer10Milliseconds: Int {
        switch self {
        case .pcma, .pcmu: return 80
        case .g729: return 10
        }
    }

    /// The codec an SDP `a=rtpmap` encoding name denotes, compared case-insensitively (SDP
    /// encoding names are case-insensitive, RFC 4566 section 6); nil for any other codec.
    public init?(encodingName: String) {
        switch encodingName.uppercased() {
        case "PCMA": self = .pcma
        case "PCMU": self = .pcmu
        case "G729": self = .g729
        default: return nil
        }
    }
}
