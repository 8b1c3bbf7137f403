/// Why MediaDSP refused a configuration. Raised only while setting up (formats, codecs,
/// processors); the packet path never throws, it counts what it drops.
public enum MediaDSPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A media format or option field is out of its allowed range.
    case invalidParameter(name: String, value: String, reason: String)
    /// The codec library could not give a channel context.
    case codecUnavailable(AudioCodec, reason: String)

    public var description: String {
        switch self {
        case let .invalidParameter(name, value, reason):
            return "\(name) \(value) is not usable: \(reason)"
        case let .codecUnavailable(codec, reason):
            return "\(codec.rawValue) codec is unavailable: \(reason)"
        }
    }
}
