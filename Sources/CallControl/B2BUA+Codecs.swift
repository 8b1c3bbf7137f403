import MediaControl
import SIPCore
import Softswitch
import VOSModel

/// Codec negotiation on the call path (requirements §6): the offer each vendor gets, the plan
/// made from its answer (each leg's codec and DTMF method), the caller's answer, and the formats
/// vos-mediad is given when the legs differ. The decisions are `CodecNegotiation`'s; this file
/// moves SDP and state.
extension B2BUA {
    /// The first audio stream of an SDP as negotiation input.
    static func peerMedia(of sdp: SDPSession, acceptsInfo: Bool = true) -> PeerMedia {
        let formats = (sdp.audioFormats ?? []).map {
            OfferedFormat(payloadType: $0.payloadType, encoding: $0.encoding.uppercased(), clockRate: $0.clockRate, fmtp: $0.fmtp)
        }
        return PeerMedia(formats: formats, ptime: sdp.audioPtime, acceptsInfo: acceptsInfo)
    }

    /// The offer `candidate` gets for the caller's offer; nil for a delayed offer (the vendor
    /// then offers in its 2xx and the formats pass through unchanged).
    func vendorOffer(_ session: CallSession, for candidate: RouteCandidate) -> Result<VendorOffer, CodecRefusal>? {
        guard let caller = session.customerMedia else { return nil }
        return CodecNegotiation.offerToVendor(callerOffer: caller.formats,
                                              caller: GatewayMedia(session.mappingGateway), vendor: GatewayMedia(candidate.gateway))
    }

    /// Whether the planned offer already needs the relay to process media: transcoding, or
    /// telephone-events the caller and the vendor number differently or only one side has.
    static func offerNeedsProcessing(_ offer: VendorOffer, caller: PeerMedia?) -> Bool {
        if offer.transcoding { return true }
        let callerEvents = caller?.formats.first(where: \.isTelephoneEvent)?.payloadType
        return callerEvents != offer.telephoneEvent?.payloadType
    }

    /// The caller's offer with its audio formats replaced by the vendor offer's.
    static func sdp(_ sdp: SDPSession, offering formats: [OfferedFormat]) -> SDPSession {
        var rewritten = sdp
        let audio = formats.map {
            SDPAudioFormat(payloadType: $0.payloadType, encoding: $0.sdpEncoding, clockRate: $0.clockRate, fmtp: $0.fmtp)
        }
        // Only an SDP without an audio m= line refuses, and such an offer never gets here.
        try? rewritten.replaceAudioFormats(with: audio)
        return rewritten
    }

    /// Applies codec negotiation to an SDP crossing the B2BUA before it is pointed at the relay:
    /// the vendor's first answer makes the plan (and tells vos-mediad both legs' formats when they
    /// differ); every later SDP keeps each side on its negotiated formats.
    func negotiateCodecs(_ sdp: inout SDPSession, session: CallSession, fromVendor: Bool) {
        if fromVendor, session.codecPlan == nil, let offer = session.vendorOfferSent, let caller = session.customerMedia,
           let candidate = session.lastCandidate {
            let result = CodecNegotiation.answerToCaller(
                callerOffer: caller, vendorOffer: offer, vendorAnswer: Self.peerMedia(of: sdp),
                caller: GatewayMedia(session.mappingGateway), vendor: GatewayMedia(candidate.gateway))
            switch result {
            case let .success(plan):
                session.codecPlan = plan
                session.callerCodec = plan.caller.codec.rawValue
                session.calleeCodec = plan.vendor.codec.rawValue
                session.callerDTMF = plan.caller.dtmfSend.rawValue
                session.calleeDTMF = plan.vendor.dtmfSend.rawValue
                if plan.needsMediaProcessing, let mediaSession = session.mediaSession, let media {
                    media.update(session: mediaSession, leg: 0, remote: nil, media: Self.legMedia(plan.caller))
                    media.update(session: mediaSession, leg: 1, remote: nil, media: Self.legMedia(plan.vendor))
                }
            case let .failure(refusal):
                // The vendor answered outside our offer: passed on as it is (a plain B2BUA would).
                logger.warning("\(refusal.reason); the answer is passed on unchanged", metadata: session.logMetadata)
                return
            }
        }
        guard let plan = session.codecPlan, plan.needsMediaProcessing else { return }
        // Later offers and answers (a 200 after a 183, re-INVITEs, UPDATEs) keep both sides on
        // what was agreed: the relay converts between exactly these formats.
        if fromVendor {
            sdp = Self.sdp(sdp, offering: plan.callerAnswer)
        } else {
            var formats = [OfferedFormat(payloadType: plan.vendor.payloadType, encoding: plan.vendor.codec.rawValue,
                                         fmtp: plan.vendor.codec == .g729 && !plan.vendor.annexB ? "annexb=no" : nil)]
            if let events = plan.vendor.telephoneEvent { formats.append(events.format) }
            sdp = Self.sdp(sdp, offering: formats)
        }
    }

    /// The formats the answer to a transcoded attempt will most likely fix (the caller's first
    /// usable codec, the vendor's first offered one), for vos-mediad before the INVITE goes out:
    /// the first packets either way, which may arrive before the answer's update, are then
    /// converted (or dropped as an unexpected payload type), never passed on in the wrong codec.
    func provisionalFormats(_ session: CallSession, offer: VendorOffer) -> [LegMedia]? {
        guard let caller = session.customerMedia, let vendorFormat = offer.audio.first, let vendorCodec = vendorFormat.codec else {
            return nil
        }
        let usable = session.mappingGateway.codecs.usable
        guard let callerFormat = caller.formats.first(where: { $0.codec.map(usable.contains) ?? false }),
              let callerCodec = callerFormat.codec else { return nil }
        let callerEvents = caller.formats.first(where: \.isTelephoneEvent)
        return [LegMedia(codec: callerCodec.rawValue, payloadType: callerFormat.payloadType, ptime: caller.ptime ?? 20,
                         telephoneEvent: callerEvents?.payloadType, events: callerEvents.map { _ in "0-15" }),
                LegMedia(codec: vendorCodec.rawValue, payloadType: vendorFormat.payloadType, ptime: 20,
                         telephoneEvent: offer.telephoneEvent?.payloadType, events: offer.telephoneEvent?.eventsText,
                         annexB: vendorCodec == .g729 ? vendorFormat.fmtp != "annexb=no" : nil)]
    }

    /// A later attempt (another vendor) whose provisional formats differ from those vos-mediad
    /// has: updated before its INVITE.
    func announceProvisionalFormats(_ session: CallSession, offer: VendorOffer) {
        guard let mediaSession = session.mediaSession, let media, let formats = provisionalFormats(session, offer: offer),
              formats != session.announcedFormats else { return }
        session.announcedFormats = formats
        for (leg, format) in formats.enumerated() { media.update(session: mediaSession, leg: leg, remote: nil, media: format) }
    }

    static func legMedia(_ leg: NegotiatedLeg) -> LegMedia {
        LegMedia(codec: leg.codec.rawValue, payloadType: leg.payloadType, ptime: leg.ptime,
                 telephoneEvent: leg.telephoneEvent?.payloadType, events: leg.telephoneEvent?.eventsText,
                 annexB: leg.codec == .g729 ? leg.annexB : nil, inbandDetect: leg.inbandDetect ? true : nil,
                 inbandSend: leg.inbandSend ? true : nil, receive: leg.dtmfReceive == .all ? nil : leg.dtmfReceive.rawValue)
    }
}
