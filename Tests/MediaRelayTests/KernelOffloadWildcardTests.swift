import Foundation
import MediaControl
import Testing
import VOSTestSupport

/// Kernel offload of legs bound to the wildcard, the appliance's default (no `--media-ip`,
/// `SS_MEDIA_IP` empty): the kernel's NAT must use the relay's real address on each side, or the
/// call goes silent after its first packet. Same topology as the rest of the suite.
extension KernelOffloadNamespaceTests {
    @Test(.timeLimit(.minutes(3)))
    func wildcardLegsAreOffloadedWithTheAddressesOfTheirInterfaces() throws {
        let lab = NetworkLab("o")
        defer { lab.destroy() }
        try lab.buildCallTopology()
        try Command.run(lab.inside("relay", ["sysctl", "-qw", "net.ipv4.ip_forward=1"]))
        let call = try WildcardCall(lab, ports: 36000, tag: "wildcard")
        defer { call.mediad.stop() }
        let (mediad, control, session) = (call.mediad, call.control, call.session)
        #expect(session.legs.map(\.local.ip) == ["0.0.0.0", "0.0.0.0"])
        let (callerFacing, calleeFacing) = call.targets

        // 5 s of RTP each way, most of it after the switch to the kernel.
        let (caller, callee) = try RTPPeerScript.startCall(call.script, in: lab, targets: call.targets, count: 250, delays: (0.4, 0.6),
                                                           listen: 6.5, logDirectory: mediad.dataDirectory)

        #expect(try eventually(seconds: 4) {
            try control.statistics(session: session.session).first?.legs.allSatisfy { $0.path == .kernel } == true
        }, "the session reaches path kernel: \(mediad.log)")
        let snat = try nft(lab, ["list", "map", "ip", "vos_media", "snat_sources"])
        let dnat = try nft(lab, ["list", "map", "ip", "vos_media", "dnat_targets"])
        let tracked = try Command.run(lab.inside("relay", ["conntrack", "-L", "-p", "udp", "--dport", String(callerFacing.port)])).output
        // Once offloaded, packets keep flowing through the kernel in both directions.
        let before = try flowPackets(lab)
        usleep(1_000_000)
        let after = try flowPackets(lab)

        let callerReport = try RTPPeerScript.report(caller.finish(within: 8))
        let calleeReport = try RTPPeerScript.report(callee.finish(within: 8))

        // Replies leave from the relay's address on each link, never 0.0.0.0.
        #expect(snat.contains("203.0.113.2 . 4000 . 192.0.2.2 . 5000 : 192.0.2.1 . \(calleeFacing.port)"), "\(snat)")
        #expect(snat.contains("192.0.2.2 . 5000 . 203.0.113.2 . 4000 : 203.0.113.1 . \(callerFacing.port)"), "\(snat)")
        #expect(dnat.contains("203.0.113.2 . 4000 . \(callerFacing.port) : 192.0.2.2 . 5000"), "\(dnat)")
        #expect(dnat.contains("192.0.2.2 . 5000 . \(calleeFacing.port) : 203.0.113.2 . 4000"), "\(dnat)")
        #expect(!snat.contains("0.0.0.0") && !dnat.contains("0.0.0.0"))
        // The call's one NATed entry: from the caller to the relay's caller-side address, replied
        // to by the callee at the relay's callee-side address.
        #expect(tracked.contains("src=203.0.113.2 dst=203.0.113.1 sport=4000 dport=\(callerFacing.port) src=192.0.2.2 dst=192.0.2.1 sport=5000 dport=\(calleeFacing.port)"),
                "\(tracked)")
        #expect(!tracked.contains("0.0.0.0"), "\(tracked)")
        #expect(after.callerToCallee - before.callerToCallee >= 25, "caller -> callee through the kernel: \(before) then \(after)")
        #expect(after.calleeToCaller - before.calleeToCaller >= 25, "callee -> caller through the kernel: \(before) then \(after)")

        // Every packet arrived, from the relay port each peer knows, most of them forwarded by the kernel.
        #expect(callerReport.sent == 250 && calleeReport.sent == 250)
        #expect(calleeReport.received == 250 && calleeReport.sources == [calleeFacing.description: 250], "callee \(calleeReport)")
        #expect(callerReport.received == 250 && callerReport.sources == [callerFacing.description: 250], "caller \(callerReport)")
        let final = try flowPackets(lab)
        #expect(final.callerToCallee >= 200 && final.calleeToCaller >= 200, "kernel share of 250 each way: \(final)")
        let stats = try #require(try control.statistics(session: session.session).first)
        #expect(stats.legs.allSatisfy { $0.path == .kernel })
        #expect(stats.legs[0].received.packets == 250 && stats.legs[1].received.packets == 250)
        #expect(!mediad.log.contains("stays in userspace"), "\(mediad.log)")
    }

    /// A wildcard leg whose far end the relay's own route lookup cannot resolve (here: the main
    /// table says unreachable, while the relay's marked sends still find a way through table 100)
    /// stays in userspace; media flows on and the log says why, once.
    @Test(.timeLimit(.minutes(3)))
    func aWildcardLegWithoutARouteStaysInUserspaceAndTheLogSaysWhy() throws {
        let lab = NetworkLab("n")
        defer { lab.destroy() }
        try lab.buildCallTopology()
        let towardNAT = lab.interface("nr", end: "b")
        for command in [
            ["sysctl", "-qw", "net.ipv4.ip_forward=1"],
            // The caller's packets arrive over a link the main table no longer routes back to.
            ["sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0"], ["sysctl", "-qw", "net.ipv4.conf.\(towardNAT).rp_filter=0"],
            ["ip", "route", "add", "unreachable", "203.0.113.2/32"],
            ["ip", "rule", "add", "fwmark", "0x564f5301", "lookup", "100", "priority", "100"],
            ["ip", "route", "add", "203.0.113.0/24", "dev", towardNAT, "table", "100"],
        ] {
            try Command.run(lab.inside("relay", command))
        }
        let call = try WildcardCall(lab, ports: 37000, tag: "no-route")
        defer { call.mediad.stop() }
        let (caller, callee) = try RTPPeerScript.startCall(call.script, in: lab, targets: call.targets, count: 100, delays: (0.4, 0.6),
                                                           listen: 3, logDirectory: call.mediad.dataDirectory)
        let callerReport = try RTPPeerScript.report(caller.finish(within: 6))
        let calleeReport = try RTPPeerScript.report(callee.finish(within: 6))

        #expect(callerReport.received == 100 && calleeReport.received == 100, "caller \(callerReport), callee \(calleeReport)")
        let stats = try #require(try call.control.statistics(session: call.session.session).first)
        #expect(stats.legs.allSatisfy { $0.path == .userspace })
        #expect(!(try nft(lab, ["list", "map", "ip", "vos_media", "dnat_targets"])).contains("elements"))
        let reason = "session \(call.session.session) stays in userspace: leg 0 has no address the kernel can NAT with: bound to 0.0.0.0, and the route lookup toward 203.0.113.2 failed"
        #expect(call.mediad.log.components(separatedBy: reason).count - 1 == 1, "\(call.mediad.log)")
    }

    /// vos-mediad on the appliance's defaults (no `--media-ip`, `SS_MEDIA_IP` empty) with offload on,
    /// in the relay namespace, and one call whose legs name no address: both bound to 0.0.0.0.
    struct WildcardCall {
        let mediad: MediadHarness
        let control: MediaControlClient
        let session: SessionInfo
        let script: String
        /// Where the far ends send to: the relay's address on each one's link.
        let targets: (caller: MediaEndpoint, callee: MediaEndpoint)

        /// `ports`: the start of a 1000-port range of its own. Stop `mediad` in a `defer`.
        init(_ lab: NetworkLab, ports: Int, tag: String) throws {
            mediad = try MediadHarness(parameters: [
                "SS_MEDIAPROXYPORT_START": String(ports), "SS_MEDIAPROXYPORT_END": String(ports + 999), "SS_MEDIA_KERNEL_OFFLOAD": "1",
            ])
            do {
                try mediad.start(lab: lab, role: "relay", mediaIP: nil)
                control = try mediad.client()
                session = try control.create(tag: tag, legs: NetworkLab.callLegs.map { LegRequest(remote: $0.remote) })
                script = try RTPPeerScript.install(in: mediad.dataDirectory)
            } catch {
                mediad.stop()
                throw error
            }
            targets = (MediaEndpoint(ip: "203.0.113.1", port: session.legs[0].local.port),
                       MediaEndpoint(ip: "192.0.2.1", port: session.legs[1].local.port))
        }
    }

    /// Packets the kernel forwarded so far in each direction of the wildcard call (`flows` counters).
    private func flowPackets(_ lab: NetworkLab) throws -> (callerToCallee: Int, calleeToCaller: Int) {
        let listing = try nft(lab, ["list", "set", "ip", "vos_media", "flows"])
        func packets(_ key: String) -> Int {
            guard let range = listing.range(of: NSRegularExpression.escapedPattern(for: key) + #" counter packets \d+"#, options: .regularExpression) else {
                return 0
            }
            return Int(listing[range].split(separator: " ").last ?? "") ?? 0
        }
        return (packets("203.0.113.2 . 4000 . 192.0.2.2 . 5000"), packets("192.0.2.2 . 5000 . 203.0.113.2 . 4000"))
    }
}
