@testable import Softswitch
import Testing
import VOSModel

/// Requirements §6 on both legs of a call: a shared codec is relayed with the caller's payload
/// types, transcoding only when both gateways say convert, 488 CodecMismatch otherwise, and
/// telephone-event and DTMF methods chosen per leg.
@Suite struct CodecNegotiationTests {
    static let pcmu = OfferedFormat(payloadType: 0, encoding: "PCMU")
    static let pcma = OfferedFormat(payloadType: 8, encoding: "pcma")
    static let g729 = OfferedFormat(payloadType: 18, encoding: "G729", fmtp: "annexb=no")
    static func events(_ payloadType: Int, _ range: String?) -> OfferedFormat {
        OfferedFormat(payloadType: payloadType, encoding: "telephone-event", fmtp: range)
    }

    func gateway(_ name: String, _ codecs: [Codec] = [.pcma, .pcmu, .g729], mode: CodecSettings.Mode = .auto,
                 annexB: Bool = false, dtmf configure: (inout DTMFSettings) -> Void = { _ in }) -> GatewayMedia {
        var settings = CodecSettings()
        settings.codecs = codecs
        settings.mode = mode
        settings.annexB = annexB
        var dtmf = DTMFSettings()
        configure(&dtmf)
        return GatewayMedia(name: name, codecs: settings, dtmf: dtmf)
    }

    func offer(_ formats: [OfferedFormat], _ caller: GatewayMedia, _ vendor: GatewayMedia) throws -> VendorOffer {
        try CodecNegotiation.offerToVendor(callerOffer: formats, caller: caller, vendor: vendor).get()
    }

    func refusal(_ formats: [OfferedFormat], _ caller: GatewayMedia, _ vendor: GatewayMedia) -> CodecRefusal? {
        guard case let .failure(refusal) = CodecNegotiation.offerToVendor(callerOffer: formats, caller: caller, vendor: vendor) else { return nil }
        return refusal
    }

    /// Offer, then the vendor answers `answer`: the plan.
    func plan(_ callerOffer: PeerMedia, _ answer: PeerMedia, _ caller: GatewayMedia, _ vendor: GatewayMedia) throws -> LegPlan {
        let vendorOffer = try offer(callerOffer.formats, caller, vendor)
        return try CodecNegotiation.answerToCaller(callerOffer: callerOffer, vendorOffer: vendorOffer, vendorAnswer: answer,
                                                   caller: caller, vendor: vendor).get()
    }

    @Test func aCommonCodecIsRelayedWithTheCallersPayloadTypes() throws {
        let caller = gateway("cust"), vendor = gateway("ven")
        let dynamicPCMU = OfferedFormat(payloadType: 97, encoding: "PCMU")
        let vendorOffer = try offer([dynamicPCMU, Self.pcma, Self.g729, Self.events(101, "0-16")], caller, vendor)
        #expect(vendorOffer.audio == [dynamicPCMU, Self.pcma, Self.g729], "caller's order, payload types and fmtp")
        #expect(vendorOffer.telephoneEvent == TelephoneEventFormat(payloadType: 101, events: 0...16))
        #expect(!vendorOffer.transcoding)
        #expect(vendorOffer.formats.last == OfferedFormat(payloadType: 101, encoding: "telephone-event", fmtp: "0-16"))
        #expect(vendorOffer.formats.last?.sdpEncoding == "telephone-event" && vendorOffer.formats.first?.sdpEncoding == "PCMU")

        let plan = try plan(PeerMedia(formats: [dynamicPCMU, Self.pcma, Self.events(101, "0-16")], ptime: 30),
                            PeerMedia(formats: [Self.pcma, Self.events(101, "0-15")]), caller, vendor)
        #expect(plan.caller.codec == .pcma && plan.caller.payloadType == 8 && plan.caller.ptime == 30)
        #expect(plan.vendor.codec == .pcma && plan.vendor.payloadType == 8 && plan.vendor.ptime == 20, "no a=ptime: 20")
        #expect(plan.caller.telephoneEvent == TelephoneEventFormat(payloadType: 101, events: 0...16))
        #expect(plan.vendor.telephoneEvent == TelephoneEventFormat(payloadType: 101, events: 0...15))
        #expect(plan.callerAnswer == [Self.pcma, Self.events(101, "0-16")])
        #expect(plan.caller.dtmfSend == .rfc2833 && plan.vendor.dtmfSend == .rfc2833)
        #expect(!plan.transcoding && !plan.needsMediaProcessing, "same codec, same telephone-event payload type: a plain relay")
    }

