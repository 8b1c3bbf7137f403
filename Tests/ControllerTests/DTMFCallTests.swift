import Foundation
import MediaDSP
import Testing
import VOSTestSupport

/// Issue 13, DTMF interworking end to end: a caller presses keys by RFC 2833 events, SIP INFO or
/// tones in its audio, the call goes through vos-controller and vos-mediad (media mode 3) to a
/// vendor that takes DTMF another way, and what reaches the vendor is checked as the vendor sees
/// it: the RTP captured at its media port with tcpdump, the INFO requests its sipp received (the
/// scenario itself checks each body and their number), and the CDR's DTMF methods.
@Suite(.serialized) struct DTMFCallTests {
    /// sipp's own RFC 2833 recordings: one key, payload type 101, marker on the first packet, the
    /// event's duration growing to 2240 (280 ms), the end packet three times.
    static let sippPcaps = "/usr/share/sip-tester"

    @Test func rfc2833IsRemappedToThePayloadTypeTheVendorDeclared() throws {
        let call = try DTMFCall(callerEvents: 101, vendorEvents: 105, vendorGateway: ["--rfc2833-payload-type", "105", "--rfc2833-events", "0-15"],
                                callerStream: try Self.callerStream(milliseconds: 2500, keys: [(1000, "5")]), expectedInfos: 0)
        try call.run()
        let packets = call.atVendor
        let types = Set(packets.map(\.payloadType))
        #expect(types == [8, 105], "the vendor gets PCMA (8) and its own telephone-event type (105), never the caller's 101: \(types)\(call.diagnostics)")
        #expect(packets.filter { $0.payloadType == 8 }.count >= 50, "audio still flows as PCMA: \(packets.filter { $0.payloadType == 8 }.count) packets")
        let events = Self.events(in: packets, payloadType: 105)
        #expect(events.map(\.digit) == ["5"], "one key press, 5: \(events)\(call.diagnostics)")
        for event in events { Self.expectWellFormed(event, finalDuration: 2240) }
        #expect(call.vendorInfos.isEmpty, "no INFO for a vendor that takes RFC 2833: \(call.vendorInfos)")
        let record = try call.record()
        #expect(record["callerDTMF"] as? String == "rfc2833")
        #expect(record["calleeDTMF"] as? String == "rfc2833")
    }

