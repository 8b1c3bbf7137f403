import Foundation
import Testing
import VOSTestSupport

/// Media through vos-mediad, health checks, malformed input and what operators see live.
@Suite(.serialized) struct MediaAndOperationsTests {
    @Test func rtpFromThePcapReachesTheVendorThroughTheRelay() throws {
        let lab = try SwitchLab(mediaMode: 3)
        let port = TestPorts.allocate(8)
        try lab.vendor("ven", port: port)
        try lab.startMediad()
        try lab.startController()
        try lab.uas(port: port, scenario: "uas", ["-rtp_echo"])
        let customer = try lab.uac("4420", scenario: "uac_pcap")
        customer.wait(seconds: 40)
        #expect(customer.successfulCalls == 1, "\(customer.output)")
        let record = try #require(try lab.waitForCDRs(1).first)
        let callerLeg = try #require(record["callerMedia"] as? [String: Any])
        let calleeLeg = try #require(record["calleeMedia"] as? [String: Any])
        let fromCustomer = callerLeg["packetsReceived"] as? Int ?? 0
        #expect(fromCustomer > 100, "the relay received the pcap's RTP from the customer")
        #expect(calleeLeg["packetsSent"] as? Int ?? 0 >= fromCustomer - 5, "and sent it on to the vendor")
        #expect(calleeLeg["packetsReceived"] as? Int ?? 0 > 100, "the vendor echoed it back, so it arrived there")
        #expect(record["callerCodec"] as? String == "PCMA")
    }

    @Test func noRTPReleasesTheCallWithByeOnBothLegs() throws {
        let lab = try SwitchLab(mediaMode: 3)
        try lab.vosctl.ok("param", "set", "SS_RTP_TIMEOUT", "2")
        let port = TestPorts.allocate(8)
        try lab.vendor("ven", port: port)
        try lab.startMediad()
        try lab.startController()
        let vendor = try lab.uas(port: port)
        let customer = try lab.uac("4420", scenario: try lab.scenario("uac_wait_bye", ["__TIMEOUT__": "15000"]))
        customer.wait(seconds: 30)
        #expect(customer.successfulCalls == 1, "the customer got a BYE: \(customer.output)")
        #expect(eventually { vendor.successfulCalls == 1 }, "the vendor got a BYE: \(vendor.output)")
        let record = try #require(try lab.waitForCDRs(1).first)
        #expect(record.reason == "RtpTimeout")
        #expect(record["hangupSide"] as? String == "system")
    }

    @Test func optionsProbesMarkASilentVendorOfflineAndAnAnsweringOneOnline() throws {
        let lab = try SwitchLab()
        try lab.vosctl.ok("param", "set", "SS_SIP_OPTIONS_CHECK_PERIOD", "5")
        let silent = TestPorts.allocate(8), alive = TestPorts.allocate(8)
        try lab.vendor("silent", port: silent, "--options-check", "on")
        try lab.vendor("alive", port: alive, prefix: "33", "--options-check", "on")
        try lab.startController()
        try lab.uas(port: alive, scenario: try lab.scenario("uas_options"), seconds: 40)
        func status(_ name: String) throws -> Bool? {
            let gateways = try lab.vosctl.json("gateway", "status") as? [[String: Any]]
            return gateways?.first { $0["name"] as? String == name }?["online"] as? Bool
        }
        #expect(try eventually(seconds: 30) { try status("silent") == false }, "three unanswered probes: offline")
        #expect(try status("alive") == true)
        // Offline vendors are skipped: the caller gets 503 at once instead of waiting for a timeout.
        let customer = try lab.uac("4420", scenario: try lab.scenario("uac_expect", ["__STATUS__": "503"]))
        customer.wait()
        #expect(customer.successfulCalls == 1, "\(customer.output)")
        #expect(try lab.waitForCDRs(1).first?.reason == "NoAvailableRouter")
    }

    @Test func malformedMessagesGet400OrSilenceAndTheSwitchKeepsWorking() throws {
        let lab = try SwitchLab()
        let port = TestPorts.allocate(8)
        try lab.vendor("ven", port: port)
        try lab.startController()
        let probe = try UDPProbe()
        let local = "127.0.0.2:\(probe.localPort)"
        // Frames, has Via/From/To/Call-ID/CSeq, but the CSeq method lies: answerable with 400.
        probe.send("OPTIONS sip:vos@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP \(local);branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@y>\r\nCall-ID: bad-1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
                   to: "127.0.0.1", port: lab.sipPort)
        let answer = try #require(probe.receive(), "a 400 for an answerable bad request")
        #expect(answer.hasPrefix("SIP/2.0 400"))
        #expect(answer.contains("Call-ID: bad-1"))
        // Garbage, truncated messages, binary noise, oversized datagrams: no answer, no crash.
        var generator = SystemRandomNumberGenerator()
        for index in 0..<300 {
            let length = index == 0 ? 65_000 : Int(generator.next() % 1500)
            probe.send((0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }, to: "127.0.0.1", port: lab.sipPort)
        }
        probe.send("INVITE sip:4420@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP", to: "127.0.0.1", port: lab.sipPort)
        probe.send("SIP/2.0 200 OK\r\n\r\n", to: "127.0.0.1", port: lab.sipPort)
        usleep(300_000)
        try lab.uas(port: port)
        let customer = try lab.uac("4420")
        customer.wait()
        #expect(customer.successfulCalls == 1, "still serving calls: \(lab.controllerLog)")
    }

