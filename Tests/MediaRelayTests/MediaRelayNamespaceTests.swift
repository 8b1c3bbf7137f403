import Foundation
import MediaControl
import Testing
import VOSTestSupport

/// Real packets through a real vos-mediad, in network namespaces this suite creates and deletes.
/// Needs root, iproute2, nftables and python3; the binaries come from the same build (see BuiltProducts).
@Suite(.serialized) struct MediaRelayNamespaceTests {
    /// The same call and the same expectations for every receive path: legs steered to the I/O
    /// thread's capture socket by table ip vos_capture (the default), legs bound to 0.0.0.0 (the
    /// appliance's default media address) captured by port, and each leg's own socket.
    @Test(.timeLimit(.minutes(3)), arguments: ["capture", "capture-wildcard", "sockets"])
    func relaysACallerBehindNATWithDSCPLatchingStatisticsAndTimeout(receive: String) throws {
        let wildcard = receive == "capture-wildcard"
        let captureMap = wildcard ? "wildcard_ports" : "ports"
        let lab = NetworkLab(["capture": "a", "capture-wildcard": "w"][receive] ?? "s")
        defer { lab.destroy() }
        try lab.buildCallTopology()
        let mediad = try MediadHarness(parameters: [
            "SS_MEDIAPROXYPORT_START": "30000", "SS_MEDIAPROXYPORT_END": "30999", "SS_RTP_TIMEOUT": "2", "SS_QOS_RTP": "46",
            // The userspace path: loss and jitter are measured only there.
            "SS_MEDIA_KERNEL_OFFLOAD": "0",
        ])
        defer { mediad.stop() }
        try mediad.start(lab: lab, role: "relay", mediaIP: "203.0.113.1", extraArguments: ["--receive", wildcard ? "capture" : receive])
        let events = try mediad.client()
        try events.subscribe()
        let control = try mediad.client()

        // The caller's SDP carries its private address; only the NAT's public one is reachable.
        let session = try control.create(tag: "call-nat", legs: NetworkLab.callLegs.map {
            wildcard ? LegRequest(local: "0.0.0.0", remote: $0.remote) : $0
        })
        #expect(session.legs.map(\.local.ip) == (wildcard ? ["0.0.0.0", "0.0.0.0"] : ["203.0.113.1", "192.0.2.1"]))
        // Where the far ends send to (and see the relay send from): the relay's address on each link.
        let callerFacing = MediaEndpoint(ip: "203.0.113.1", port: session.legs[0].local.port)
        let calleeFacing = MediaEndpoint(ip: "192.0.2.1", port: session.legs[1].local.port)
        for leg in session.legs { #expect(leg.local.port % 2 == 0 && (30000...30998).contains(leg.local.port)) }

        try lab.installDSCPProbe(relayPort: calleeFacing.port)

        let script = try RTPPeerScript.install(in: mediad.dataDirectory)
        // Start-up order by delays, not by luck: every receiving socket is bound before the first
        // packet (python needs ~0.1 s to start), the caller latches before the callee speaks,
        // and the intruder comes after the latch.
        let caller = try RTPPeerScript.start(script, in: lab, role: "caller", bind: "198.51.100.2:4000", to: callerFacing, [
            "--count", "100", "--skip-every", "9", "--uneven-timestamps", "--delay", "0.4", "--listen", "3.5", "--ssrc", "1",
        ], logDirectory: mediad.dataDirectory)
        let callee = try RTPPeerScript.start(script, in: lab, role: "callee", bind: "192.0.2.2:5000", to: calleeFacing, [
            "--count", "50", "--delay", "1.0", "--listen", "3.5", "--ssrc", "2",
        ], logDirectory: mediad.dataDirectory)
        // A third host aims at the caller-facing port once the caller has latched it.
        let intruder = try RTPPeerScript.start(script, in: lab, role: "intruder", bind: "192.0.2.130:6000", to: callerFacing, [
            "--count", "20", "--delay", "1.2", "--listen", "2", "--ssrc", "666",
        ], logDirectory: mediad.dataDirectory)
        // Capture: the kernel steers the session's four ports (RTP and RTCP of both legs) to the
        // relay thread's capture socket; with per-leg sockets there is no capture table at all.
        let expectedCaptures = [callerFacing, calleeFacing].flatMap { leg in
            [leg.port, leg.port + 1].map { wildcard ? "\($0) : " : "\(leg.ip) . \($0) : " }
        }
        #expect(capturedPorts(lab, map: captureMap).count == (receive == "sockets" ? 0 : 4))
        if receive != "sockets" {
            let map = capturedPortsListing(lab, map: captureMap)
            for entry in expectedCaptures { #expect(map.contains(entry), "\(entry) missing from \(map)") }
        }
        let callerReport = try RTPPeerScript.report(caller.finish(within: 10))
        let calleeReport = try RTPPeerScript.report(callee.finish(within: 10))
        let intruderReport = try RTPPeerScript.report(intruder.finish(within: 10))

        // Both ways, and nothing of the intruder's got through.
        #expect(callerReport.sent == 100 && calleeReport.sent == 50 && intruderReport.sent == 20)
        #expect(calleeReport.received == 100)
        #expect(calleeReport.sources == [calleeFacing.description: 100])
        #expect(callerReport.received == 50)
        #expect(callerReport.sources == [callerFacing.description: 50])
        #expect(intruderReport.received == 0)

        // DSCP EF on every relayed packet the callee saw.
        #expect(try lab.probeCounter("ef") == 100)
        #expect(try lab.probeCounter("other") == 0)

        let stats = try #require(try control.statistics(session: session.session).first)
        let callerLeg = stats.legs[0]
        let calleeLeg = stats.legs[1]
        #expect(callerLeg.remote == MediaEndpoint(ip: "198.51.100.2", port: 4000))
        #expect(callerLeg.latched?.ip == "203.0.113.2", "latched to the NAT's public address, not the SDP one")
        #expect(callerLeg.received.packets == 100 && callerLeg.received.bytes == 100 * 172)
        #expect(callerLeg.sent.packets == 50)
        #expect(callerLeg.dropped == 20)
        #expect(callerLeg.expected == 111 && callerLeg.lost == 11)
        #expect(abs(callerLeg.lossPercent - 1100.0 / 111) < 0.01)
        #expect((5...16).contains(callerLeg.jitterMs), "jitter \(callerLeg.jitterMs) ms; the stream alternates +-10 ms")
        #expect(calleeLeg.latched == MediaEndpoint(ip: "192.0.2.2", port: 5000))
        #expect(calleeLeg.received.packets == 50 && calleeLeg.sent.packets == 100)
        #expect(calleeLeg.lost == 0 && calleeLeg.jitterMs < 5)
        #expect(stats.legs.allSatisfy { $0.path == .userspace })

        // vosctl shows the session.
        let listing = try mediad.vosctl(["media", "sessions", "--json", "--control", mediad.controlPath])
        let listed = try JSONDecoder().decode([SessionInfo].self, from: Data(listing.output.utf8))
        #expect(listed.map(\.session) == [session.session])
        #expect(listed.first?.legs.first?.latched?.ip == "203.0.113.2")

        // The latch was announced, and the silence since the peers stopped times out (2 s).
        var seen: [MediaEvent] = []
        let deadline = Date().addingTimeInterval(6)
        while Date() < deadline, !seen.contains(where: { $0.event == .rtpTimeout }) {
            if let event = try events.nextEvent(timeoutMilliseconds: 500) { seen.append(event) }
        }
        #expect(seen.contains { $0.event == .legLatched && $0.leg == 0 && $0.address?.ip == "203.0.113.2" && $0.tag == "call-nat" })
        let timeout = try #require(seen.first { $0.event == .rtpTimeout })
        #expect(timeout.session == session.session)
        #expect((timeout.idleSeconds ?? 0) >= 2)

        let final = try #require(try control.delete(session: session.session))
        #expect(final.legs[0].received.packets == 100)
        #expect(try control.statistics().isEmpty)
        #expect(capturedPorts(lab, map: captureMap).isEmpty, "a deleted session's ports are no longer captured")
        #expect(mediad.isRunning)
        mediad.stopDaemon()
        #expect(try !Command.run(lab.inside("relay", ["nft", "list", "tables"])).output.contains("vos_capture"),
                "the capture table goes with the daemon")
    }

    /// `nft list map ip vos_capture MAP` in the relay namespace ("" when there is no such table).
    private func capturedPortsListing(_ lab: NetworkLab, map: String) -> String {
        // nft fails when the table does not exist: nothing is captured then.
        (try? Command.run(lab.inside("relay", ["nft", "list", "map", "ip", "vos_capture", map])))?.output ?? ""
    }

    /// The captured ports' map entries (`ADDRESS . PORT : CAPTURE_PORT`, or `PORT : CAPTURE_PORT`).
    private func capturedPorts(_ lab: NetworkLab, map: String) -> [String] {
        let listing = capturedPortsListing(lab, map: map)
        guard let open = listing.range(of: "elements = {"), let close = listing.range(of: "}", range: open.upperBound..<listing.endIndex) else {
            return []
        }
        return listing[open.upperBound..<close.lowerBound].split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
    }

    @Test(.timeLimit(.minutes(3)))
    func refusesBadRequestsAndAnExhaustedRangeWithoutDisturbingOthers() throws {
        let lab = NetworkLab("b")
        defer { lab.destroy() }
        try lab.addNamespace("relay")
        // Two RTP/RTCP pairs: exactly one session.
        let mediad = try MediadHarness(parameters: ["SS_MEDIAPROXYPORT_START": "31000", "SS_MEDIAPROXYPORT_END": "31003"])
        defer { mediad.stop() }
        try mediad.start(lab: lab, role: "relay", mediaIP: "127.0.0.1")
        let client = try mediad.client()

        let first = try client.create(tag: "one", legs: [LegRequest(), LegRequest()])
        #expect(Set(first.legs.map(\.local.port)) == [31000, 31002])
        #expect(throws: MediaControlFailure.self) { try client.create(tag: "two", legs: [LegRequest(), LegRequest()]) }
        let refused = try client.exchange(MediaRequest(id: 0, op: .create, tag: "two", legs: [LegRequest(), LegRequest()]))
        #expect(refused.error?.code == .portRangeExhausted)
        #expect(refused.error?.message.contains("31000-31003") == true)

        // Malformed and unknown requests: an error reply each, the connection and daemon carry on.
        let garbage = try client.exchangeRaw(Array("this is not json\n".utf8))
        #expect(!garbage.ok && garbage.error?.code == .malformedRequest)
        let unknown = try client.exchangeRaw(Array(#"{"version":1,"id":77,"op":"teleport"}"#.utf8) + [10])
        #expect(unknown.id == 77 && unknown.error?.code == .unknownOperation)
        let badField = try client.exchangeRaw(Array(#"{"version":1,"id":78,"op":"update","session":"1","leg":0,"remote":42}"#.utf8) + [10])
        #expect(badField.id == 78 && badField.error?.code == .malformedRequest)
        let noSession = try client.exchange(MediaRequest(id: 0, op: .update, session: "999", leg: 0, remote: MediaEndpoint(ip: "127.0.0.1", port: 9)))
        #expect(noSession.error?.code == .unknownSession)
        let badLeg = try client.exchange(MediaRequest(id: 0, op: .update, session: first.session, leg: 5, remote: MediaEndpoint(ip: "127.0.0.1", port: 9)))
        #expect(badLeg.error?.code == .malformedRequest)
        let wrongFamily = try client.exchange(MediaRequest(id: 0, op: .update, session: first.session, leg: 0, remote: MediaEndpoint(ip: "2001:db8::1", port: 9)))
        #expect(wrongFamily.error?.code == .invalidAddress)
        let threeLegs = try client.exchange(MediaRequest(id: 0, op: .create, legs: [LegRequest(), LegRequest(), LegRequest()]))
        #expect(threeLegs.error?.code == .malformedRequest)
        let missing = try client.exchange(MediaRequest(id: 0, op: .delete))
        #expect(missing.error?.code == .malformedRequest)
        // A connection that sends half a line and hangs up must not hurt the daemon either.
        do {
            let rude = try mediad.client()
            _ = try? rude.exchangeRaw(Array(#"{"version":1,"#.utf8) + [10])
        }
        try client.ping()
        #expect(mediad.isRunning)
        #expect(try client.statistics().map(\.session) == [first.session])

        // A wider range, picked up from the store without a restart, serves new sessions.
        try mediad.vosctl(["param", "set", "SS_MEDIAPROXYPORT_END", "31007"])
        var second: SessionInfo?
        let deadline = Date().addingTimeInterval(5)
        while second == nil && Date() < deadline {
            second = try? client.create(tag: "two", legs: [LegRequest(), LegRequest()])
            if second == nil { usleep(200_000) }
        }
        let widened = try #require(second, "a session after widening SS_MEDIAPROXYPORT_END")
        #expect(Set(widened.legs.map(\.local.port)) == [31004, 31006])

        try client.delete(session: first.session)
        let again = try client.exchange(MediaRequest(id: 0, op: .delete, session: first.session))
        #expect(again.error?.code == .unknownSession)
        #expect(try client.statistics().map(\.session) == [widened.session])
    }

    /// The controller pipelines its creates and deletes (one write per batch, replies read
    /// after): every reply comes back in request order under its id, a run of deletes frees
    /// every port and capture entry, and a failure inside a batch stays that request's own.
    @Test(.timeLimit(.minutes(3)))
    func pipelinedRequestsAreAnsweredInOrderAndFreeTheirPorts() throws {
        let lab = NetworkLab("p")
        defer { lab.destroy() }
        try lab.addNamespace("relay")
        // Twenty RTP/RTCP pairs: exactly ten sessions.
        let mediad = try MediadHarness(parameters: ["SS_MEDIAPROXYPORT_START": "32000", "SS_MEDIAPROXYPORT_END": "32039"])
        defer { mediad.stop() }
        try mediad.start(lab: lab, role: "relay", mediaIP: "127.0.0.1")
        let client = try mediad.client()
        let create = MediaRequest(id: 0, op: .create, legs: [LegRequest(), LegRequest()])

        for round in 1...2 {
            let created = try client.exchange(Array(repeating: create, count: 11) + [MediaRequest(id: 0, op: .ping)])
            #expect(created.count == 12)
            #expect(zip(created, created.dropFirst()).allSatisfy { $0.id + 1 == $1.id }, "replies in request order")
            let sessions = created.prefix(10).compactMap { $0.sessions?.first?.session }
            #expect(sessions.count == 10, "round \(round): ten sessions fit the range")
            #expect(created[10].error?.code == .portRangeExhausted, "the eleventh create alone fails")
            #expect(created[11].ok, "the ping after it is answered")
            // Capture entries are added just after the reply, once the I/O thread has the session.
            let deadline = Date().addingTimeInterval(3)
            while capturedPorts(lab, map: "ports").count < 40 && Date() < deadline { usleep(50_000) }
            #expect(capturedPorts(lab, map: "ports").count == 40, "every leg's RTP and RTCP port is captured")

            // What the controller's release thread sends: updates and deletes interleaved.
            let far = MediaEndpoint(ip: "127.0.0.1", port: 40000 + round)
            let update = { (session: String) in MediaRequest(id: 0, op: .update, session: session, leg: 1, remote: far) }
            let delete = { (session: String) in MediaRequest(id: 0, op: .delete, session: session) }
            let batch = [update(sessions[0]), delete(sessions[0]), update(sessions[0]), update(sessions[1])]
                + sessions.dropFirst().map(delete) + [delete("999"), MediaRequest(id: 0, op: .ping), delete(sessions[0])]
            let replies = try client.exchange(batch)
            #expect(replies.count == batch.count)
            #expect(replies[0].sessions?.first?.legs[1].remote == far, "an update answers with the session as updated")
            #expect(replies[1].sessions?.first?.session == sessions[0], "a delete after an update of the same session")
            #expect(replies[2].error?.code == .unknownSession, "an update after its session's delete finds it gone")
            #expect(replies[3].sessions?.first?.legs[1].remote == far)
            #expect(replies[4..<13].map { $0.sessions?.first?.session } == sessions.dropFirst().map { Optional($0) },
                    "each delete answers with its own session")
            #expect(replies[4].sessions?.first?.legs[1].remote == far, "the delete after an update shows the updated leg")
            #expect(replies[13].error?.code == .unknownSession)
            #expect(replies[14].ok)
            #expect(replies[15].error?.code == .unknownSession, "a second delete of a session finds nothing")
            #expect(try client.statistics().isEmpty)
            #expect(capturedPorts(lab, map: "ports").isEmpty, "deleted sessions' ports are no longer captured")
        }
        #expect(mediad.isRunning)
    }

    /// vos-mediad's one configuration watcher serves both the relay and the firewall: a store
    /// change reaches each without a restart.
    @Test(.timeLimit(.minutes(3)))
    func aStoreChangeReachesTheFirewallAndTheRelay() throws {
        let lab = NetworkLab("g")
        defer { lab.destroy() }
        try lab.addNamespace("relay")
        let mediad = try MediadHarness(parameters: [
            "SS_MEDIAPROXYPORT_START": "35000", "SS_MEDIAPROXYPORT_END": "35999", "SS_FIREWALL_ENABLE": "1",
        ])
        defer { mediad.stop() }
        try mediad.start(lab: lab, role: "relay", mediaIP: "127.0.0.1")
        func tables() throws -> String { try Command.run(lab.inside("relay", ["nft", "list", "tables"])).output }
        #expect(try eventually(seconds: 5) { try tables().contains("vos_filter") }, "the firewall is programmed at start")

        try mediad.vosctl(["param", "set", "SS_FIREWALL_ENABLE", "0"])
        try mediad.vosctl(["param", "set", "SS_MEDIAPROXYPORT_START", "35500"])
        #expect(try eventually(seconds: 5) { try !tables().contains("vos_filter") }, "\(mediad.log)")
        let client = try mediad.client()
        var moved = false
        let deadline = Date().addingTimeInterval(5)
        while !moved && Date() < deadline {
            let session = try client.create(tag: "after", legs: [LegRequest(), LegRequest()])
            moved = session.legs.allSatisfy { $0.local.port >= 35500 }
            try client.delete(session: session.session)
            if !moved { usleep(200_000) }
        }
        #expect(moved, "new sessions use the new SS_MEDIAPROXYPORT_START")
        #expect(mediad.log.contains("firewall disabled (SS_FIREWALL_ENABLE=0): table inet vos_filter removed (configuration generation"))
    }
}
