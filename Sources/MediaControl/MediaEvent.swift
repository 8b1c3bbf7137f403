/// Something the relay noticed on its own, pushed to subscribed connections. Event lines carry
/// `event` and no `id`, which is how a reader tells them from replies.
public struct MediaEvent: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        /// No RTP either way for the session's RTP timeout: the controller should release the call.
        case rtpTimeout
        /// A leg learned its far end's real address from its first RTP packet.
        case legLatched
        /// A DTMF digit arrived from `leg`'s far end (RFC 4733 events or tones) that the relay
        /// could not deliver in the other leg's media: the controller sends it as SIP INFO.
        case dtmf
    }

    public var version: Int
    public var event: Kind
    public var session: String
    public var tag: String?
    public var leg: Int?
    public var address: MediaEndpoint?
    public var idleSeconds: Double?
    /// `dtmf`: the digit (0-9, *, #, A-D), how long it lasted and how it came (`rfc2833`, `inband`).
    public var digit: String?
    public var durationMs: Int?
    public var method: String?

    public init(event: Kind, session: String, tag: String?, leg: Int? = nil, address: MediaEndpoint? = nil, idleSeconds: Double? = nil,
                digit: String? = nil, durationMs: Int? = nil, method: String? = nil) {
        self.version = MediaControl.protocolVersion
        self.event = event
        self.session = session
        self.tag = tag
        self.leg = leg
        self.address = address
        self.idleSeconds = idleSeconds
        self.digit = digit
        self.durationMs = durationMs
        self.method = method
    }
}
