/// What one leg negotiated in SDP for its audio: codec, payload types, packetisation and DTMF
/// events. Validated once, so the packet path can trust every field.
public struct LegMediaFormat: Sendable, Equatable {
    public let codec: AudioCodec
    public let payloadType: UInt8
    /// Audio per packet this leg is sent (`a=ptime`).
    public let ptimeMilliseconds: Int
    /// The RFC 4733 telephone-event payload type, nil when the leg did not offer events.
    public let telephoneEventPayloadType: UInt8?
    /// Event codes the leg accepts (the `a=fmtp:<pt> 0-16` list, as one range).
    public let telephoneEventRange: ClosedRange<UInt8>
    /// G.729 annex B (VAD, SID frames, no packets in silence); `annexb=no` in SDP means false.
    public let annexB: Bool

    public static let ptimeRange: ClosedRange<Int> = 10...60

    /// - Parameter payloadType: nil for the codec's static payload type.
    public init(
        codec: AudioCodec, payloadType: UInt8? = nil, ptimeMilliseconds: Int = 20,
        telephoneEventPayloadType: UInt8? = nil, telephoneEventRange: ClosedRange<UInt8> = 0...16,
        annexB: Bool = false
    ) throws(MediaDSPError) {
        let payloadType = payloadType ?? codec.staticPayloadType
        try Self.validate(payloadType: payloadType, name: "payload type", for: codec)
        guard Self.ptimeRange.contains(ptimeMilliseconds) else {
            throw .invalidParameter(
                name: "ptime", value: "\(ptimeMilliseconds) ms",
                reason: "must be \(Self.ptimeRange.lowerBound)...\(Self.ptimeRange.upperBound) ms")
        }
        if codec == .g729, ptimeMilliseconds % 10 != 0 {
            throw .invalidParameter(
                name: "ptime", value: "\(ptimeMilliseconds) ms",
                reason: "G729 packets carry whole 10 ms frames, so ptime must be a multiple of 10")
        }
        if let eventType = telephoneEventPayloadType {
            try Self.validate(payloadType: eventType, name: "telephone-event payload type", for: nil)
            guard eventType != payloadType else {
                throw .invalidParameter(
                    name: "telephone-event payload type", value: "\(eventType)",
                    reason: "it is also the audio payload type")
            }
        }
        if annexB, codec != .g729 {
            throw .invalidParameter(name: "annexB", value: "true", reason: "annex B exists only for G729, not \(codec.rawValue)")
        }
        self.codec = codec
        self.payloadType = payloadType
        self.ptimeMilliseconds = ptimeMilliseconds
        self.telephoneEventPayloadType = telephoneEventPayloadType
        self.telephoneEventRange = telephoneEventRange
        self.annexB = annexB
    }

    /// Samples (8 kHz) in one packet of this leg.
    public var samplesPerPacket: Int { ptimeMilliseconds * AudioCodec.clockRate / 1000 }

    /// RFC 3551 assigns 0...34 statically; 72...76 would read as RTCP packet types 200...204 when
    /// RTP and RTCP share a port (RFC 5761 section 4); RTP has 7 bits of payload type.
    private static func validate(payloadType: UInt8, name: String, for codec: AudioCodec?) throws(MediaDSPError) {
        guard payloadType <= 127 else {
            throw .invalidParameter(name: name, value: "\(payloadType)", reason: "RTP payload types are 0...127")
        }
        guard !(72...76).contains(payloadType) else {
            throw .invalidParameter(
                name: name, value: "\(payloadType)", reason: "72...76 collide with RTCP when RTP and RTCP share a port")
        }
        if payloadType <= 34, payloadType != codec?.staticPayloadType {
            let owner = codec.map { "\($0.rawValue) (static \($0.staticPayloadType))" } ?? "telephone-event"
            throw .invalidParameter(
                name: name, value: "\(payloadType)",
                reason: "0...34 are RFC 3551 static assignments of other codecs, not usable for \(owner)")
        }
    }
}
