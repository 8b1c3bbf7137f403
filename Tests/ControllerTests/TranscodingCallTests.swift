import Foundation
import MediaDSP
import Testing
import VOSTestSupport

/// Issue 13, transcoding end to end: a caller and a vendor that share no codec each play a tone
/// through vos-mediad, and what arrives at each of them (captured on the wire with tcpdump) must
/// be in its own codec and decode to the other side's tone for the whole call.
@Suite(.serialized) struct TranscodingCallTests {
    static let callerTone = 1000.0
    static let vendorTone = 440.0

    @Test func pcmaCallerAndG729VendorHearEachOther() throws {
        try toneCall(caller: .pcma, vendor: .g729)
    }

    @Test func pcmuCallerAndPcmaVendor() throws {
        try toneCall(caller: .pcmu, vendor: .pcma)
    }

    @Test func pcmuCallerAndG729Vendor() throws {
        try toneCall(caller: .pcmu, vendor: .g729)
    }

    @Test func noCommonCodecWithoutConversionGets488() throws {
        let lab = try SwitchLab(mediaMode: 3)
        let port = TestPorts.allocate(8)
        try lab.vendor("ven", port: port, "--codecs", "G729", "--codec-mode", "auto")
        try lab.startMediad()
        try lab.startController()
        // Should the switch offer the call to the vendor anyway, the vendor refuses it with 503,
        // so the caller sees that rather than waiting out a timeout.
        try lab.uas(port: port, scenario: try lab.scenario("uas_status", ["__STATUS__": "503"]))
        // uac_expect offers PCMA only.
        let customer = try lab.uac("4420", scenario: try lab.scenario("uac_expect", ["__STATUS__": "488"]))
        customer.wait()
        #expect(customer.successfulCalls == 1, "the caller got 488: \(customer.output)")
        let record = try #require(try lab.waitForCDRs(1).first)
        #expect(record.reason == "CodecMismatch")
        #expect(record.sipCode == 488)
    }

    /// The caller offers only `caller` and plays the 1 kHz tone, the vendor accepts only `vendor`
    /// and plays 440 Hz; both gateways allow conversion.
    private func toneCall(caller: AudioCodec, vendor: AudioCodec) throws {
        let lab = try SwitchLab(mediaMode: 3)
        let port = TestPorts.allocate(8)
        let vendorMedia = port + 2
        // No jitter buffer here (fixed, 0 ms): these calls check transcoding, and the whole suite
        // loads this 2-core host enough that a buffer conceals late packets and leaves quiet
        // windows (as it should). The buffer is tested in virtual time in MediaDSPTests and its
        // reported delay in DecodedPathTests; DTMFCallTests run with the store's defaults.
        for (name, value) in [("SS_JITTERBUFFER_MODE", "0"), ("SS_JITTERBUFFER_MIN", "0"), ("SS_JITTERBUFFER_DEFAULT", "0")] {
            try lab.vosctl.ok("param", "set", name, value)
        }
        try lab.vosctl.ok("gateway", "set", "cust", "--codecs", caller.rawValue, "--codec-mode", "convert")
        try lab.vendor("ven", port: port, "--codecs", vendor.rawValue, "--codec-mode", "convert")
        try lab.startMediad()
        try lab.startController()

        let seconds = 4000
        let callerPcap = lab.scratch.child("caller.pcap"), vendorPcap = lab.scratch.child("vendor.pcap")
        let callerPackets = ToneSignal.rtpPackets(try encode(ToneSignal.tone(frequency: Self.callerTone, milliseconds: seconds), caller),
                                                  payloadType: caller.staticPayloadType, ssrc: 0xCA11_E401)
        let vendorPackets = ToneSignal.rtpPackets(try encode(ToneSignal.tone(frequency: Self.vendorTone, milliseconds: seconds), vendor),
                                                  payloadType: vendor.staticPayloadType, ssrc: 0xBE4D_0401)
        let playing = try ToneSignal.writePcap(callerPackets, to: callerPcap)
        try ToneSignal.writePcap(vendorPackets, to: vendorPcap)

        // Everything the relay sends to either peer; SIP (from the controller's port) is left out.
        // The customer's media port is only known once lab.uac has picked it, so packets are
        // sorted by port afterwards.
        let capture = try PacketCapture(
            filter: "(dst host \(SwitchLab.customerIP) or dst host \(SwitchLab.vendorIP)) and not src port \(lab.sipPort)",
            file: lab.scratch.child("media.pcap"))
        let vendorSipp = try lab.uas(port: port, scenario: try toneScenario(lab, "uas_tone", vendor, pcap: vendorPcap, pause: 0))
        let customer = try lab.uac("4420", scenario: try toneScenario(lab, "uac_tone", caller, pcap: callerPcap, pause: playing + 1500))
        customer.wait(seconds: 40)
        #expect(customer.successfulCalls == 1, "\(customer.output)\n\(lab.controllerLog)")
        #expect(eventually { vendorSipp.successfulCalls == 1 }, "the vendor got the BYE: \(vendorSipp.output)")
        let datagrams = try capture.stop()

        let arguments = customer.process.arguments ?? []
        let customerMedia = try #require(arguments.firstIndex(of: "-mp").flatMap { Int(arguments[$0 + 1]) })
        let atCustomer = datagrams.filter { $0.destinationIP == SwitchLab.customerIP && $0.destinationPort == customerMedia }
        let atVendor = datagrams.filter { $0.destinationIP == SwitchLab.vendorIP && $0.destinationPort == vendorMedia }
        try expectTone(atCustomer, codec: caller, tone: Self.vendorTone, not: Self.callerTone, side: "caller", milliseconds: seconds)
        try expectTone(atVendor, codec: vendor, tone: Self.callerTone, not: Self.vendorTone, side: "vendor", milliseconds: seconds)

        let record = try #require(try lab.waitForCDRs(1).first)
        #expect(record["callerCodec"] as? String == caller.rawValue)
        #expect(record["calleeCodec"] as? String == vendor.rawValue)
    }

