import Foundation
import Testing
import VOSTestSupport

/// SIP over TCP through vos-controller: sipp customers and vendors with `-t t1`, mixed with UDP
/// on the other side, plus raw connections for keep-alives and malformed streams.
@Suite(.serialized) struct TCPCallTests {
    private func expectAnsweredCalls(_ records: [[String: Any]], count: Int, vendor: String) {
        #expect(records.count == count)
        for record in records {
            #expect(record.reason == "CallerHangup")
            #expect(record.sipCode == 200)
            #expect(record["routingGateway"] as? String == vendor)
            #expect(record["mappingGateway"] as? String == "cust")
            #expect(record["answerTime"] != nil)
        }
    }

    @Test func customerOverTCPCallsVendorOverUDP() throws {
        let lab = try SwitchLab()
        let vendorPort = TestPorts.allocate(8)
        try lab.vendor("ven-udp", port: vendorPort)
        try lab.startController()
        try lab.uas(port: vendorPort)
        let customer = try lab.uac("4420123", calls: 3, rate: 5, ["-t", "t1"])
        customer.wait()
        #expect(customer.successfulCalls == 3, "\(customer.output)\n\(lab.controllerLog)")
        expectAnsweredCalls(try lab.waitForCDRs(3), count: 3, vendor: "ven-udp")
    }

    @Test func vendorConfiguredForTCPIsReachedOverTCP() throws {
        let lab = try SwitchLab()
        let vendorPort = TestPorts.allocate(8)
        try lab.vendor("ven-tcp", port: vendorPort, "--transport", "tcp")
        try lab.startController()
        let vendor = try lab.uas(port: vendorPort, ["-t", "t1", "-trace_msg"])
        let overUDP = try lab.uac("4420123", calls: 2, rate: 5)
        overUDP.wait()
        #expect(overUDP.successfulCalls == 2, "\(overUDP.output)\n\(vendor.output)\n\(lab.controllerLog)")
        let overTCP = try lab.uac("4420124", calls: 2, rate: 5, ["-t", "t1"])
        overTCP.wait()
        #expect(overTCP.successfulCalls == 2, "TCP on both sides: \(overTCP.output)\n\(vendor.output)")
        expectAnsweredCalls(try lab.waitForCDRs(4), count: 4, vendor: "ven-tcp")
        // sipp as a TCP server only hears TCP; its message trace shows what our Via said.
        let traces = try FileManager.default.contentsOfDirectory(atPath: vendor.directory).filter { $0.hasSuffix("_messages.log") }
        let vendorMessages = try traces.map { try String(contentsOfFile: vendor.directory + "/" + $0, encoding: .utf8) }.joined()
        #expect(vendorMessages.components(separatedBy: "Via: SIP/2.0/TCP 127.0.0.1:\(lab.sipPort)").count - 1 >= 8,
                "INVITE, ACK and BYE of 4 calls carry a TCP Via: \(vendorMessages.prefix(2000))")
        #expect(!vendorMessages.contains("SIP/2.0/UDP 127.0.0.1"), "no UDP Via toward the TCP vendor")
    }

    @Test func optionsAndKeepAlivesOverTCPAreAnswered() throws {
        let lab = try SwitchLab()
        try lab.startController()
        let probe = try TCPProbe(to: "127.0.0.1", port: lab.sipPort)
        probe.send("\r\n\r\n")
        #expect(probe.receive(until: { $0 == "\r\n" }) == "\r\n", "RFC 5626 ping answered with a pong")
        let local = probe.localAddress
        // Sent in two pieces, the body split from its headers, to exercise framing on the wire.
        probe.send("OPTIONS sip:vos@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP \(local);branch=z9hG4bKtcp1\r\nFrom: <sip:a@x>;tag=1\r\n")
        usleep(100_000)
        probe.send("To: <sip:vos@127.0.0.1>\r\nCall-ID: tcp-options-1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nl: 4\r\n\r\n")
        usleep(100_000)
        #expect(probe.receive(milliseconds: 300) == nil, "no answer before the body is complete")
        probe.send("body")
        let answer = try #require(probe.receive(), "OPTIONS over TCP answered")
        #expect(answer.hasPrefix("SIP/2.0 200"))
        #expect(answer.contains("Call-ID: tcp-options-1"))
        #expect(answer.contains("z9hG4bKtcp1"))
    }

    @Test func malformedStreamsGet400AndCloseWhileTheSwitchKeepsServing() throws {
        let lab = try SwitchLab()
        let vendorPort = TestPorts.allocate(8)
        try lab.vendor("ven", port: vendorPort)
        try lab.startController()

        // Frames but does not parse (CSeq method lies): 400, and the stream stays in sync and open.
        let lying = try TCPProbe(to: "127.0.0.1", port: lab.sipPort)
        lying.send("OPTIONS sip:vos@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP \(lying.localAddress);branch=z9hG4bKbad1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@y>\r\nCall-ID: bad-tcp-1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
        let rejected = try #require(lying.receive(), "400 for an answerable bad request")
        #expect(rejected.hasPrefix("SIP/2.0 400"))
        #expect(rejected.contains("Call-ID: bad-tcp-1"))

        // No Content-Length: the stream cannot be framed, so 400 and the connection closes.
        let unframed = try TCPProbe(to: "127.0.0.1", port: lab.sipPort)
        unframed.send("OPTIONS sip:vos@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP \(unframed.localAddress);branch=z9hG4bKbad2\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@y>\r\nCall-ID: bad-tcp-2\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n\r\n")
        let missing = try #require(unframed.receive(), "400 before closing")
        #expect(missing.hasPrefix("SIP/2.0 400"))
        #expect(missing.contains("Content-Length"))
        #expect(unframed.isClosedByPeer(), "an unframeable stream is closed")

        // Oversized and binary noise: closed, nothing else.
        let huge = try TCPProbe(to: "127.0.0.1", port: lab.sipPort)
        huge.send([UInt8](repeating: UInt8(ascii: "a"), count: 80_000))
        #expect(huge.isClosedByPeer(), "a header section beyond 64 KiB is closed")
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let noisy = try TCPProbe(to: "127.0.0.1", port: lab.sipPort)
            noisy.send((0..<Int(generator.next() % 3000)).map { _ in UInt8.random(in: 0...255, using: &generator) } + Array("\r\n\r\n".utf8))
        }

        try lab.uas(port: vendorPort)
        let customer = try lab.uac("4420", ["-t", "t1"])
        customer.wait()
        #expect(customer.successfulCalls == 1, "still serving calls over TCP: \(customer.output)\n\(lab.controllerLog)")
        let overUDP = try lab.uac("4420")
        overUDP.wait()
        #expect(overUDP.successfulCalls == 1, "and over UDP")
    }
}
