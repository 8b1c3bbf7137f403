import Foundation
import MediaControl
import Testing

/// Kernel offload with a real vos-mediad, real nftables and real packets, in namespaces this
/// suite creates and deletes (same topology as `MediaRelayNamespaceTests`: the caller behind a
/// masquerading NAT). Needs root, iproute2, nftables, conntrack and python3.
@Suite(.serialized) struct KernelOffloadNamespaceTests {
    @Test(.timeLimit(.minutes(3)))  // a hang guard: under the full suite's load these have needed over a minute
    func offloadsALatchedCallThenCleansUpAndFallsBackToUserspaceWhenSwitchedOff() throws {
        let lab = NetworkLab("k")
        defer { lab.destroy() }
        try lab.buildCallTopology()
        // Forwarding is an appliance sysctl (90-vos.conf); vos-mediad never changes it itself.
        try Command.run(lab.inside("relay", ["sysctl", "-qw", "net.ipv4.ip_forward=1"]))
        let mediad = try MediadHarness(parameters: [
            "SS_MEDIAPROXYPORT_START": "32000", "SS_MEDIAPROXYPORT_END": "32999", "SS_RTP_TIMEOUT": "2", "SS_QOS_RTP": "46",
            "SS_MEDIA_KERNEL_OFFLOAD": "1",
        ])
        defer { mediad.stop() }
        try mediad.start(lab: lab, role: "relay", mediaIP: "203.0.113.1")
        let events = try mediad.client()
        try events.subscribe()
        let control = try mediad.client()
        let session = try control.create(tag: "call-offload", legs: NetworkLab.callLegs)
        let callerFacing = session.legs[0].local
        let calleeFacing = session.legs[1].local
        try lab.installDSCPProbe(relayPort: calleeFacing.port)

        // 3 s of RTP each way: longer than SS_RTP_TIMEOUT, so a timeout while offloaded would show.
        let script = try RTPPeerScript.install(in: mediad.dataDirectory)
        let caller = try RTPPeerScript.start(script, in: lab, role: "caller", bind: "198.51.100.2:4000", to: callerFacing, [
            "--count", "150", "--delay", "0.4", "--listen", "4.5", "--ssrc", "1",
        ], logDirectory: mediad.dataDirectory)
        let callee = try RTPPeerScript.start(script, in: lab, role: "callee", bind: "192.0.2.2:5000", to: calleeFacing, [
            "--count", "150", "--delay", "0.6", "--listen", "4.5", "--ssrc", "2",
        ], logDirectory: mediad.dataDirectory)

        // While the call is up: the session is in the kernel and the maps hold both directions.
        var seen: [MediaEvent] = []
        var offloadedStats: SessionInfo?
        var dnatListing = ""
        let midCall = Date().addingTimeInterval(2)
        while caller.process.isRunning || callee.process.isRunning {
            if let event = try events.nextEvent(timeoutMilliseconds: 100) { seen.append(event) }
            if offloadedStats == nil, Date() > midCall {
                offloadedStats = try control.statistics(session: session.session).first
                dnatListing = try nft(lab, ["list", "map", "ip", "vos_media", "dnat_targets"])
            }
        }
        let callerReport = try RTPPeerScript.report(caller.finish(within: 1))
        let calleeReport = try RTPPeerScript.report(callee.finish(within: 1))
        #expect(!seen.contains { $0.event == .rtpTimeout }, "no RTP timeout while offloaded media flows: \(seen)")
        let midStats = try #require(offloadedStats)
        #expect(midStats.legs.allSatisfy { $0.path == .kernel }, "\(midStats.legs.map(\.path))")
        #expect(dnatListing.contains("203.0.113.2 . 4000 . \(callerFacing.port) : 192.0.2.2 . 5000"), "\(dnatListing)")
        #expect(dnatListing.contains("192.0.2.2 . 5000 . \(calleeFacing.port) : 203.0.113.2 . 4000"), "\(dnatListing)")

        // Every packet delivered, from the relay ports the peers know, marked EF by the kernel too.
        #expect(callerReport.sent == 150 && calleeReport.sent == 150)
        #expect(calleeReport.received == 150 && calleeReport.sources == [calleeFacing.description: 150], "callee \(calleeReport)")
        #expect(callerReport.received == 150 && callerReport.sources == [callerFacing.description: 150], "caller \(callerReport)")
        #expect(try lab.probeCounter("ef") == 150)
        #expect(try lab.probeCounter("other") == 0)

        // Statistics add the kernel's per-flow counters to what userspace relayed before the offload.
        let stats = try #require(try control.statistics(session: session.session).first)
        #expect(stats.legs[0].received.packets == 150 && stats.legs[0].received.bytes == 150 * 172)
        #expect(stats.legs[1].received.packets == 150 && stats.legs[0].sent.packets == 150 && stats.legs[1].sent.packets == 150)
        // A listing of every session (one dump of the kernel's counters) agrees with the keyed read.
        let listed = try #require(try control.statistics().first { $0.session == session.session })
        #expect(listed.legs.map(\.received) == stats.legs.map(\.received) && listed.legs.map(\.sent) == stats.legs.map(\.sent))
        #expect(listed.legs.allSatisfy { $0.path == .kernel })

        // The kernel's counters stopped moving: the RTP timeout fires for the offloaded session.
        let deadline = Date().addingTimeInterval(6)
        while Date() < deadline, !seen.contains(where: { $0.event == .rtpTimeout }) {
            if let event = try events.nextEvent(timeoutMilliseconds: 500) { seen.append(event) }
        }
        let timeout = try #require(seen.first { $0.event == .rtpTimeout }, "events: \(seen)")
        #expect(timeout.session == session.session && (timeout.idleSeconds ?? 0) >= 2)

        // After delete: no map element, no flow, no conntrack entry left to forward stale NAT.
        let final = try #require(try control.delete(session: session.session))
        #expect(final.legs[0].received.packets == 150 && final.legs[1].received.packets == 150)
        #expect(!(try nft(lab, ["list", "map", "ip", "vos_media", "dnat_targets"])).contains("elements"))
        #expect(!(try nft(lab, ["list", "map", "ip", "vos_media", "snat_sources"])).contains("elements"))
        #expect(!(try nft(lab, ["list", "set", "ip", "vos_media", "flows"])).contains("elements"))
        for port in [callerFacing.port, calleeFacing.port] {
            let tracked = try Command.run(lab.inside("relay", ["conntrack", "-L", "-p", "udp", "--dport", String(port)])).output
            #expect(!tracked.contains("dport=\(port)"), "conntrack entries left for port \(port): \(tracked)")
        }

        // Restart with offload off: the table is gone and media is relayed in userspace (here
        // through the legs' own sockets, the path used without CAP_NET_RAW; the other tests use
        // the raw socket).
        mediad.stopDaemon()
        try mediad.vosctl(["param", "set", "SS_MEDIA_KERNEL_OFFLOAD", "0"])
        try mediad.start(lab: lab, role: "relay", mediaIP: "203.0.113.1", extraArguments: ["--socket-send"])
        #expect(!(try Command.run(lab.inside("relay", ["nft", "list", "tables"])).output.contains("vos_media")))
        let control2 = try mediad.client()
        let second = try control2.create(tag: "call-userspace", legs: NetworkLab.callLegs)
        let (caller2, callee2) = try RTPPeerScript.exchange(script, in: lab, session: second, count: 50, delays: (0.3, 0.5), listen: 2,
                                                            within: 6, names: ("caller2", "callee2"), logDirectory: mediad.dataDirectory)
        #expect(caller2.received == 50)
        #expect(callee2.received == 50)
        let userspace = try #require(try control2.statistics(session: second.session).first)
        #expect(userspace.legs.allSatisfy { $0.path == .userspace })
        #expect(userspace.legs[0].received.packets == 50 && userspace.legs[0].expected == 50)
        #expect(userspace.legs[0].sent.packets == 50 && userspace.legs[1].sent.packets == 50)
        #expect(!mediad.log.contains("unavailable"), "\(mediad.log)")
    }