    @Test func noCommonCodecTranscodesOnlyWhenBothGatewaysSayConvert() throws {
        let caller = gateway("cust", [.pcma], mode: .convert), vendor = gateway("ven", [.g729, .pcmu], mode: .convert)
        let vendorOffer = try offer([Self.pcma, Self.events(101, "0-16")], caller, vendor)
        #expect(vendorOffer.audio == [OfferedFormat(payloadType: 18, encoding: "G729", fmtp: "annexb=no"), Self.pcmu],
                "the vendor's codecs in its order, static payload types, annex B off as the vendor is set")
        #expect(vendorOffer.transcoding)

        let plan = try CodecNegotiation.answerToCaller(
            callerOffer: PeerMedia(formats: [Self.pcma, Self.events(101, "0-16")]), vendorOffer: vendorOffer,
            vendorAnswer: PeerMedia(formats: [Self.g729, Self.events(101, "0-16")]), caller: caller, vendor: vendor).get()
        #expect(plan.caller.codec == .pcma && plan.caller.payloadType == 8)
        #expect(plan.vendor.codec == .g729 && plan.vendor.payloadType == 18 && !plan.vendor.annexB)
        #expect(plan.transcoding && plan.needsMediaProcessing)
        #expect(plan.callerAnswer == [Self.pcma, Self.events(101, "0-16")])

