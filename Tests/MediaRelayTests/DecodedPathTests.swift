import Foundation
import MediaControl
import MediaDSP
import Testing
import VOSTestSupport

/// vos-mediad's decoded path, through the built daemon on loopback: legs with different formats
/// are transcoded, shown as `transcode`, and malformed media on such a leg is dropped and counted
/// while the call goes on.
@Suite(.serialized) struct DecodedPathTests {
    /// Starts vos-mediad on 127.0.0.1 (per-leg sockets: nothing goes into the host's nftables).
    private func daemon(ports: Int) throws -> MediadHarness {
        let mediad = try MediadHarness(parameters: ["SS_MEDIAPROXYPORT_START": String(ports), "SS_MEDIAPROXYPORT_END": String(ports + 99),
                                                    "SS_MEDIA_KERNEL_OFFLOAD": "0"])
        try mediad.start(lab: nil, role: "relay", mediaIP: "127.0.0.1", extraArguments: ["--receive", "sockets"])
        return mediad
    }

    @Test(.timeLimit(.minutes(3)))
    func aPCMALegAndAG729LegAreTranscodedAndSurviveAFuzzingSender() throws {
        let mediad = try daemon(ports: 41000)
        defer { mediad.stop() }
        let vendorPort = TestPorts.allocate(2)
        let caller = try UDPProbe(bind: "127.0.0.1"), vendor = try UDPProbe(bind: "127.0.0.1", port: vendorPort)
        let vendorRTCP = try UDPProbe(bind: "127.0.0.1", port: vendorPort + 1)
        let client = try mediad.client()
        let session = try client.create(tag: "transcode", legs: [
            LegRequest(local: "127.0.0.1", remote: MediaEndpoint(ip: "127.0.0.1", port: caller.localPort),
                       media: LegMedia(codec: "PCMA", payloadType: 8, ptime: 20)),
            LegRequest(local: "127.0.0.1", remote: MediaEndpoint(ip: "127.0.0.1", port: vendor.localPort),
                       media: LegMedia(codec: "G729", payloadType: 18, ptime: 20, annexB: false)),
        ])
        #expect(session.legs.map(\.path) == [.transcode, .transcode])
        #expect(session.legs.map(\.codec) == ["PCMA", "G729"])

        // 1 s of 1 kHz A-law from the caller, 20 ms a packet; the vendor side fuzzes meanwhile.
        let tone = ToneSignal.tone(frequency: 1000, milliseconds: 1000)
        var generator = SeededGenerator(seed: 13)
        var received: [[UInt8]] = []
        for (index, chunk) in ToneSignal.chunks(tone, of: 160).enumerated() {
            var payload = [UInt8](repeating: 0, count: 160)
            for (position, sample) in chunk.enumerated() { payload[position] = G711.encodeALaw(sample) }
            let packet = RTPPacket(payloadType: 8, marker: index == 0, sequenceNumber: UInt16(index), timestamp: UInt32(index * 160),
                                   ssrc: 0xCA11, payload: payload)
            caller.send(packet.bytes, to: "127.0.0.1", port: session.legs[0].local.port)
            // Truncated RTP, unknown payload types, G.729 of impossible lengths, bad events, noise.
            let junk: [UInt8]
            switch index % 5 {
            case 0: junk = [0x80, 18, 0, 1]
            case 1: junk = RTPPacket(payloadType: 96, marker: false, sequenceNumber: 1, timestamp: 1, ssrc: 7, payload: [1, 2, 3]).bytes
            case 2: junk = RTPPacket(payloadType: 18, marker: false, sequenceNumber: 2, timestamp: 2, ssrc: 7, payload: [UInt8](repeating: 9, count: 13)).bytes
            case 3: junk = RTPPacket(payloadType: 101, marker: false, sequenceNumber: 3, timestamp: 3, ssrc: 7, payload: [1, 2, 3]).bytes
            default: junk = (0..<Int.random(in: 1...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            }
            vendor.send(junk, to: "127.0.0.1", port: session.legs[1].local.port)
            usleep(20_000)
            while let datagram = vendor.receiveBytes(milliseconds: 0) { received.append(datagram) }
        }
        while let datagram = vendor.receiveBytes(milliseconds: 200) { received.append(datagram) }

        let packets = received.compactMap { RTPPacket(parsing: $0) }
        #expect(packets.count >= 45, "about 50 G.729 packets reach the vendor while it fuzzes: \(packets.count)")
        #expect(Set(packets.map(\.payloadType)) == [18])
        #expect(Set(packets.map(\.payload.count)) == [20], "20 ms of G.729 a packet: \(packets.map(\.payload.count))")
        let decoder = try G729Decoder()
        let whole = packets.filter { $0.payload.count == 20 }
        var pcm = [Int16](repeating: 0, count: 80 * 2 * whole.count)
        for (index, packet) in whole.enumerated() {
            for frame in 0..<2 {
                let bytes = Array(packet.payload[(frame * 10)..<(frame * 10 + 10)])
                bytes.withUnsafeBytes { raw in
                    pcm.withUnsafeMutableBufferPointer { _ = decoder.decode(raw, into: $0.baseAddress! + (index * 2 + frame) * 80) }
                }
            }
        }
        let settled = Array(pcm.dropFirst(1600))
        #expect(ToneAnalysis.power(of: 1000, in: settled) > 100 * ToneAnalysis.power(of: 440, in: settled),
                "the vendor hears the caller's 1 kHz tone")

        // RTCP is the relay's own on a decoded session: the vendor gets sender reports for the
        // stream it hears (the relay's SSRC, as on its RTP), within the first report's 1 s.
        var reports: [[UInt8]] = []
        while reports.isEmpty, let datagram = vendorRTCP.receiveBytes(milliseconds: 3000) { reports.append(datagram) }
        let report = try #require(reports.first, "a sender report reached the vendor's RTCP port")
        #expect(report.count >= 28 && report[1] == 200, "an RTCP SR: \(report.prefix(4))")
        let reportSSRC = UInt32(report[4]) << 24 | UInt32(report[5]) << 16 | UInt32(report[6]) << 8 | UInt32(report[7])
        #expect(reportSSRC == packets.first?.ssrc, "the SR's SSRC is the one on the RTP the vendor gets")
        let reportedPackets = UInt32(report[20]) << 24 | UInt32(report[21]) << 16 | UInt32(report[22]) << 8 | UInt32(report[23])
        #expect(reportedPackets > 0 && reportedPackets <= UInt32(packets.count), "\(reportedPackets) of \(packets.count)")

        let stats = try #require(try client.statistics(session: session.session).first)
        let fromVendor = stats.legs[1]
        #expect(fromVendor.malformed ?? 0 >= 30, "the fuzz is counted as malformed on the vendor leg: \(fromVendor)")
        // SS_JITTERBUFFER_* at their defaults (adaptive 20..200 ms, starting at 60): the delay it
        // adds to the caller's audio is reported on the caller's leg.
        let added = try #require(stats.legs[0].jitterBufferMs, "\(stats.legs[0])")
        #expect((20...200).contains(added))
        #expect(mediad.isRunning)
        try client.ping()
    }
}
