import VOSModel

/// Codec and DTMF negotiation for the two legs of a call (requirements §6), RFC 3264 offer/answer
/// on each leg: vos takes the caller's offer, makes its own offer to the vendor from what both
/// gateways allow, reads the vendor's answer and answers the caller. A codec both sides share is
/// relayed as it is; only when they share none and both gateways say `convert` does vos offer the
/// vendor its own codecs and transcode. Pure: the B2BUA reads and writes the SDP (SIPCore's
/// `SDPAudioFormat`) and runs the relay the plan asks for.

/// One entry of an SDP audio format list.
public struct OfferedFormat: Sendable, Equatable {
    public var payloadType: Int
    /// Uppercased: encoding names are case-insensitive.
    public var encoding: String
    public var clockRate: Int
    public var fmtp: String?

    public init(payloadType: Int, encoding: String, clockRate: Int = 8000, fmtp: String? = nil) {
        self.payloadType = payloadType
        self.encoding = encoding.uppercased()
        self.clockRate = clockRate
        self.fmtp = fmtp
    }

    /// The static RFC 3551 format vos offers for `codec` when it transcodes.
    public init(codec: Codec, annexB: Bool) {
        switch codec {
        case .pcmu: self.init(payloadType: 0, encoding: "PCMU")
        case .pcma: self.init(payloadType: 8, encoding: "PCMA")
        case .g729: self.init(payloadType: 18, encoding: "G729", fmtp: annexB ? nil : "annexb=no")
        }
    }

    /// The codec vos handles, nil for anything else (telephone-event, G723, GSM, opus, a
    /// wideband clock). G729A is G.729 with a simpler encoder: its frames are G.729 frames.
    public var codec: Codec? {
        guard clockRate == 8000 else { return nil }
        switch encoding {
        case "PCMA": return .pcma
        case "PCMU": return .pcmu
        case "G729", "G729A": return .g729
        default: return nil
        }
    }

    public var isTelephoneEvent: Bool { encoding == "TELEPHONE-EVENT" && clockRate == 8000 }

    /// The name for `a=rtpmap`: RFC 4733 spells telephone-event in lower case, and some peers
    /// compare it case-sensitively.
    public var sdpEncoding: String { isTelephoneEvent ? "telephone-event" : encoding }

    /// How refusals name the format: `G723`, `OPUS/48000`.
    var label: String { clockRate == 8000 ? encoding : "\(encoding)/\(clockRate)" }

    /// G.729's `annexb` parameter (RFC 4856): yes unless it says no.
    var allowsAnnexB: Bool {
        !(fmtp ?? "").lowercased().filter { $0 != " " }.split(separator: ";").contains("annexb=no")
    }

    /// This format with `annexb=no` when annex B is off (other parameters kept), or as it was.
    func withAnnexB(_ on: Bool) -> OfferedFormat {
        guard codec == .g729, !on else { return self }
        var format = self
        let others = (fmtp ?? "").split(separator: ";").map { $0.trimmingSpaces }
            .filter { !$0.isEmpty && !$0.lowercased().hasPrefix("annexb") }
        format.fmtp = (others + ["annexb=no"]).joined(separator: ";")
        return format
    }
}

/// An RFC 4733 telephone-event format: its payload type and the events it carries.
public struct TelephoneEventFormat: Sendable, Equatable {
    public var payloadType: Int
    public var events: ClosedRange<Int>

    public init(payloadType: Int, events: ClosedRange<Int>) {
        self.payloadType = payloadType
        self.events = events
    }

    /// `LOW-HIGH`, as `a=fmtp` and vos-mediad take it.
    public var eventsText: String { "\(events.lowerBound)-\(events.upperBound)" }

    public var format: OfferedFormat {
        OfferedFormat(payloadType: payloadType, encoding: "telephone-event", fmtp: eventsText)
    }