        for (callerMode, vendorMode) in [(CodecSettings.Mode.convert, CodecSettings.Mode.auto), (.auto, .convert), (.specified, .convert)] {
            let refused = refusal([Self.pcma], gateway("cust", [.pcma], mode: callerMode), gateway("ven", [.g729], mode: vendorMode))
            #expect(refused?.statusCode == 488 && refused?.endReason == .codecMismatch)
            #expect(refused?.reason.contains("no common codec: the caller offered PCMA") == true, "\(refused?.reason ?? "accepted")")
            #expect(refused?.reason.contains("'ven' accepts G729") == true)
            #expect(refused?.reason.contains("transcoding needs codec mode convert on both gateways") == true)
        }
    }

    @Test func specifiedModeUsesOnlyTheFirstCodec() throws {
        let vendorOffer = try offer([Self.pcmu, Self.pcma, Self.g729], gateway("cust"), gateway("ven", [.g729, .pcma], mode: .specified))
        #expect(vendorOffer.audio == [Self.g729])

        let refused = refusal([Self.pcmu, Self.g729], gateway("cust", [.pcma, .pcmu], mode: .specified), gateway("ven"))
        #expect(refused?.reason == "the caller offered PCMU, G729; 'cust' accepts PCMA (codec mode specified: only its first codec)")
    }

    @Test func anOfferOfOnlyUnsupportedCodecsIsRefusedWithTheReason() throws {
        let g723 = OfferedFormat(payloadType: 4, encoding: "G723")
        let refused = try #require(refusal([g723, Self.events(101, "0-16")], gateway("cust"), gateway("ven")))
        #expect(refused.reason.hasPrefix("G723 is not supported (no free codec library); offered: G723"), "\(refused.reason)")
        #expect(refused.statusCode == 488 && refused.endReason == .codecMismatch)

        let opus = OfferedFormat(payloadType: 96, encoding: "opus", clockRate: 48000)
        let both = try #require(refusal([opus, OfferedFormat(payloadType: 3, encoding: "GSM")], gateway("cust"), gateway("ven")))
        #expect(both.reason == "OPUS/48000 is not supported, GSM is not supported; offered: OPUS/48000, GSM (vos handles PCMA, PCMU, G729)")
        #expect(refusal([Self.events(101, nil)], gateway("cust"), gateway("ven"))?.reason == "the caller offered no audio codec")
    }

    @Test func unsupportedCodecsAreIgnoredWhenOthersAreOffered() throws {
        let offered = [OfferedFormat(payloadType: 96, encoding: "opus", clockRate: 48000), OfferedFormat(payloadType: 4, encoding: "G723"),
                       OfferedFormat(payloadType: 3, encoding: "GSM"), Self.pcmu, OfferedFormat(payloadType: 98, encoding: "G729A")]
        let vendorOffer = try offer(offered, gateway("cust"), gateway("ven"))
        #expect(vendorOffer.audio.map(\.payloadType) == [0, 98], "G729A is G.729")
    }

    @Test func telephoneEventIsRemappedPerLeg() throws {
        let caller = gateway("cust")
        let vendor = gateway("ven") { $0.rfc2833PayloadType = 105; $0.rfc2833Events = "0-15" }
        let vendorOffer = try offer([Self.pcma, Self.events(101, "0-16")], caller, vendor)
        #expect(vendorOffer.telephoneEvent == TelephoneEventFormat(payloadType: 105, events: 0...15))

        let plan = try plan(PeerMedia(formats: [Self.pcma, Self.events(101, "0-16")]),
                            PeerMedia(formats: [Self.pcma, Self.events(105, "0-15")]), caller, vendor)
        #expect(plan.caller.telephoneEvent == TelephoneEventFormat(payloadType: 101, events: 0...16))
        #expect(plan.vendor.telephoneEvent == TelephoneEventFormat(payloadType: 105, events: 0...15))
        #expect(plan.callerAnswer.last == Self.events(101, "0-16"), "RFC 3264: the answer keeps the offerer's payload type")
        #expect(!plan.transcoding && plan.needsMediaProcessing, "payload types differ: the relay rewrites the events")

        // A vendor answering its own payload type: used when the gateway trusts the peer's.
        let peerAnswer = PeerMedia(formats: [Self.pcma, Self.events(106, "0-11,12-15,16")])
        #expect(try self.plan(PeerMedia(formats: [Self.pcma]), peerAnswer, caller, vendor).vendor.telephoneEvent
                == TelephoneEventFormat(payloadType: 106, events: 0...15))
        let strict = gateway("ven") { $0.rfc2833PayloadType = 105; $0.usePeerRFC2833Capability = false }
        #expect(try self.plan(PeerMedia(formats: [Self.pcma]), peerAnswer, caller, strict).vendor.telephoneEvent?.payloadType == 105)
    }

    @Test func noTelephoneEventIsOfferedToAVendorThatUsesNoRFC2833() throws {
        let vendor = gateway("ven") { $0.send = .info; $0.receive = .info }
        #expect(try offer([Self.pcma, Self.events(101, "0-16")], gateway("cust"), vendor).telephoneEvent == nil)
        let callerInfoOnly = gateway("cust") { $0.send = .info; $0.receive = .info }
        let plan = try plan(PeerMedia(formats: [Self.pcma, Self.events(101, "0-16")]),
                            PeerMedia(formats: [Self.pcma, Self.events(101, "0-16")]), callerInfoOnly, gateway("ven"))
        #expect(plan.callerAnswer == [Self.pcma], "the caller's telephone-event is declined")
        #expect(plan.caller.telephoneEvent == nil && plan.caller.dtmfSend == .info)
    }

    @Test func autoSendPicksRFC2833ThenInfoThenInband() throws {
        let settings = DTMFSettings()
        #expect(CodecNegotiation.sendMethod(settings, peerHasTelephoneEvent: true, peerAcceptsInfo: true, codec: .pcma) == .rfc2833)
        #expect(CodecNegotiation.sendMethod(settings, peerHasTelephoneEvent: false, peerAcceptsInfo: true, codec: .pcma) == .info)
        #expect(CodecNegotiation.sendMethod(settings, peerHasTelephoneEvent: false, peerAcceptsInfo: false, codec: .pcmu) == .inband)
        #expect(CodecNegotiation.sendMethod(settings, peerHasTelephoneEvent: false, peerAcceptsInfo: false, codec: .g729) == .info,
                "no tones on G.729")
        var forced = settings
        forced.mustUseInbandSend = true
        #expect(CodecNegotiation.sendMethod(forced, peerHasTelephoneEvent: true, peerAcceptsInfo: true, codec: .pcma) == .inband)
        forced = settings
        forced.send = .info
        #expect(CodecNegotiation.sendMethod(forced, peerHasTelephoneEvent: true, peerAcceptsInfo: true, codec: .pcma) == .info)

        // Through the plan: the vendor declared no telephone-event, so the caller's RFC 2833
        // digits reach it as SIP INFO (a conversion), or as tones when it takes no INFO.
        let callerOffer = PeerMedia(formats: [Self.pcma, Self.events(101, "0-16")])
        let byInfo = try plan(callerOffer, PeerMedia(formats: [Self.pcma]), gateway("cust"), gateway("ven"))
        #expect(byInfo.vendor.dtmfSend == .info && byInfo.vendor.telephoneEvent == nil && byInfo.caller.dtmfSend == .rfc2833)
        #expect(!byInfo.transcoding && byInfo.needsMediaProcessing)
        let byTones = try plan(callerOffer, PeerMedia(formats: [Self.pcma], acceptsInfo: false), gateway("cust"), gateway("ven"))
        #expect(byTones.vendor.dtmfSend == .inband && byTones.vendor.inbandSend && byTones.needsMediaProcessing)

        // Neither side uses RFC 2833: INFO to INFO is signalling only.
        let plain = try plan(PeerMedia(formats: [Self.pcma]), PeerMedia(formats: [Self.pcma]), gateway("cust"), gateway("ven"))
        #expect(plain.caller.dtmfSend == .info && plain.vendor.dtmfSend == .info && !plain.needsMediaProcessing)

        // Forced RFC 2833 toward a peer that declared none uses the gateway's own payload type.
        let forcedVendor = gateway("ven") { $0.send = .rfc2833; $0.rfc2833PayloadType = 110 }
        let forcedPlan = try plan(PeerMedia(formats: [Self.pcma]), PeerMedia(formats: [Self.pcma]), gateway("cust"), forcedVendor)
        #expect(forcedPlan.vendor.dtmfSend == .rfc2833 && forcedPlan.vendor.telephoneEvent == TelephoneEventFormat(payloadType: 110, events: 0...16))
        #expect(forcedPlan.needsMediaProcessing, "INFO from the caller becomes RFC 2833 packets")
    }

    @Test func inbandDetectionIsForG711LegsThatCarryTones() throws {
        let caller = gateway("cust") { $0.mediaContainsInband = true }
        let onG711 = try plan(PeerMedia(formats: [Self.pcma]), PeerMedia(formats: [Self.pcma]), caller, gateway("ven"))
        #expect(onG711.caller.inbandDetect && !onG711.vendor.inbandDetect && onG711.needsMediaProcessing)
        let onG729 = try plan(PeerMedia(formats: [Self.g729]), PeerMedia(formats: [Self.g729]), caller, gateway("ven"))
        #expect(!onG729.caller.inbandDetect && !onG729.needsMediaProcessing)
        let inbandOnly = gateway("cust") { $0.receive = .inband }
        #expect(try plan(PeerMedia(formats: [Self.pcmu]), PeerMedia(formats: [Self.pcmu]), inbandOnly, gateway("ven")).caller.inbandDetect)
    }

    @Test func annexBIsUsedOnlyWhenEveryoneAllowsIt() throws {
        let plainG729 = OfferedFormat(payloadType: 18, encoding: "G729")
        let on = try plan(PeerMedia(formats: [plainG729]), PeerMedia(formats: [plainG729]),
                          gateway("cust", annexB: true), gateway("ven", annexB: true))
        #expect(on.caller.annexB && on.vendor.annexB && on.callerAnswer == [plainG729])

        let callerOff = gateway("cust", annexB: false), vendorOn = gateway("ven", annexB: true)
        #expect(try offer([plainG729], callerOff, vendorOn).audio == [Self.g729], "annexb=no to the vendor")
        let off = try plan(PeerMedia(formats: [plainG729]), PeerMedia(formats: [plainG729]), callerOff, vendorOn)
        #expect(!off.caller.annexB && !off.vendor.annexB)
        #expect(off.callerAnswer == [Self.g729], "the caller is told annexb=no too: both legs carry the same frames")
        #expect(!off.needsMediaProcessing)
    }

    @Test func anAnswerWithACodecVosDidNotOfferIsRefused() throws {
        let caller = gateway("cust"), vendor = gateway("ven")
        let vendorOffer = try offer([Self.pcma], caller, vendor)
        let result = CodecNegotiation.answerToCaller(callerOffer: PeerMedia(formats: [Self.pcma]), vendorOffer: vendorOffer,
                                                     vendorAnswer: PeerMedia(formats: [Self.g729, Self.events(101, "0-15")]),
                                                     caller: caller, vendor: vendor)
        #expect(result == .failure(CodecRefusal("'ven' answered G729, which vos did not offer (offered PCMA)")))
        let silent = CodecNegotiation.answerToCaller(callerOffer: PeerMedia(formats: [Self.pcma]), vendorOffer: vendorOffer,
                                                     vendorAnswer: PeerMedia(formats: []), caller: caller, vendor: vendor)
        #expect(silent == .failure(CodecRefusal("'ven' answered no audio codec (offered PCMA)")))
    }

    @Test func telephoneEventRangesAreReadAsPeersWriteThem() {
        #expect(TelephoneEventFormat.declaredEvents("0-11,12-15,16") == [0...16])
        #expect(TelephoneEventFormat.declaredEvents("0-15,32-41") == [0...15, 32...41])
        #expect(TelephoneEventFormat.declaredEvents(nil) == [0...15], "RFC 4733's default")
        #expect(TelephoneEventFormat.declaredEvents("junk") == [0...15])
        #expect(TelephoneEventFormat.common(0...16, "0-15,66") == 0...15)
        #expect(TelephoneEventFormat.common(0...16, "32-41") == nil)
    }

    @Test func gatewayCodecSettingsAreChecked() throws {
        var settings = CodecSettings()
        settings.codecs = []
        #expect(throws: ModelError.missing(field: "codec list")) { try settings.validate() }
        settings.codecs = [.pcma, .g729, .pcma]
        #expect(throws: ModelError.inconsistent("codec list lists PCMA twice")) { try settings.validate() }
        #expect(try CodecSettings.Mode(parsing: "allow-conversion") == .convert)
        #expect(try CodecSettings.Mode(parsing: "Convert") == .convert)
        #expect(try Codec.parseList(" pcmu , G729 ") == [.pcmu, .g729])
        #expect(throws: ModelError.self) { try Codec.parseList("PCMA,G.723") }
        var dtmf = DTMFSettings()
        dtmf.rfc2833Events = "0-256"
        #expect(throws: ModelError.invalid(field: "--rfc2833-events", value: "0-256", expected: "LOW-HIGH within 0-255, e.g. 0-16")) {
            try dtmf.validate()
        }
    }
}
