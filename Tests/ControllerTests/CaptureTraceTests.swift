import Foundation
import Testing
import VOSTestSupport

/// SIP capture end to end: HEP v3 from vos-controller to a real receiver (`sngrep -L`, which
/// decodes HEP and saves the inner SIP messages to a pcap), and `vosctl trace` reading a call's
/// ladder from the running controller's trace ring.
@Suite(.serialized) struct CaptureTraceTests {
    /// One captured SIP message: who sent it to whom, its first line, its CSeq method, its Call-ID.
    struct Captured: Equatable, CustomStringConvertible {
        var source: String
        var destination: String
        var label: String
        var callID: String

        init(_ datagram: UDPDatagram) {
            source = "\(datagram.sourceIP):\(datagram.sourcePort)"
            destination = "\(datagram.destinationIP):\(datagram.destinationPort)"
            let text = String(decoding: datagram.payload, as: UTF8.self)
            let lines = text.components(separatedBy: "\r\n")
            func header(_ name: String) -> String? {
                lines.first { $0.lowercased().hasPrefix(name.lowercased() + ":") }
                    .map { String($0.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces) }
            }
            let start = lines.first ?? ""
            let method = header("CSeq")?.split(separator: " ").last.map(String.init) ?? "?"
            label = start.hasPrefix("SIP/2.0 ") ? "\(start.split(separator: " ")[1]) \(method)" : String(start.split(separator: " ").first ?? "")
            callID = header("Call-ID") ?? header("i") ?? ""
        }

        var description: String { "\(source) -> \(destination) \(label) [\(callID)]" }
    }

    /// Whether `expected` appears in `sequence` in this order (other items may come between).
    private func isSubsequence(_ expected: [String], of sequence: [String]) -> Bool {
        var remaining = expected[...]
        for item in sequence where item == remaining.first { remaining = remaining.dropFirst() }
        return remaining.isEmpty
    }

    /// The ladder's lines as "customer->vos INVITE", "vos->vendor BYE", "vendor->vos 200 OK (BYE)".
    private func ladderSteps(_ output: String) -> [String] {
        output.split(separator: "\n").compactMap { line -> String? in
            guard let bar = line.range(of: "   |") else { return nil }
            let left = line[..<bar.lowerBound], right = line[bar.upperBound...]
            func label(_ part: Substring) -> String? {
                if let match = part.firstMatch(of: /-- (.+?) -*>/) { return String(match.1) }
                if let match = part.firstMatch(of: /<-* (.+?) --/) { return String(match.1) }
                return nil
            }
            if let text = label(left) { return (left.contains(">") ? "customer->vos " : "vos->customer ") + text }
            if let text = label(right) { return (right.contains(">") ? "vos->vendor " : "vendor->vos ") + text }
            return nil
        }
    }

    @Test func hepReachesSngrepAndTraceShowsBothLegs() throws {
        let lab = try SwitchLab()
        let vendorPort = TestPorts.allocate(8), hepPort = TestPorts.allocate(2)
        let vos = "127.0.0.1:\(lab.sipPort)", vendor = "\(SwitchLab.vendorIP):\(vendorPort)"
        try lab.vendor("ven1", port: vendorPort)
        try lab.vosctl.ok("param", "set", "SS_HEP_ADDRESS", "127.0.0.1:\(hepPort)")
        try lab.vosctl.ok("param", "set", "SS_HEP_CAPTURE_ID", "2001")
        let controller = try lab.startController()
        let pcap = lab.scratch.child("hep.pcap")
        // No UI, quiet, HEP listener only: sngrep then captures nothing from the interfaces.
        let sngrep = try Daemon("/usr/bin/sngrep", ["-N", "-q", "-L", "udp:127.0.0.1:\(hepPort)", "-O", pcap],
                                log: lab.scratch.child("sngrep.log"))
        defer { sngrep.stop() }
        // Listening once its socket shows in /proc/net/udp (local address 127.0.0.1 and the port, in hex).
        let bound = String(format: "0100007F:%04X ", hepPort)
        #expect(eventually(seconds: 10) { ((try? String(contentsOfFile: "/proc/net/udp", encoding: .utf8)) ?? "").contains(bound) },
                "sngrep listens: \(sngrep.log)")
        try lab.uas(port: vendorPort, seconds: 60)

        // HEP off (the default): this call reaches the trace ring only.
        let unseen = try lab.uac("4420111", calls: 1)
        unseen.wait()
        #expect(unseen.successfulCalls == 1, "\(unseen.output)")

        // Switched on while running; the customer calls over TCP, the vendor is reached over UDP.
        try lab.vosctl.ok("param", "set", "SS_HEP_ENABLE", "1")
        #expect(controller.waitForLog("HEP capture on: every SIP message to udp:127.0.0.1:\(hepPort), capture id 2001"), "\(lab.controllerLog)")
        let customer = try lab.uac("4420222", calls: 1, ["-t", "t1"])
        customer.wait()
        #expect(customer.successfulCalls == 1, "\(customer.output)\n\(lab.controllerLog)")
        let records = try lab.waitForCDRs(2)
        let unseenCallID = try #require(records.first { $0["calleeReceived"] as? String == "4420111" }?["callID"] as? String)
        let callID = try #require(records.first { $0["calleeReceived"] as? String == "4420222" }?["callID"] as? String)