    /// The events of a peer's `a=fmtp` (`0-15`, `0-11,16`), merged into runs; RFC 4733's
    /// default `0-15` when it has none or it cannot be read.
    static func declaredEvents(_ fmtp: String?) -> [ClosedRange<Int>] {
        var ranges: [ClosedRange<Int>] = []
        for item in (fmtp ?? "").split(separator: ",") {
            let bounds = item.split(separator: "-", omittingEmptySubsequences: false).map { Int($0.trimmingSpaces) }
            guard let low = bounds.first ?? nil, let high = bounds.last ?? nil, bounds.count <= 2, 0 <= low, low <= high, high <= 255 else {
                return [0...15]
            }
            ranges.append(low...high)
        }
        guard !ranges.isEmpty else { return [0...15] }
        var merged: [ClosedRange<Int>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, range.lowerBound <= last.upperBound + 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }

    /// The first run of the peer's events that overlaps `configured`, clipped to it: the DTMF
    /// digits, which every peer lists first.
    static func common(_ configured: ClosedRange<Int>, _ fmtp: String?) -> ClosedRange<Int>? {
        declaredEvents(fmtp).lazy.filter { $0.overlaps(configured) }
            .map { max($0.lowerBound, configured.lowerBound)...min($0.upperBound, configured.upperBound) }.first
    }
}

/// One gateway's codec and DTMF settings, with its name for refusals.
public struct GatewayMedia: Sendable, Equatable {
    public var name: String
    public var codecs: CodecSettings
    public var dtmf: DTMFSettings

    public init(name: String, codecs: CodecSettings = CodecSettings(), dtmf: DTMFSettings = DTMFSettings()) {
        self.name = name
        self.codecs = codecs
        self.dtmf = dtmf
    }

    public init(_ gateway: MappingGateway) { self.init(name: gateway.name, codecs: gateway.codecs, dtmf: gateway.dtmf) }
    public init(_ gateway: RoutingGateway) { self.init(name: gateway.name, codecs: gateway.codecs, dtmf: gateway.dtmf) }

    /// RFC 2833 is used in either direction, so telephone-event belongs in this leg's SDP.
    var usesRFC2833: Bool {
        dtmf.send == .auto || dtmf.send == .rfc2833 || dtmf.receive == .all || dtmf.receive == .rfc2833
    }
}

/// What one peer's SDP (an offer or an answer) and its Allow header declared.
public struct PeerMedia: Sendable, Equatable {
    /// Audio formats and telephone-event, in `m=` order.
    public var formats: [OfferedFormat]
    /// `a=ptime`, when the SDP has it.
    public var ptime: Int?
    /// Whether SIP INFO reaches the peer: its Allow lists INFO, or it sent no Allow.
    public var acceptsInfo: Bool

    public init(formats: [OfferedFormat], ptime: Int? = nil, acceptsInfo: Bool = true) {
        self.formats = formats
        self.ptime = ptime
        self.acceptsInfo = acceptsInfo
    }

    var telephoneEvent: OfferedFormat? { formats.first(where: \.isTelephoneEvent) }
}

/// Why a call cannot be set up with the codecs on offer: answered 488, CDR `CodecMismatch`.
public struct CodecRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String

    public init(_ reason: String) { self.reason = reason }

    public var statusCode: Int { 488 }
    public var endReason: EndReason { .codecMismatch }
    public var description: String { reason }
}

/// vos's offer to the vendor.
public struct VendorOffer: Sendable, Equatable {
    /// Audio formats in preference order.
    public var audio: [OfferedFormat]
    public var telephoneEvent: TelephoneEventFormat?
    /// The caller and the vendor share no codec: whatever the vendor picks is transcoded.
    public var transcoding: Bool

    public init(audio: [OfferedFormat], telephoneEvent: TelephoneEventFormat?, transcoding: Bool) {
        self.audio = audio
        self.telephoneEvent = telephoneEvent
        self.transcoding = transcoding
    }

    /// Everything for the offer's `m=` line, telephone-event last.
    public var formats: [OfferedFormat] { audio + (telephoneEvent.map { [$0.format] } ?? []) }
}

