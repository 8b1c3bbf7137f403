import VOSModel

/// The reply to one request, matched by `id`. On success `sessions` carries the sessions the
/// operation created, changed, deleted or listed; on failure `error` says why.
public struct MediaResponse: Sendable, Codable, Equatable {
    public var version: Int
    /// The request's id, or 0 when the request was too broken to carry one.
    public var id: UInt64
    public var ok: Bool
    public var sessions: [SessionInfo]?
    public var error: MediaControlFailure?
    /// Firewall operations' result (absent for media operations).
    public var firewall: FirewallReport?

    public static func success(id: UInt64, sessions: [SessionInfo]? = nil, firewall: FirewallReport? = nil) -> MediaResponse {
        MediaResponse(version: MediaControl.protocolVersion, id: id, ok: true, sessions: sessions, error: nil, firewall: firewall)
    }

    public static func failure(id: UInt64, _ failure: MediaControlFailure) -> MediaResponse {
        MediaResponse(version: MediaControl.protocolVersion, id: id, ok: false, sessions: nil, error: failure, firewall: nil)
    }
}

/// Whether a leg's packets are forwarded by vos-mediad itself or by kernel rules.
public enum ForwardingPath: String, Sendable, Codable {
    case userspace
    case kernel
    /// Decoded by vos-mediad: transcoded, or with telephone-events remapped or DTMF tones
    /// detected or played (never offloaded).
    case transcode
}

/// Packet and byte counts in one direction.
public struct TrafficCounters: Sendable, Codable, Equatable {
    public var packets: UInt64
    public var bytes: UInt64

    public init(packets: UInt64 = 0, bytes: UInt64 = 0) {
        self.packets = packets
        self.bytes = bytes
    }
}

/// One leg as the relay sees it. `received` counts what arrived from this leg's far end,
/// `sent` what the relay sent to it.
public struct LegInfo: Sendable, Codable, Equatable {
    public var index: Int
    /// Local RTP address; RTCP is on port + 1.
    public var local: MediaEndpoint
    /// The SDP address the controller gave, if any.
    public var remote: MediaEndpoint?
    /// The real source learned from the first packet (symmetric RTP), once seen.
    public var latched: MediaEndpoint?
    public var path: ForwardingPath
    public var received: TrafficCounters
    public var sent: TrafficCounters
    /// Packets from a source other than the latched one, dropped.
    public var dropped: UInt64
    /// RTP packets lost by sequence number (RFC 3550 A.3): expected minus received; negative with duplicates.
    public var lost: Int64
    public var expected: UInt64
    public var lossPercent: Double
    /// RFC 3550 interarrival jitter, in milliseconds at an 8000 Hz clock.
    public var jitterMs: Double
    /// Seconds since this leg last sent RTP, nil before the first packet.
    public var idleSeconds: Double?
    /// The leg's negotiated codec when the controller gave one (`LegMedia`).
    public var codec: String?
    /// Decoded path: packets from this leg's far end dropped as malformed (truncated RTP, an
    /// unexpected payload type, a payload of impossible length, a bad telephone-event).
    public var malformed: UInt64?
    /// Decoded path: the delay the jitter buffer adds to this leg's far end's audio now (ms);
    /// absent without one (SS_JITTERBUFFER_*).
    public var jitterBufferMs: Int?

    // What this leg's far end reports in RTCP (SR/RR report blocks) about the media it receives,
    // i.e. what the relay sends it: measured at the far end, so known while the kernel relays
    // the RTP too. Absent before its first report block.
    /// Report blocks taken from the far end's RTCP.
    public var rtcpReports: UInt64?
    /// The latest report's fraction lost (since its previous report), in percent.
    public var rtcpLossPercent: Double?
    /// The latest report's cumulative number of packets lost (negative with duplicates).
    public var rtcpLost: Int64?
    /// The latest report's interarrival jitter in milliseconds (8000 Hz clock).
    public var rtcpJitterMs: Double?
    /// Datagrams from the far end taken for RTCP (RTCP port, or types 200-204 on the RTP port)
    /// that were not valid RTCP, ignored (relayed all the same). Absent when none.
    public var rtcpInvalid: UInt64?
    /// Latest round trip between the relay and this leg's far end, in milliseconds: from a sender
    /// report the relay forwarded to it and the report block it answered with (LSR/DLSR).
    public var roundTripMs: Double?
    /// Requirements §5 band: the worst of loss (the relay's own or the far end's report,
    /// whichever is worse), jitter (likewise) and round trip; absent while nothing is measured.
    public var quality: QualityBand?
    /// This leg's far end has sent no RTP for `MediaQuality.oneWayAudioSeconds` while the other
    /// leg's far end has (kernel counters included for offloaded calls).
    public var oneWayAudio: Bool?
    /// One-way audio happened on this leg at some point after its far end had sent RTP.
    public var oneWayAudioSeen: Bool?

    public init(index: Int, local: MediaEndpoint, remote: MediaEndpoint?, latched: MediaEndpoint?, path: ForwardingPath,
                received: TrafficCounters, sent: TrafficCounters, dropped: UInt64, lost: Int64, expected: UInt64,
                lossPercent: Double, jitterMs: Double, idleSeconds: Double?, codec: String? = nil, malformed: UInt64? = nil,
                rtcpReports: UInt64? = nil, rtcpLossPercent: Double? = nil, rtcpLost: Int64? = nil, rtcpJitterMs: Double? = nil,
                rtcpInvalid: UInt64? = nil, roundTripMs: Double? = nil, quality: QualityBand? = nil, oneWayAudio: Bool? = nil,
                oneWayAudioSeen: Bool? = nil, jitterBufferMs: Int? = nil) {
        self.index = index
        self.local = local
        self.remote = remote
        self.latched = latched
        self.path = path
        self.received = received
        self.sent = sent
        self.dropped = dropped
        self.lost = lost
        self.expected = expected
        self.lossPercent = lossPercent
        self.jitterMs = jitterMs
        self.idleSeconds = idleSeconds
        self.codec = codec
        self.malformed = malformed
        self.jitterBufferMs = jitterBufferMs
        self.rtcpReports = rtcpReports
        self.rtcpLossPercent = rtcpLossPercent
        self.rtcpLost = rtcpLost
        self.rtcpJitterMs = rtcpJitterMs
        self.rtcpInvalid = rtcpInvalid
        self.roundTripMs = roundTripMs
        self.quality = quality
        self.oneWayAudio = oneWayAudio
        self.oneWayAudioSeen = oneWayAudioSeen
    }
}

public struct SessionInfo: Sendable, Codable, Equatable {
    public var session: String
    public var tag: String?
    /// Seconds since the session was created.
    public var ageSeconds: Double
    /// The RTP timeout this session was created with (0 = none).
    public var rtpTimeoutSeconds: Int
    public var legs: [LegInfo]

    public init(session: String, tag: String?, ageSeconds: Double, rtpTimeoutSeconds: Int, legs: [LegInfo]) {
        self.session = session
        self.tag = tag
        self.ageSeconds = ageSeconds
        self.rtpTimeoutSeconds = rtpTimeoutSeconds
        self.legs = legs
    }
}