    /// What one side received: only RTP in its own codec (G.729 as two 10-byte frames a packet),
    /// nearly all of the other side's `milliseconds` of tone, and in every 200 ms window after the
    /// first (decoders and the relay's own start-up) `tone` at least 10 dB above `other`, at a
    /// level that shows it is the tone and not noise.
    private func expectTone(_ datagrams: [UDPDatagram], codec: AudioCodec, tone: Double, not other: Double,
                            side: String, milliseconds: Int) throws {
        let packets = datagrams.compactMap { RTPPacket(parsing: $0.payload) }
        #expect(packets.count == datagrams.count, "\(side): everything to its media port is RTP")
        let types = Set(packets.map(\.payloadType))
        #expect(types == [codec.staticPayloadType], "\(side) receives only \(codec.rawValue): payload types \(types)")
        if codec == .g729 {
            let sizes = Set(packets.map(\.payload.count))
            #expect(sizes == [2 * G729Frame.voiceBytes], "\(side): 20 ms of G.729 a packet, payload sizes \(sizes)")
        }
        let samples = try decode(packets.map(\.payload), codec)
        // The tone's own length: after it the relay may fill the silence with comfort noise
        // (SS_COMFORTNOISE), which is no tone at all.
        let windows = ToneSignal.windows(samples, expected: tone, other: other).dropFirst().prefix(milliseconds / 200 - 1)
        // Allow 400 ms lost to call setup; the rest of the tone must get through.
        #expect(windows.count >= (milliseconds - 400) / 200 - 1,
                "\(side): \(samples.count / 8) ms of audio in \(packets.count) packets, of \(milliseconds) ms played")
        // The tone is played at amplitude 8000; silence and noise measure under 20.
        let bad = windows.filter { $0.decibels < 10 || $0.expectedAmplitude < 1000 }
        #expect(bad.isEmpty, "\(side) hears \(Int(tone)) Hz over \(Int(other)) Hz in every window; not in: \(bad)")
    }

    private func encode(_ samples: [Int16], _ codec: AudioCodec) throws -> [[UInt8]] {
        let chunks = ToneSignal.chunks(samples, of: ToneSignal.samplesPerPacket)
        if let law = G711.Law(codec) {
            return chunks.map { chunk in chunk.map { G711.encode(law, $0) } }
        }
        let encoder = try G729Encoder()
        var frame = [UInt8](repeating: 0, count: G729Frame.voiceBytes)
        return chunks.map { chunk in
            ToneSignal.chunks(chunk, of: G729Frame.samples).flatMap { samples in
                let written = encoder.encode(samples, into: &frame)
                return frame.prefix(written)
            }
        }
    }

    private func decode(_ payloads: [[UInt8]], _ codec: AudioCodec) throws -> [Int16] {
        if let law = G711.Law(codec) {
            return payloads.flatMap { payload in payload.map { G711.decode(law, $0) } }
        }
        let decoder = try G729Decoder()
        var samples: [Int16] = []
        var frame = [Int16](repeating: 0, count: G729Frame.samples)
        for payload in payloads {
            for bytes in ToneSignal.chunks(payload, of: G729Frame.voiceBytes) {
                bytes.withUnsafeBytes { _ = decoder.decode($0, into: &frame) }
                samples += frame
            }
        }
        return samples
    }

    /// A tone scenario with its placeholders filled in. Not `SwitchLab.scenario`: that names the
    /// file after the values, and the pcap's path has slashes in it.
    private func toneScenario(_ lab: SwitchLab, _ name: String, _ codec: AudioCodec, pcap: String, pause: Int) throws -> String {
        guard let url = Bundle.module.url(forResource: name, withExtension: "xml", subdirectory: "Scenarios") else {
            throw Failure("scenario \(name) missing from the test bundle")
        }
        let replacements = [
            "__PT__": String(codec.staticPayloadType), "__CODEC__": codec.rawValue, "__PCAP__": pcap, "__PAUSE__": String(pause),
            // RFC 3555: G.729 without annexb=no implies annex B, which neither side here sends.
            "__ATTRIBUTE__": codec == .g729 ? "a=fmtp:18 annexb=no" : "a=ptime:20",
        ]
        var text = try String(contentsOf: url, encoding: .utf8)
        for (key, value) in replacements { text = text.replacingOccurrences(of: key, with: value) }
        return try lab.scratch.write("\(name)-\(codec.rawValue).xml", text)
    }
}