/// What one leg of the call carries once both sides have agreed.
public struct NegotiatedLeg: Sendable, Equatable {
    public var codec: Codec
    /// The payload type the leg's peer expects for `codec`.
    public var payloadType: Int
    /// Milliseconds per packet: the peer's `a=ptime`, else 20.
    public var ptime: Int
    /// RFC 2833 on this leg; with `dtmfSend == .rfc2833` toward a peer that declared none, the
    /// gateway's configured payload type and events (the operator forced RFC 2833).
    public var telephoneEvent: TelephoneEventFormat?
    /// G.729 annex B in use (false for other codecs).
    public var annexB: Bool
    /// How vos sends DTMF to this leg's peer.
    public var dtmfSend: DTMFMethod
    /// The methods vos accepts DTMF from this peer by; others are ignored.
    public var dtmfReceive: DTMFSettings.ReceiveMethod
    /// Tones in this peer's audio are detected as DTMF (G.711 only).
    public var inbandDetect: Bool

    public var inbandSend: Bool { dtmfSend == .inband }
    var isG711: Bool { codec == .pcma || codec == .pcmu }
}

/// Both legs, what to answer the caller, and whether the media must be processed.
public struct LegPlan: Sendable, Equatable {
    public var caller: NegotiatedLeg
    public var vendor: NegotiatedLeg
    /// The formats of vos's answer to the caller: its codec with the caller's payload type, and
    /// telephone-event with the caller's payload type when both use RFC 2833.
    public var callerAnswer: [OfferedFormat]
    /// The legs use different codecs.
    public var transcoding: Bool
    /// The relay must decode or rewrite packets (transcoding, telephone-event payload types that
    /// differ, DTMF converted between methods, tones detected or generated): such a call needs
    /// the relay (SS_MEDIAPROXYMODE 2 relays it) and cannot be offloaded to the kernel.
    public var needsMediaProcessing: Bool
}

public enum CodecNegotiation {
    /// vos's offer to the vendor for the caller's offer (audio and telephone-event formats in
    /// `m=` order), or why the call cannot go on.
    public static func offerToVendor(callerOffer: [OfferedFormat], caller: GatewayMedia,
                                     vendor: GatewayMedia) -> Result<VendorOffer, CodecRefusal> {
        let accepted: [Candidate]
        switch callerCandidates(callerOffer, caller) {
        case let .success(candidates): accepted = candidates
        case let .failure(refusal): return .failure(refusal)
        }
        let vendorCodecs = vendor.codecs.usable
        let common = accepted.filter { vendorCodecs.contains($0.codec) }
        let audio: [OfferedFormat]
        let transcoding: Bool
        if !common.isEmpty {
            // The caller's own payload types and parameters, so a plain relay works; annex B only
            // when both gateways allow it, since both legs carry the same frames.
            let annexB = caller.codecs.annexB && vendor.codecs.annexB
            audio = common.map { $0.format.withAnnexB(annexB) }
            transcoding = false
        } else if caller.codecs.mode == .convert && vendor.codecs.mode == .convert {
            audio = vendorCodecs.map { OfferedFormat(codec: $0, annexB: vendor.codecs.annexB) }
            transcoding = true
        } else {
            return .failure(CodecRefusal(
                "no common codec: the caller offered \(names(accepted.map(\.codec))) (accepted by '\(caller.name)'), "
                    + "'\(vendor.name)' accepts \(names(vendorCodecs))\(modeNote(vendor)); transcoding needs codec mode convert "
                    + "on both gateways ('\(caller.name)': \(caller.codecs.mode.rawValue), '\(vendor.name)': \(vendor.codecs.mode.rawValue))"))
        }
        var telephoneEvent: TelephoneEventFormat?
        if vendor.usesRFC2833, let events = vendor.dtmf.eventRange {
            let taken = Set(audio.map(\.payloadType))
            let configured = vendor.dtmf.rfc2833PayloadType
            // A relayed dynamic audio payload type may already use the configured number.
            if let payloadType = taken.contains(configured) ? (96...127).first(where: { !taken.contains($0) }) : configured {
                telephoneEvent = TelephoneEventFormat(payloadType: payloadType, events: events)
            }
        }
        return .success(VendorOffer(audio: audio, telephoneEvent: telephoneEvent, transcoding: transcoding))
    }