    @Test(.timeLimit(.minutes(3)))  // a hang guard: under the full suite's load these have needed over a minute
    func anAddressChangeMovesTheSessionBackToUserspace() throws {
        let lab = NetworkLab("u")
        defer { lab.destroy() }
        try lab.buildCallTopology()
        try Command.run(lab.inside("relay", ["sysctl", "-qw", "net.ipv4.ip_forward=1"]))
        let mediad = try MediadHarness(parameters: ["SS_MEDIAPROXYPORT_START": "33000", "SS_MEDIAPROXYPORT_END": "33999", "SS_MEDIA_KERNEL_OFFLOAD": "1"])
        defer { mediad.stop() }
        try mediad.start(lab: lab, role: "relay", mediaIP: "203.0.113.1")
        let control = try mediad.client()
        let session = try control.create(tag: "moves", legs: NetworkLab.callLegs)
        let script = try RTPPeerScript.install(in: mediad.dataDirectory)
        let (callerReport, calleeReport) = try RTPPeerScript.exchange(script, in: lab, session: session, count: 40, delays: (0.2, 0.3),
                                                                      listen: 1.5, within: 5, logDirectory: mediad.dataDirectory)
        #expect(callerReport.received == 40 && calleeReport.received == 40, "caller \(callerReport), callee \(calleeReport)")
        #expect(try control.statistics(session: session.session).first?.legs.allSatisfy { $0.path == .kernel } == true)
        #expect(try nft(lab, ["list", "map", "ip", "vos_media", "dnat_targets"]).contains("elements"))

        // The callee re-INVITEs with another port: out of the kernel, flows and conntrack entries gone.
        try control.update(session: session.session, leg: 1, remote: MediaEndpoint(ip: "192.0.2.2", port: 5002))
        let moved = try #require(try control.statistics(session: session.session).first)
        #expect(moved.legs.allSatisfy { $0.path == .userspace })
        #expect(moved.legs[0].received.packets == 40 && moved.legs[1].received.packets == 40, "kernel counts kept after the move")
        #expect(!(try nft(lab, ["list", "map", "ip", "vos_media", "dnat_targets"])).contains("elements"))
        let tracked = try Command.run(lab.inside("relay", ["conntrack", "-L", "-p", "udp", "--dport", String(session.legs[0].local.port)])).output
        #expect(!tracked.contains("dport=\(session.legs[0].local.port)"), "\(tracked)")
    }

