/// What a leg's far end sends and accepts, as negotiated by the controller: the audio codec and
/// its payload type and packet time, the RFC 4733 telephone-event payload type and event range,
/// and how DTMF travels as tones on this leg. vos-mediad compares the two legs' formats: equal
/// formats (or none given) relay packets untouched and may be offloaded to the kernel; different
/// ones send the session through the decoded path (transcoding, telephone-event remapping, tone
/// detection and generation), which stays in userspace.
public struct LegMedia: Sendable, Codable, Equatable {
    /// `PCMA`, `PCMU` or `G729`.
    public var codec: String
    public var payloadType: Int
    /// Milliseconds of audio per packet this leg is sent; 20 when absent.
    public var ptime: Int?
    /// The leg's telephone-event payload type (96-127), nil when it has no RFC 4733 events.
    public var telephoneEvent: Int?
    /// Events the leg accepts, `LOW-HIGH` (e.g. `0-16`); `0-15` when absent.
    public var events: String?
    /// G.729 annex B (silence suppression) on this leg.
    public var annexB: Bool?
    /// The leg's audio carries DTMF as tones to detect (G.711 only).
    public var inbandDetect: Bool?
    /// DTMF toward this leg is played as tones in its audio.
    public var inbandSend: Bool?
    /// How this leg's far end may send DTMF: `all` (absent), `rfc2833`, `info` or `inband`;
    /// digits by another method are ignored.
    public var receive: String?

    public init(codec: String, payloadType: Int, ptime: Int? = nil, telephoneEvent: Int? = nil, events: String? = nil,
                annexB: Bool? = nil, inbandDetect: Bool? = nil, inbandSend: Bool? = nil, receive: String? = nil) {
        self.codec = codec
        self.payloadType = payloadType
        self.ptime = ptime
        self.telephoneEvent = telephoneEvent
        self.events = events
        self.annexB = annexB
        self.inbandDetect = inbandDetect
        self.inbandSend = inbandSend
        self.receive = receive
    }
}