    /// Both legs from the vendor's answer to `vendorOffer`, and vos's answer to the caller.
    public static func answerToCaller(callerOffer: PeerMedia, vendorOffer: VendorOffer, vendorAnswer: PeerMedia,
                                      caller: GatewayMedia, vendor: GatewayMedia) -> Result<LegPlan, CodecRefusal> {
        let accepted: [Candidate]
        switch callerCandidates(callerOffer.formats, caller) {
        case let .success(candidates): accepted = candidates
        case let .failure(refusal): return .failure(refusal)
        }
        let answerAudio = vendorAnswer.formats.filter { !$0.isTelephoneEvent }
        let offered = vendorOffer.audio.compactMap(\.codec)
        guard let chosen = answerAudio.first(where: { $0.codec.map(offered.contains) ?? false }), let vendorCodec = chosen.codec else {
            let answered = answerAudio.isEmpty ? "no audio codec" : answerAudio.map(\.label).joined(separator: ", ") + ", which vos did not offer"
            return .failure(CodecRefusal("'\(vendor.name)' answered \(answered) (offered \(names(offered)))"))
        }
        let callerChoice: Candidate
        if let same = accepted.first(where: { $0.codec == vendorCodec }) {
            callerChoice = same
        } else if vendorOffer.transcoding, let first = accepted.first {
            callerChoice = first
        } else {
            return .failure(CodecRefusal("'\(vendor.name)' answered \(vendorCodec.rawValue), which the caller did not offer, and transcoding was not planned"))
        }
        let transcoding = callerChoice.codec != vendorCodec

        let offeredFormat = vendorOffer.audio.first { $0.codec == vendorCodec }
        let vendorAnnexB = vendorCodec == .g729 && (offeredFormat?.allowsAnnexB ?? false) && chosen.allowsAnnexB
        let callerAnnexB = callerChoice.codec == .g729
            && (transcoding ? callerChoice.format.allowsAnnexB && caller.codecs.annexB : vendorAnnexB)

        var vendorEvents: TelephoneEventFormat?
        if let ours = vendorOffer.telephoneEvent, let theirs = vendorAnswer.telephoneEvent,
           let events = TelephoneEventFormat.common(ours.events, theirs.fmtp) {
            let payloadType = vendor.dtmf.usePeerRFC2833Capability ? theirs.payloadType : ours.payloadType
            vendorEvents = TelephoneEventFormat(payloadType: payloadType, events: events)
        }
        var callerEvents: TelephoneEventFormat?
        if caller.usesRFC2833, let configured = caller.dtmf.eventRange, let theirs = callerOffer.telephoneEvent,
           let events = TelephoneEventFormat.common(configured, theirs.fmtp) {
            // RFC 3264 §6.1: the answer uses the offerer's payload type.
            callerEvents = TelephoneEventFormat(payloadType: theirs.payloadType, events: events)
        }

        let callerLeg = leg(callerChoice.codec, payloadType: callerChoice.format.payloadType, peer: callerOffer,
                            telephoneEvent: callerEvents, annexB: callerAnnexB, gateway: caller)
        let vendorLeg = leg(vendorCodec, payloadType: chosen.payloadType, peer: vendorAnswer,
                            telephoneEvent: vendorEvents, annexB: vendorAnnexB, gateway: vendor)
        var answer = [callerChoice.format.withAnnexB(callerAnnexB)]
        if let callerEvents { answer.append(callerEvents.format) }
        let processing = transcoding || callerLeg.inbandDetect || vendorLeg.inbandDetect
            || convertsDTMF(from: callerLeg, to: vendorLeg) || convertsDTMF(from: vendorLeg, to: callerLeg)
        return .success(LegPlan(caller: callerLeg, vendor: vendorLeg, callerAnswer: answer,
                                transcoding: transcoding, needsMediaProcessing: processing))
    }

    /// The DTMF method vos sends to a peer: forced inband, the gateway's explicit method, or for
    /// `auto` what the peer declared (requirements §6): RFC 2833 when its SDP has
    /// telephone-event, else SIP INFO when it accepts INFO, else tones on G.711; SIP INFO when
    /// none of these fits, as the one method that needs nothing from the media.
    public static func sendMethod(_ dtmf: DTMFSettings, peerHasTelephoneEvent: Bool, peerAcceptsInfo: Bool,
                                  codec: Codec) -> DTMFMethod {
        if dtmf.mustUseInbandSend { return .inband }
        switch dtmf.send {
        case .rfc2833: return .rfc2833
        case .info: return .info
        case .inband: return .inband
        case .auto:
            if peerHasTelephoneEvent { return .rfc2833 }
            if peerAcceptsInfo { return .info }
            return codec == .g729 ? .info : .inband
        }
    }

