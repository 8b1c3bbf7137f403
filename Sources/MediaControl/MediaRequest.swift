/// What the controller can ask vos-mediad to do.
public enum MediaOperation: String, Sendable, Codable, CaseIterable {
    /// Allocate a session of two legs, each with a local RTP/RTCP port pair.
    case create
    /// Set or change one leg's remote (SDP) address.
    case update
    /// Release a session; the reply carries its final statistics.
    case delete
    /// Statistics of one session (`session` set) or of all sessions.
    case stats
    /// Push events (RTP timeout, leg latched) on this connection from now on.
    case subscribe
    /// Liveness check.
    case ping
    /// Play `digits` toward leg `leg`'s far end: as RFC 4733 events when the leg has a
    /// telephone-event payload type, else as tones (G.711). What the controller does with SIP INFO.
    case dtmf
    /// Compile the firewall from the store and program it (one atomic batch); reply: `firewall`.
    case firewallApply
    /// Read the live firewall back: rules with counters and drift against the store's policy.
    case firewallAudit
    /// Put `address` in the ban set for `seconds` (default SS_FIREWALL_BAN_TIME) with `reason`.
    case ban
    /// Lift the ban on `address`.
    case unban
    /// List the ban set.
    case bans
}

/// One leg of a `create` request: where the relay listens for it and, if already known, the
/// address its SDP announced.
public struct LegRequest: Sendable, Codable, Equatable {
    /// Local IP to bind; the daemon's default media IP when absent.
    public var local: String?
    /// The SDP address of the far end; it may be set later with `update`.
    public var remote: MediaEndpoint?
    /// The leg's negotiated format (see `LegMedia`); absent = relay packets as they come.
    public var media: LegMedia?

    public init(local: String? = nil, remote: MediaEndpoint? = nil, media: LegMedia? = nil) {
        self.local = local
        self.remote = remote
        self.media = media
    }
}

/// One request line. Which members matter depends on `op` (see docs/media-control-protocol.md).
public struct MediaRequest: Sendable, Codable, Equatable {
    public var version: Int
    public var id: UInt64
    public var op: MediaOperation
    /// The controller's own name for the session (its call id), echoed in listings and events.
    public var tag: String?
    public var legs: [LegRequest]?
    public var session: String?
    public var leg: Int?
    public var remote: MediaEndpoint?
    /// `ban`/`unban`: the IPv4 or IPv6 address (no port, no prefix).
    public var address: String?
    /// `ban`: how long, 1-604800 seconds.
    public var seconds: Int?
    /// `ban`: why, kept with the kernel entry and shown by `vosctl firewall bans`.
    public var reason: String?
    /// `update`: the leg's negotiated format (with or without `remote`).
    public var media: LegMedia?
    /// `dtmf`: the digits to play (0-9, *, #, A-D).
    public var digits: String?
    /// `dtmf`: how long each digit sounds, 40-2000 ms (default 100).
    public var durationMs: Int?

    public init(id: UInt64, op: MediaOperation, tag: String? = nil, legs: [LegRequest]? = nil,
                session: String? = nil, leg: Int? = nil, remote: MediaEndpoint? = nil,
                address: String? = nil, seconds: Int? = nil, reason: String? = nil, media: LegMedia? = nil,
                digits: String? = nil, durationMs: Int? = nil) {
        self.version = MediaControl.protocolVersion
        self.id = id
        self.op = op
        self.tag = tag
        self.legs = legs
        self.session = session
        self.leg = leg
        self.remote = remote
        self.address = address
        self.seconds = seconds
        self.reason = reason
        self.media = media
        self.digits = digits
        self.durationMs = durationMs
    }
}