    @Test(.timeLimit(.minutes(3)))  // a hang guard: under the full suite's load these have needed over a minute
    func withoutCAPNETADMINMediaStaysInUserspaceAndTheLogSaysSoOnce() throws {
        let lab = NetworkLab("c")
        defer { lab.destroy() }
        try lab.buildCallTopology()
        try Command.run(lab.inside("relay", ["sysctl", "-qw", "net.ipv4.ip_forward=1"]))
        let mediad = try MediadHarness(parameters: ["SS_MEDIAPROXYPORT_START": "34000", "SS_MEDIAPROXYPORT_END": "34999", "SS_MEDIA_KERNEL_OFFLOAD": "1"])
        defer { mediad.stop() }
        // Root without CAP_NET_ADMIN: netlink refuses nf_tables changes with EPERM.
        try mediad.start(lab: lab, role: "relay", mediaIP: "203.0.113.1", prefix: ["setpriv", "--bounding-set", "-net_admin"])
        let control = try mediad.client()
        let script = try RTPPeerScript.install(in: mediad.dataDirectory)
        for call in 0..<2 {
            let session = try control.create(tag: "no-cap-\(call)", legs: NetworkLab.callLegs)
            let (caller, callee) = try RTPPeerScript.exchange(script, in: lab, session: session, count: 30, delays: (0.2, 0.3),
                                                              listen: 1.2, within: 5, logDirectory: mediad.dataDirectory)
            #expect(caller.received == 30)
            #expect(callee.received == 30)
            let stats = try #require(try control.statistics(session: session.session).first)
            #expect(stats.legs.allSatisfy { $0.path == .userspace })
            try control.delete(session: session.session)
        }
        let warnings = mediad.log.components(separatedBy: "kernel offload unavailable").count - 1
        #expect(warnings == 1, "\(mediad.log)")
    }

    /// `nft ARGUMENTS` in the relay namespace.
    func nft(_ lab: NetworkLab, _ arguments: [String]) throws -> String {
        try Command.run(lab.inside("relay", ["nft"] + arguments)).output
    }
}