    // MARK: Steps

    /// A caller format vos can use, with its codec.
    private struct Candidate {
        var format: OfferedFormat
        var codec: Codec
    }

    /// The caller's audio formats its gateway accepts, in the caller's order, one per codec.
    private static func callerCandidates(_ offer: [OfferedFormat], _ caller: GatewayMedia) -> Result<[Candidate], CodecRefusal> {
        let audio = offer.filter { !$0.isTelephoneEvent }
        var supported: [Candidate] = []
        for format in audio {
            if let codec = format.codec, !supported.contains(where: { $0.codec == codec }) {
                supported.append(Candidate(format: format, codec: codec))
            }
        }
        guard !supported.isEmpty else {
            if audio.isEmpty { return .failure(CodecRefusal("the caller offered no audio codec")) }
            let reasons = audio.map { $0.encoding == "G723" ? "G723 is not supported (no free codec library)" : "\($0.label) is not supported" }
            return .failure(CodecRefusal(reasons.joined(separator: ", ")
                + "; offered: \(audio.map(\.label).joined(separator: ", ")) (vos handles PCMA, PCMU, G729)"))
        }
        let usable = caller.codecs.usable
        let accepted = supported.filter { usable.contains($0.codec) }
        guard !accepted.isEmpty else {
            return .failure(CodecRefusal("the caller offered \(names(supported.map(\.codec))); '\(caller.name)' accepts \(names(usable))\(modeNote(caller))"))
        }
        return .success(accepted)
    }

    private static func leg(_ codec: Codec, payloadType: Int, peer: PeerMedia, telephoneEvent: TelephoneEventFormat?,
                            annexB: Bool, gateway: GatewayMedia) -> NegotiatedLeg {
        let dtmf = gateway.dtmf
        let send = sendMethod(dtmf, peerHasTelephoneEvent: telephoneEvent != nil, peerAcceptsInfo: peer.acceptsInfo, codec: codec)
        var events = telephoneEvent
        if send == .rfc2833, events == nil, let configured = dtmf.eventRange {
            events = TelephoneEventFormat(payloadType: dtmf.rfc2833PayloadType, events: configured)
        }
        let g711 = codec == .pcma || codec == .pcmu
        let detect = g711 && (dtmf.receive == .inband || dtmf.receive == .all && dtmf.mediaContainsInband)
        return NegotiatedLeg(codec: codec, payloadType: payloadType, ptime: peer.ptime ?? 20, telephoneEvent: events,
                             annexB: annexB, dtmfSend: send, dtmfReceive: dtmf.receive, inbandDetect: detect)
    }

    /// Whether DTMF from `source`'s peer reaches `destination`'s peer only through the media
    /// processor, judged by the method the source declared: RFC 2833 when its leg has
    /// telephone-event, tones when they are detected, else SIP INFO. Equal methods pass as they
    /// are (RFC 2833 only with the same payload type); any other pair is a conversion.
    static func convertsDTMF(from source: NegotiatedLeg, to destination: NegotiatedLeg) -> Bool {
        let receive = source.dtmfReceive
        let incoming: DTMFMethod?
        if source.telephoneEvent != nil && (receive == .all || receive == .rfc2833) {
            incoming = .rfc2833
        } else if source.inbandDetect {
            incoming = .inband
        } else if receive == .all || receive == .info {
            incoming = .info
        } else {
            incoming = nil
        }
        guard let incoming else { return false }
        guard incoming == destination.dtmfSend else { return true }
        return incoming == .rfc2833 && source.telephoneEvent?.payloadType != destination.telephoneEvent?.payloadType
    }

    private static func names(_ codecs: [Codec]) -> String { codecs.map(\.rawValue).joined(separator: ", ") }

    private static func modeNote(_ gateway: GatewayMedia) -> String {
        gateway.codecs.mode == .specified ? " (codec mode specified: only its first codec)" : ""
    }
}
