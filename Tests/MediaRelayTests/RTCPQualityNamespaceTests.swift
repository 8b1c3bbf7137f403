import Foundation
import MediaControl
import Testing
import VOSModel

/// Quality statistics of an offloaded call from the endpoints' own RTCP and the kernel's
/// counters, with a real vos-mediad and kernel offload in namespaces (the topology of
/// `MediaRelayNamespaceTests`). Needs root, iproute2, nftables, conntrack and python3.
@Suite(.serialized) struct RTCPQualityNamespaceTests {
    // The limit catches a hang, not slowness: alone it takes 14 s; in the full suite, beside the
    // two-network labs and the NAT keep-alive lab, it once needed more than a minute.
    @Test(.timeLimit(.minutes(3)))
    func anOffloadedCallReportsTheEndpointsRTCPItsRoundTripsBandsAndOneWayAudio() throws {
        let lab = NetworkLab("q")
        defer { lab.destroy() }
        try lab.buildCallTopology()
        try Command.run(lab.inside("relay", ["sysctl", "-qw", "net.ipv4.ip_forward=1"]))
        let mediad = try MediadHarness(parameters: [
            "SS_MEDIAPROXYPORT_START": "36000", "SS_MEDIAPROXYPORT_END": "36999", "SS_MEDIA_KERNEL_OFFLOAD": "1",
        ])
        defer { mediad.stop() }
        try mediad.start(lab: lab, role: "relay", mediaIP: "203.0.113.1")
        let control = try mediad.client()
        let session = try control.create(tag: "call-rtcp", legs: NetworkLab.callLegs)
        let script = try RTCPPeerScript.install(in: mediad.dataDirectory)

        // The caller (leg 0's far end, behind the NAT) reports 3/256 lost (1.17 %: warning), 7 in
        // all, 80 units of jitter (10 ms) and answers SRs as if 80 ms further away; it sends RTCP
        // on port + 1 and RTP for 12 s, plus one datagram that is not RTCP.
        let caller = try BackgroundCommand(lab.inside("caller", [
            "python3", script, "--bind", "198.51.100.2:4000", "--to", session.legs[0].local.description, "--ssrc", "1", "--peer-ssrc", "2",
            "--fraction", "3", "--cumulative", "7", "--jitter", "80", "--extra-ms", "80", "--rtp-seconds", "12", "--listen", "12.5",
            "--garbage",
        ]), logDirectory: mediad.dataDirectory, name: "caller")
        // The callee (leg 1's far end) reports no loss, 480 units of jitter (60 ms: critical) and
        // 200 ms further away (warning); it multiplexes RTCP on its RTP port (RFC 5761) and stops
        // sending RTP after 3 s, RTCP going on: one-way audio from 8 s on, while the caller sends.
        let callee = try BackgroundCommand(lab.inside("callee", [
            "python3", script, "--bind", "192.0.2.2:5000", "--to", session.legs[1].local.description, "--ssrc", "2", "--peer-ssrc", "1",
            "--fraction", "0", "--cumulative", "0", "--jitter", "480", "--extra-ms", "200", "--rtp-seconds", "3", "--listen", "12.5",
            "--mux",
        ]), logDirectory: mediad.dataDirectory, name: "callee")

        // Mid-call, offloaded: the far ends' reports, round trips and bands.
        Thread.sleep(forTimeInterval: 2.6)
        let mid = try #require(try control.statistics(session: session.session).first)
        let sessions = try mediad.vosctl(["media", "sessions", "--control", mediad.controlPath]).output
        #expect(mid.legs.allSatisfy { $0.path == .kernel }, "\(mid.legs.map(\.path))")
        let a = mid.legs[0], b = mid.legs[1]
        #expect((a.rtcpReports ?? 0) >= 3 && (b.rtcpReports ?? 0) >= 3, "reports: \(String(describing: a.rtcpReports)) / \(String(describing: b.rtcpReports))")
        #expect(a.rtcpLossPercent == 3.0 * 100 / 256 && a.rtcpLost == 7 && a.rtcpJitterMs == 10, "\(a)")
        #expect(b.rtcpLossPercent == 0 && b.rtcpLost == 0 && b.rtcpJitterMs == 60, "\(b)")
        #expect((a.rtcpInvalid ?? 0) == 1 && b.rtcpInvalid == nil, "the caller's one bad datagram: \(String(describing: a.rtcpInvalid))")
        let roundTripA = try #require(a.roundTripMs, "caller leg round trip")
        let roundTripB = try #require(b.roundTripMs, "callee leg round trip (its reports are multiplexed on the RTP port)")
        #expect((70...100).contains(roundTripA), "\(roundTripA) ms")
        #expect((190...220).contains(roundTripB), "\(roundTripB) ms")
        // Worst metric: the caller's loss (warning; jitter and round trip are good), the callee's jitter (critical).
        #expect(a.quality == .warning, "\(a)")
        #expect(b.quality == .critical, "\(b)")
        #expect(a.oneWayAudio == false && b.oneWayAudio == false && a.oneWayAudioSeen == false && b.oneWayAudioSeen == false)
        #expect(sessions.contains("QUALITY") && sessions.contains("warning") && sessions.contains("critical"), "\(sessions)")

        // The callee's RTP stopped at 3 s (its RTCP goes on, through the relay); the kernel's counters
        // show the caller's RTP still flowing: one-way audio on leg 1 once 5 s have passed.
        var late: SessionInfo?
        let deadline = Date().addingTimeInterval(8.5)
        while Date() < deadline {
            Thread.sleep(forTimeInterval: 0.5)
            late = try control.statistics(session: session.session).first
            if late?.legs[1].oneWayAudio == true { break }
        }
        let oneWay = try #require(late)
        #expect(oneWay.legs[1].oneWayAudio == true && oneWay.legs[1].oneWayAudioSeen == true, "\(oneWay.legs[1])")
        #expect(oneWay.legs[0].oneWayAudio == false && oneWay.legs[0].oneWayAudioSeen == false, "\(oneWay.legs[0])")
        #expect(oneWay.legs.allSatisfy { $0.path == .kernel })
        #expect((oneWay.legs[1].idleSeconds ?? 0) >= MediaQuality.oneWayAudioSeconds, "muxed RTCP is not RTP: \(oneWay.legs[1])")
        #expect((oneWay.legs[0].idleSeconds ?? 99) < 3, "the kernel's counters keep the caller's leg current: \(oneWay.legs[0])")

        let callerReport = try RTCPPeerScript.report(caller.finish(within: 6))
        let calleeReport = try RTCPPeerScript.report(callee.finish(within: 6))
        // RTCP still reaches the other side both ways (the callee's multiplexed, on the caller's RTP port).
        #expect((callerReport.received.sr ?? 0) > 0 && (calleeReport.received.sr ?? 0) > 0, "caller \(callerReport), callee \(calleeReport)")
        // (Most of it: what a far end sends before the other has started or latched is lost.)
        #expect(callerReport.received.rtcp >= calleeReport.sent.rtcp / 2, "caller \(callerReport), callee \(calleeReport)")
        #expect(calleeReport.received.rtcp >= callerReport.sent.rtcp / 2, "caller \(callerReport), callee \(calleeReport)")

        // The final statistics (what the controller writes to the CDR) keep it.
        let final = try #require(try control.delete(session: session.session))
        #expect(final.legs[1].oneWayAudioSeen == true && final.legs[1].quality == .critical, "\(final.legs[1])")
        #expect(final.legs[0].rtcpLost == 7, "\(final.legs[0])")
    }
}
