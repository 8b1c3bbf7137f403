/// Something the relay noticed on its own, pushed to subscribed connections. Event lines carry
/// `event` and no `id`, which is how a reader tells them from replies.
public struct MediaEvent: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        /// No RTP either way for the session's RTP timeout: the controller should release the call.
        case rtpTimeout
        /// A leg learned its far end's real address from its first RTP packet.
        case legLatched
    }

    public var version: Int
    public var event: Kind
    public var session: String
    public var tag: String?
    public var leg: Int?
    public var address: MediaEndpoint?
    public var idleSeconds: Double?

    public init(event: Kind, session: String, tag: String?, leg: Int? = nil, address: MediaEndpoint? = nil, idleSeconds: Double? = nil) {
        self.version = MediaControl.protocolVersion
        self.event = event
        self.session = session
        self.tag = tag
        self.leg = leg
        self.address = address
        self.idleSeconds = idleSeconds
    }
}