        // What sngrep received: every message of both legs, with vos's and the peers' addresses.
        _ = eventually(seconds: 5) { ((try? PcapFile.read(pcap)) ?? []).count >= 13 }
        sngrep.stop()
        let captured = try PcapFile.read(pcap).map(Captured.init)
        #expect(!captured.contains { $0.callID == unseenCallID }, "nothing was sent while SS_HEP_ENABLE was 0")
        let customerLeg = captured.filter { $0.callID == callID }
        let fromCustomer = customerLeg.filter { $0.source.hasPrefix("\(SwitchLab.customerIP):") && $0.destination == vos }.map(\.label)
        let toCustomer = customerLeg.filter { $0.source == vos && $0.destination.hasPrefix("\(SwitchLab.customerIP):") }.map(\.label)
        #expect(fromCustomer.count + toCustomer.count == customerLeg.count, "customer leg between the customer and vos: \(customerLeg)")
        #expect(isSubsequence(["INVITE", "ACK", "BYE"], of: fromCustomer), "\(customerLeg)")
        #expect(isSubsequence(["100 INVITE", "180 INVITE", "200 INVITE", "200 BYE"], of: toCustomer), "\(customerLeg)")
        let vendorInvite = try #require(captured.first { $0.destination == vendor && $0.label == "INVITE" }, "\(captured)")
        #expect(vendorInvite.source == vos)
        #expect(vendorInvite.callID != callID, "the vendor leg has its own Call-ID")
        let vendorLeg = captured.filter { $0.callID == vendorInvite.callID }
        #expect(isSubsequence(["INVITE", "ACK", "BYE"], of: vendorLeg.filter { $0.source == vos && $0.destination == vendor }.map(\.label)),
                "\(vendorLeg)")
        #expect(isSubsequence(["180 INVITE", "200 INVITE", "200 BYE"], of: vendorLeg.filter { $0.source == vendor && $0.destination == vos }.map(\.label)),
                "\(vendorLeg)")

        // The operator's ladder of the same call, asked by either leg's Call-ID.
        let ladder = try lab.vosctl.ok("trace", callID)
        let steps = ladderSteps(ladder)
        #expect(isSubsequence(["customer->vos INVITE", "vos->vendor INVITE", "vendor->vos 200 OK (INVITE)",
                               "vos->customer 200 OK (INVITE)", "customer->vos BYE", "vos->vendor BYE"], of: steps), "\(ladder)")
        for step in ["vos->customer 100 Trying (INVITE)", "vendor->vos 180 Ringing (INVITE)", "vos->customer 180 Ringing (INVITE)",
                     "customer->vos ACK", "vos->vendor ACK", "vendor->vos 200 OK (BYE)", "vos->customer 200 OK (BYE)"] {
            #expect(steps.contains(step), "\(step) in\n\(ladder)")
        }
        #expect(ladder.contains("Call-ID \(callID): ") && ladder.contains("2 legs"), "\(ladder)")
        #expect(ladder.contains("tcp:\(SwitchLab.customerIP):") && ladder.contains("udp:\(vendor)"), "\(ladder)")
        #expect(ladderSteps(try lab.vosctl.ok("trace", vendorInvite.callID)) == steps, "the vendor leg's Call-ID finds the same call")
        #expect(ladderSteps(try lab.vosctl.ok("trace", unseenCallID)).contains("vos->vendor BYE"), "the ring keeps calls with HEP off too")

        let full = try lab.vosctl.ok("trace", callID, "--full")
        #expect(full.contains("Call-ID: \(callID)") && full.contains("Call-ID: \(vendorInvite.callID)") && full.contains("v=0"), "\(full)")
        let json = try #require(try lab.vosctl.json("trace", callID) as? [String: Any])
        let messages = try #require(json["messages"] as? [[String: Any]])
        #expect(messages.count == steps.count)
        #expect(Set(messages.compactMap { $0["callID"] as? String }) == [callID, vendorInvite.callID])

        let status = try lab.vosctl.ok("trace")
        #expect(status.contains("HEP         on: udp:127.0.0.1:\(hepPort), capture id 2001, "), "\(status)")
        let counts = try #require(status.firstMatch(of: /(\d+) sent, (\d+) dropped/))
        #expect(Int(counts.1) ?? 0 >= captured.count && Int(counts.2) == 0, "\(status)")
        #expect(status.contains("trace ring  ") && status.contains("of 16.0 MiB"), "\(status)")

        let missing = try lab.vosctl.fails("trace", "no-such-call@nowhere")
        #expect(missing.contains("no message of Call-ID 'no-such-call@nowhere' in the trace ring") && missing.contains("SS_SIP_TRACE_MEMORY"), "\(missing)")
    }

    @Test func traceSaysWhenTheControllerIsNotRunning() throws {
        let lab = try SwitchLab()
        let refused = try lab.vosctl.fails("trace", "some-call")
        #expect(refused.contains("cannot reach vos-controller") && refused.contains("is it running?"), "\(refused)")
    }
}