    @Test func rfc2833FromTheCallerReachesAnInfoVendorAsSipInfo() throws {
        let call = try DTMFCall(callerEvents: 101, vendorEvents: nil,
                                callerStream: try Self.callerStream(milliseconds: 2500, keys: [(1000, "5")]), expectedInfos: 1)
        try call.run()
        #expect(call.vendorInfos.count == 1, "exactly one INFO: \(call.vendorInfos)\(call.diagnostics)")
        #expect(call.vendorInfos.allSatisfy { $0.body.contains("Signal=5") && $0.contentType == "application/dtmf-relay" },
                "\(call.vendorInfos)")
        let types = Set(call.atVendor.map(\.payloadType))
        #expect(types == [8], "the vendor declared no telephone-event: it gets only PCMA, payload types \(types)")
        let record = try call.record()
        #expect(record["callerDTMF"] as? String == "rfc2833")
        #expect(record["calleeDTMF"] as? String == "info")
    }

    @Test func infoFromTheCallerReachesAnRFC2833VendorAsEvents() throws {
        let call = try DTMFCall(callerEvents: nil, vendorEvents: 101, callerStream: try Self.callerStream(milliseconds: 2500, keys: []),
                                info: (at: 1000, digit: "5"), expectedInfos: 0)
        try call.run()
        let packets = call.atVendor
        let types = Set(packets.map(\.payloadType))
        #expect(types == [8, 101], "PCMA and telephone-event 101 at the vendor: \(types)\(call.diagnostics)")
        let events = Self.events(in: packets, payloadType: 101)
        #expect(events.map(\.digit) == ["5"], "the INFO's 5 as one RFC 4733 event: \(events)\(call.diagnostics)")
        // Duration=160 in the INFO: 1280 timestamp units, give or take a packet.
        for event in events { Self.expectWellFormed(event, finalDuration: 1280, tolerance: 160) }
        #expect(call.vendorInfos.isEmpty, "the INFO itself does not reach the vendor: \(call.vendorInfos)")
        let record = try call.record()
        #expect(record["callerDTMF"] as? String == "info")
        #expect(record["calleeDTMF"] as? String == "rfc2833")
    }

    @Test func inbandTonesFromAG711CallerAreSentAsRFC2833() throws {
        // The caller's audio: a second of silence, the tones of 1 5 9 # (100 ms on, 50 ms off),
        // then silence again.
        let tones = try Self.toneSamples("159#")
        let samples = [Int16](repeating: 0, count: 8000) + tones + [Int16](repeating: 0, count: 12_000)
        let payloads = ToneSignal.chunks(samples, of: ToneSignal.samplesPerPacket).map { $0.map { G711.encode(.aLaw, $0) } }
        // The pcap really carries the four tones: the detector reads them back from its A-law.
        #expect(try Self.detectedDigits(payloads) == "159#")
        let stream = ToneSignal.datagrams(ToneSignal.rtpPackets(payloads, payloadType: 8, ssrc: 0xCA11_0001))

        let call = try DTMFCall(callerEvents: nil, vendorEvents: 101, callerGateway: ["--inband-dtmf", "on"],
                                callerStream: stream, expectedInfos: 0)
        try call.run()
        let packets = call.atVendor
        let events = Self.events(in: packets, payloadType: 101)
        #expect(events.map(\.digit) == ["1", "5", "9", "#"], "each tone once, in order, as RFC 4733 events: \(events)\(call.diagnostics)")
        for event in events { Self.expectWellFormed(event) }
        #expect(Set(packets.map(\.payloadType)) == [8, 101], "payload types at the vendor: \(Set(packets.map(\.payloadType)))")
        #expect(call.vendorInfos.isEmpty, "\(call.vendorInfos)")
        let record = try call.record()
        #expect(record["calleeDTMF"] as? String == "rfc2833")
    }

    @Test func mustInbandSendPlaysTonesTheDetectorReadsBack() throws {
        let call = try DTMFCall(callerEvents: 101, vendorEvents: nil, vendorGateway: ["--must-inband-send", "on"],
                                callerStream: try Self.callerStream(milliseconds: 3500, keys: [(1000, "5"), (2000, "9")]),
                                expectedInfos: 0)
        try call.run()
        let packets = call.atVendor
        #expect(Set(packets.map(\.payloadType)) == [8], "only PCMA at the vendor: \(Set(packets.map(\.payloadType)))\(call.diagnostics)")
        let heard = try Self.detectedDigits(packets.filter { $0.payloadType == 8 }.map(\.payload))
        #expect(heard == "59", "the vendor's audio carries the tones of 5 and 9, each once: heard \"\(heard)\"\(call.diagnostics)")
        #expect(call.vendorInfos.isEmpty, "digits as tones, not INFO: \(call.vendorInfos)")
        let record = try call.record()
        #expect(record["callerDTMF"] as? String == "rfc2833")
        #expect(record["calleeDTMF"] as? String == "inband")
    }

    /// The key's events start 1000 ms into the caller's stream, which starts at the ACK, and last
    /// 280 ms (their end packets go at 1140 ms); the INFO for the same key leaves `infoAt` ms after
    /// the ACK: at 900 before the events, at 1400 after vos-mediad has reported them. Whichever
    /// vos meets first carries the digit, the other is dropped.
    @Test(arguments: [900, 1400])
    func aCallerSendingBothRFC2833AndInfoGetsEachDigitOnce(infoAt: Int) throws {
        let call = try DTMFCall("aCallerSendingBothRFC2833AndInfoGetsEachDigitOnce-\(infoAt)", callerEvents: 101, vendorEvents: nil,
                                callerStream: try Self.callerStream(milliseconds: 2500, keys: [(1000, "5")]),
                                info: (at: infoAt, digit: "5"), expectedInfos: 1)
        try call.run()
        #expect(call.vendorInfos.count == 1, "the key once: \(call.vendorInfos)\(call.diagnostics)")
        #expect(call.vendorInfos.allSatisfy { $0.body.contains("Signal=5") }, "\(call.vendorInfos)")
        #expect(Set(call.atVendor.map(\.payloadType)) == [8], "no events to a vendor without telephone-event")
        let record = try call.record()
        #expect(record["callerDTMF"] as? String == "rfc2833")
        #expect(record["calleeDTMF"] as? String == "info")
    }

    // MARK: The call

    /// One call from a PCMA customer to a PCMA vendor ("ven", prefix 44) through vos-controller and
    /// vos-mediad, each side offering telephone-event or not, the caller playing `callerStream`
    /// (and sending an INFO when asked), the vendor playing silence.
    final class DTMFCall {
        let name: String
        let lab: SwitchLab
        let port: Int
        var vendorMedia: Int { port + 2 }
        let callerEvents: Int?, vendorEvents: Int?
        let callerStream: [UDPDatagram]
        let info: (at: Int, digit: Character)?
        let expectedInfos: Int
        /// Everything the vendor's media port received, as RTP, in capture order.
        private(set) var atVendor: [RTPPacket] = []
        /// The INFO requests the vendor's sipp received.
        private(set) var vendorInfos: [(contentType: String, body: String)] = []

        init(_ name: String = #function, callerEvents: Int?, vendorEvents: Int?, callerGateway: [String] = [], vendorGateway: [String] = [],
             callerStream: [UDPDatagram], info: (at: Int, digit: Character)? = nil, expectedInfos: Int) throws {
            self.name = String(name.prefix { $0 != "(" })
            lab = try SwitchLab(mediaMode: 3)
            port = TestPorts.allocate(8)
            self.callerEvents = callerEvents
            self.vendorEvents = vendorEvents
            self.callerStream = callerStream
            self.info = info
            self.expectedInfos = expectedInfos
            try lab.vosctl.okArray(["gateway", "set", "cust", "--codecs", "PCMA"] + callerGateway)
            try lab.vendor("ven", port: port)
            try lab.vosctl.okArray(["gateway", "set", "ven", "--codecs", "PCMA"] + vendorGateway)
            try lab.startMediad()
            try lab.startController()
        }

        func run() throws {
            let callerPcap = lab.scratch.child("caller.pcap"), vendorPcap = lab.scratch.child("vendor.pcap")
            try PcapFile.write(callerStream, to: callerPcap)
            let streamMilliseconds = Int(((callerStream.last?.timestamp ?? 0) - (callerStream.first?.timestamp ?? 0)) * 1000) + 20
            let silence = [[UInt8]](repeating: [UInt8](repeating: G711.encode(.aLaw, 0), count: 160), count: (streamMilliseconds + 1000) / 20)
            try ToneSignal.writePcap(ToneSignal.rtpPackets(silence, payloadType: 8, ssrc: 0xBE4D_0001), to: vendorPcap)

            let capture = try PacketCapture(filter: "dst host \(SwitchLab.vendorIP) and dst port \(vendorMedia)",
                                            file: lab.scratch.child("vendor-media.pcap"))
            let messages = lab.scratch.child("vendor-messages.log")
            let vendor = try lab.uas(port: port, scenario: try scenario("uas_dtmf", [
                "__FORMATS__": DTMFCallTests.formats(vendorEvents), "__RTPMAPS__": DTMFCallTests.rtpmaps(vendorEvents),
                "__PCAP__": vendorPcap, "__DIGIT__": String(info?.digit ?? "5"), "__INFOS__": String(expectedInfos),
            ]), ["-trace_msg", "-message_file", messages])
            let infoAt = info?.at ?? 0
            let customer = try lab.uac("4420", scenario: try scenario("uac_dtmf", [
                "__FORMATS__": DTMFCallTests.formats(callerEvents), "__RTPMAPS__": DTMFCallTests.rtpmaps(callerEvents),
                "__PCAP__": callerPcap, "__INFO__": info == nil ? "0" : "1", "__DIGIT__": String(info?.digit ?? "5"),
                "__INFO_AT__": String(infoAt), "__PAUSE__": String(max(streamMilliseconds - infoAt, 0) + 1000),
            ]))
            customer.wait(seconds: 40)
            #expect(customer.successfulCalls == 1, "the caller's call went through: \(customer.output)\(diagnostics)")
            #expect(eventually { vendor.successfulCalls == 1 },
                    "the vendor's scenario passed (INFO bodies, \(expectedInfos) INFO): \(vendor.output)\(diagnostics)")
            atVendor = try capture.stop().compactMap { RTPPacket(parsing: $0.payload) }
            vendorInfos = DTMFCallTests.receivedRequests("INFO", in: messages)
        }

        /// DTMF_TEST_KEEP=directory keeps each call's scratch directory (logs, pcaps, scenarios) there.
        deinit {
            if let keep = ProcessInfo.processInfo.environment["DTMF_TEST_KEEP"] {
                try? FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
                try? FileManager.default.copyItem(atPath: lab.scratch.path, toPath: (keep as NSString).appendingPathComponent(name))
            }
        }

        func record() throws -> [String: Any] {
            try #require(try lab.waitForCDRs(1).first)
        }

        /// What the daemons said about DTMF and media, for failure messages.
        var diagnostics: String {
            let mediad = (try? String(contentsOfFile: lab.scratch.child("mediad.log"), encoding: .utf8)) ?? ""
            func relevant(_ log: String) -> String {
                log.split(separator: "\n").filter {
                    let line = $0.lowercased()
                    return line.contains("dtmf") || line.contains("digit") || line.contains("error") || line.contains("warning")
                        || line.contains("media") && line.contains("session")
                }.suffix(40).joined(separator: "\n")
            }
            return "\n--- controller:\n\(relevant(lab.controllerLog))\n--- vos-mediad:\n\(relevant(mediad))"
        }

        /// A scenario with its placeholders filled in, named for its role (the values have
        /// slashes and newlines in them).
        private func scenario(_ name: String, _ replacements: [String: String]) throws -> String {
            guard let url = Bundle.module.url(forResource: name, withExtension: "xml", subdirectory: "Scenarios") else {
                throw Failure("scenario \(name) missing from the test bundle")
            }
            var text = try String(contentsOf: url, encoding: .utf8)
            for (key, value) in replacements { text = text.replacingOccurrences(of: key, with: value) }
            return try lab.scratch.write("\(name)-filled.xml", text)
        }
    }

    // MARK: SDP

    static func formats(_ telephoneEvent: Int?) -> String {
        telephoneEvent.map { "8 \($0)" } ?? "8"
    }

    static func rtpmaps(_ telephoneEvent: Int?) -> String {
        var lines = ["a=rtpmap:8 PCMA/8000"]
        if let telephoneEvent { lines += ["a=rtpmap:\(telephoneEvent) telephone-event/8000", "a=fmtp:\(telephoneEvent) 0-15"] }
        return lines.joined(separator: "\n")
    }

    // MARK: What the caller sends

    /// A caller's RTP: `milliseconds` of PCMA silence in 20 ms packets, with each key of `keys`
    /// pressed `at` ms into the stream by sipp's recording of it (dtmf_2833_<key>.pcap): its
    /// packets as recorded (payload type 101, event payloads, marker, the sequence steps and the
    /// pacing between them), moved onto the stream's SSRC, sequence and timeline, with no audio
    /// while the event lasts (RFC 4733 §2.5.1.3).
    static func callerStream(milliseconds: Int, keys: [(at: Int, key: String)], ssrc: UInt32 = 0xCA11_0001) throws -> [UDPDatagram] {
        let start = 1_700_000_000.0, silence = [UInt8](repeating: G711.encode(.aLaw, 0), count: 160)
        var packets: [(time: Double, packet: RTPPacket)] = []
        var sequence: UInt16 = 1000
        var pending = keys.sorted { $0.at < $1.at }
        var frame = 0
        while frame * 20 < milliseconds {
            let timestamp = UInt32(16_000 + frame * 160)
            if let key = pending.first, key.at <= frame * 20 {
                pending.removeFirst()
                let name = ["*": "star", "#": "pound"][key.key] ?? key.key
                let recorded = try PcapFile.read("\(sippPcaps)/dtmf_2833_\(name).pcap").compactMap { datagram in
                    RTPPacket(parsing: datagram.payload).map { (datagram.timestamp, $0) }
                }
                let first = try #require(recorded.first, "\(name) has RTP")
                var longest = 0
                for (time, original) in recorded {
                    var packet = original
                    packet.ssrc = ssrc
                    packet.timestamp = timestamp
                    packet.sequenceNumber = sequence &+ (original.sequenceNumber &- first.1.sequenceNumber)
                    packets.append((Double(frame) * 0.02 + (time - first.0), packet))
                    longest = max(longest, Int(try TelephoneEvent(parsing: original.payload).duration))
                }
                sequence = packets.last!.packet.sequenceNumber &+ 1
                // Audio resumes with the first whole packet after the event.
                frame += (longest + 159) / 160
                continue
            }
            packets.append((Double(frame) * 0.02, RTPPacket(payloadType: 8, marker: frame == 0, sequenceNumber: sequence,
                                                            timestamp: timestamp, ssrc: ssrc, payload: silence)))
            sequence &+= 1
            frame += 1
        }
        return packets.map { time, packet in
            UDPDatagram(timestamp: start + time, sourceIP: "10.0.0.1", sourcePort: 6000, destinationIP: "10.0.0.2",
                        destinationPort: 6000, payload: packet.bytes)
        }
    }

    /// DTMFToneGenerator's tones for `digits` (100 ms on, 50 ms off, -10 dBm0), whole 20 ms frames.
    static func toneSamples(_ digits: String) throws -> [Int16] {
        let generator = try DTMFToneGenerator()
        try generator.queue(digits: digits)
        var samples: [Int16] = []
        var frame = [Int16](repeating: 0, count: ToneSignal.samplesPerPacket)
        while true {
            let produced = frame.withUnsafeMutableBufferPointer { generator.generate(into: $0) }
            samples += frame
            if produced < frame.count { return samples }
        }
    }

    // MARK: What the vendor got

    /// The digits DTMFToneDetector hears in A-law payloads played one after another.
    static func detectedDigits(_ payloads: [[UInt8]]) throws -> String {
        let detector = try DTMFToneDetector()
        let samples = payloads.flatMap { $0.map { G711.decode(.aLaw, $0) } }
        samples.withUnsafeBufferPointer { detector.process($0) }
        var digits = ""
        while let digit = detector.takeDigit() { digits.append(digit) }
        return digits
    }

    /// One RFC 4733 event as received: its packets (same timestamp), in arrival order.
    struct ReceivedEvent: CustomStringConvertible {
        var timestamp: UInt32
        var packets: [(marker: Bool, event: TelephoneEvent)]
        var digit: String { packets.first.flatMap { TelephoneEvent.digit(forEvent: $0.event.event) }.map(String.init) ?? "?" }
        var description: String {
            "\(digit)@\(timestamp): " + packets.map { "\($0.marker ? "M " : "")\($0.event.event)\($0.event.end ? " E" : "")/\($0.event.duration)" }
                .joined(separator: ", ")
        }
    }

    /// The `payloadType` packets of `packets`, one event per RTP timestamp in order of arrival.
    static func events(in packets: [RTPPacket], payloadType: UInt8) -> [ReceivedEvent] {
        var events: [ReceivedEvent] = []
        for packet in packets where packet.payloadType == payloadType {
            let event = (try? TelephoneEvent(parsing: packet.payload)) ?? TelephoneEvent(event: 255, end: false, volume: 0, duration: 0)
            if let index = events.firstIndex(where: { $0.timestamp == packet.timestamp }) {
                events[index].packets.append((packet.marker, event))
            } else {
                events.append(ReceivedEvent(timestamp: packet.timestamp, packets: [(packet.marker, event)]))
            }
        }
        return events
    }

    /// RFC 4733: one event code throughout, the marker on the first packet only, durations that
    /// never shrink, and an end packet (usually three) carrying the final duration.
    static func expectWellFormed(_ event: ReceivedEvent, finalDuration: Int? = nil, tolerance: Int = 0) {
        #expect(Set(event.packets.map(\.event.event)).count == 1, "one event code per timestamp: \(event)")
        #expect(event.packets.first?.marker == true, "marker on the event's first packet: \(event)")
        #expect(event.packets.dropFirst().allSatisfy { !$0.marker }, "marker only on the first packet: \(event)")
        #expect(zip(event.packets, event.packets.dropFirst()).allSatisfy { $0.event.duration <= $1.event.duration },
                "durations never shrink: \(event)")
        let ends = event.packets.filter(\.event.end)
        #expect(!ends.isEmpty, "the event ends: \(event)")
        #expect(event.packets.last?.event.end == true, "nothing after the end packets: \(event)")
        if let finalDuration, let last = ends.last {
            #expect(abs(Int(last.event.duration) - finalDuration) <= tolerance, "final duration \(last.event.duration), expected \(finalDuration): \(event)")
        }
    }

    /// The `method` requests a sipp `-message_file` log shows as received: content type and body.
    static func receivedRequests(_ method: String, in path: String) -> [(contentType: String, body: String)] {
        let log = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return log.components(separatedBy: "-----------------------------------------------").compactMap { entry in
            guard entry.contains("message received") else { return nil }
            // "\r\n" is one Character: split on newline characters, keeping empty lines.
            let lines = entry.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
            guard let requestLine = lines.firstIndex(where: { $0.hasPrefix("\(method) sip:") }) else { return nil }
            let rest = lines[requestLine...]
            let blank = rest.firstIndex(of: "") ?? rest.endIndex
            let type = rest[..<blank].first { $0.lowercased().hasPrefix("content-type:") }?
                .dropFirst("content-type:".count).trimmingCharacters(in: .whitespaces) ?? ""
            let body = rest[blank...].dropFirst().joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
            return (type, body)
        }
    }
}