    /// What `top -H` shows an operator: every controller thread by its name, the SIP loop at the
    /// daemon's priority and the queued helpers (store writes, relay requests) below it, so that on
    /// busy cores the loop keeps up with its sockets (docs/BENCHMARKS-sip.md, A/B of nice +5).
    @Test func controllerThreadsAreNamedAndTheHelpersYieldToTheSIPLoop() throws {
        let lab = try SwitchLab(mediaMode: 3)
        try lab.startMediad()
        let controller = try lab.startController()
        let pid = controller.process.processIdentifier
        var threads: [String: Int] = [:]
        let named = eventually {
            threads = [:]
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
            for task in tasks {
                guard let name = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/comm", encoding: .utf8),
                      let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/stat", encoding: .utf8),
                      let close = stat.lastIndex(of: ")") else { continue }
                // Fields after "comm)": state is field 3, nice field 19.
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                if fields.count > 16, let nice = Int(fields[16]) { threads[name.trimmingCharacters(in: .newlines)] = nice }
            }
            return ["vos-sip", "vos-ledger", "media-create", "media-release"].allSatisfy { threads[$0] != nil }
        }
        #expect(named, "thread names in /proc: \(threads)")
        #expect(threads["vos-sip"] == 0)
        #expect(threads["vos-ledger"] == 5)
        #expect(threads["media-create"] == 5)
        #expect(threads["media-release"] == 5)
    }

    @Test func changesApplyWithoutARestartAndCallsAreVisibleLive() throws {
        let lab = try SwitchLab()
        try lab.startController()
        let before = try lab.uac("4420", scenario: try lab.scenario("uac_expect", ["__STATUS__": "503"]))
        before.wait()
        #expect(before.successfulCalls == 1, "no vendor yet: 503")
        let port = TestPorts.allocate(8)
        try lab.vendor("added-later", port: port)
        try lab.uas(port: port, seconds: 20)
        usleep(1_500_000)
        let customer = try lab.uac("4420", scenario: try lab.scenario("uac_wait_bye", ["__TIMEOUT__": "20000"]), seconds: 20)
        #expect(try eventually {
            let calls = try lab.vosctl.json("calls") as? [[String: Any]]
            return calls?.first?["state"] as? String == "connected" && calls?.first?["routingGateway"] as? String == "added-later"
        }, "vosctl calls shows the connected call")
        let gateways = try lab.vosctl.json("gateway", "status") as? [[String: Any]]
        #expect(gateways?.first { $0["name"] as? String == "added-later" }?["currentCalls"] as? Int == 1)
        #expect(try lab.vosctl.ok("calls").contains("added-later"))
        customer.stop()
    }
}

/// Requests the switch answers itself, and how its SIP looks on the wire.
@Suite(.serialized) struct LocalAnswerTests {
    @Test func optionsIsAnsweredLocallyUnknownDialogsGet481AndSIPCarriesCS3() throws {
        let lab = try SwitchLab()
        try lab.startController()
        let capture = Process()
        capture.executableURL = URL(fileURLWithPath: "/usr/bin/tcpdump")
        capture.arguments = ["-i", "lo", "-n", "-v", "-c", "1", "-l", "udp and src port \(lab.sipPort)"]
        let output = Pipe()
        capture.standardOutput = output
        capture.standardError = FileHandle.nullDevice
        try capture.run()
        usleep(700_000)
        let probe = try UDPProbe(bind: "127.0.0.9")
        let via = "SIP/2.0/UDP 127.0.0.9:\(probe.localPort);branch=z9hG4bK"
        probe.send("OPTIONS sip:vos@127.0.0.1 SIP/2.0\r\nVia: \(via)o1\r\nFrom: <sip:keepalive@x>;tag=1\r\nTo: <sip:vos@127.0.0.1>\r\nCall-ID: options-1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
                   to: "127.0.0.1", port: lab.sipPort)
        let options = try #require(probe.receive(), "OPTIONS answered")
        #expect(options.hasPrefix("SIP/2.0 200"))
        #expect(options.contains("Allow: INVITE, ACK, CANCEL, BYE, OPTIONS"))
        probe.send("BYE sip:vos@127.0.0.1 SIP/2.0\r\nVia: \(via)b1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@y>;tag=nosuchdialog\r\nCall-ID: no-such-call\r\nCSeq: 2 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
                   to: "127.0.0.1", port: lab.sipPort)
        let bye = try #require(probe.receive(), "BYE answered")
        #expect(bye.hasPrefix("SIP/2.0 481"))
        let deadline = Date().addingTimeInterval(3)
        while capture.isRunning && Date() < deadline { usleep(50_000) }
        if capture.isRunning { capture.terminate() }
        let seen = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(seen.contains("tos 0x60"), "SS_QOS_SIGNAL 24 = CS3 = TOS 0x60 on the wire: \(seen)")
    }
}
