import Foundation
import MediaControl
import Testing
import VOSTestSupport

/// How vos-mediad starts on the appliance: the media address from the store (`SS_MEDIA_IP`, or
/// `--media-ip` over it), refused when the host lacks it, and systemd's readiness protocol.
/// Each daemon runs in a namespace of its own (deleted in `defer`).
@Suite(.serialized) struct MediadStartupTests {
    @Test(.timeLimit(.minutes(3)))  // a hang guard: under the full suite's load these have needed over a minute
    func theMediaIPComesFromTheStoreAndMustBeAnAddressOfThisHost() throws {
        let (lab, mediad) = try relayAlone("m", ports: 38000, ["SS_MEDIA_IP": "198.51.100.99"])
        defer { mediad.stop(); lab.destroy() }

        // An address this host lacks would fail every session: exit 1, one line saying what to do.
        let refused = try BackgroundCommand(mediad.command(lab: lab, role: "relay", mediaIP: nil), logDirectory: mediad.dataDirectory,
                                            name: "refused").finish(within: 10)
        #expect(refused.status == 1)
        let message = "media IP 198.51.100.99 (SS_MEDIA_IP) is not an address of this host; set SS_MEDIA_IP to one of its addresses or clear it (vosctl param reset SS_MEDIA_IP)"
        #expect(refused.errorOutput.contains(message), "\(refused.errorOutput)")
        #expect(refused.errorOutput.split(separator: "\n").count == 1, "\(refused.errorOutput)")

        // --media-ip overrides the store.
        try mediad.start(lab: lab, role: "relay", mediaIP: "127.0.0.1")
        #expect(try legAddresses(mediad.client()) == ["127.0.0.1", "127.0.0.1"])
        mediad.stopDaemon()

        // Cleared: every address. Then a change in the store reaches new sessions without a restart.
        try mediad.vosctl(["param", "reset", "SS_MEDIA_IP"])
        try mediad.start(lab: lab, role: "relay", mediaIP: nil)
        let client = try mediad.client()
        #expect(try legAddresses(client) == ["0.0.0.0", "0.0.0.0"])
        try mediad.vosctl(["param", "set", "SS_MEDIA_IP", "127.0.0.1"])
        #expect(try eventually(seconds: 5) { try legAddresses(client) == ["127.0.0.1", "127.0.0.1"] }, "\(mediad.log)")

        // A change to an address the host lacks: logged, and new sessions keep the one in use.
        try mediad.vosctl(["param", "set", "SS_MEDIA_IP", "198.51.100.99"])
        #expect(eventually(seconds: 5) { mediad.log.contains("media IP 198.51.100.99 (SS_MEDIA_IP) is not an address of this host") },
                "\(mediad.log)")
        #expect(mediad.log.contains("new sessions keep media IP 127.0.0.1"), "\(mediad.log)")
        #expect(try legAddresses(client) == ["127.0.0.1", "127.0.0.1"])
        #expect(mediad.isRunning)
    }

    /// `Type=notify`: READY=1 once the firewall is programmed and the control socket serves,
    /// STOPPING=1 on SIGTERM.
    @Test(.timeLimit(.minutes(3)))  // a hang guard: under the full suite's load these have needed over a minute
    func tellsSystemdWhenItIsReadyAndWhenItStops() throws {
        let (lab, mediad) = try relayAlone("y", ports: 39000, ["SS_FIREWALL_ENABLE": "1"])
        defer { mediad.stop(); lab.destroy() }
        // systemd's side: a datagram socket that prints each notification as one line.
        let socketPath = mediad.dataDirectory + "/notify.sock"
        let listener = try BackgroundCommand(["python3", "-c", """
            import socket, sys
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); s.settimeout(30)
            for _ in range(2): print(s.recv(4096).decode().replace("\\n", "|"), flush=True)
            """, socketPath], logDirectory: mediad.dataDirectory, name: "notify")
        defer { listener.stop() }
        #expect(eventually(seconds: 5) { FileManager.default.fileExists(atPath: socketPath) })

        try mediad.start(lab: lab, role: "relay", mediaIP: nil, prefix: ["env", "NOTIFY_SOCKET=\(socketPath)"])
        func notifications() -> String { (try? String(contentsOfFile: listener.outputPath, encoding: .utf8)) ?? "" }
        #expect(eventually(seconds: 5) { notifications().contains("READY=1") }, "\(notifications()) \(mediad.log)")
        let ready = notifications()
        #expect(ready.contains("READY=1|STATUS=relaying on 0.0.0.0, ports 39000...39999, firewall programmed"), "\(ready)")
        #expect(try Command.run(lab.inside("relay", ["nft", "list", "tables"])).output.contains("vos_filter"))

        mediad.stopDaemon()
        #expect(eventually(seconds: 5) { notifications().contains("STOPPING=1") }, "\(notifications())")
    }

    /// A `relay` namespace with loopback only, and a daemon's store with a 1000-port range from
    /// `ports` and `parameters`. Stop the harness and destroy the lab in a `defer`.
    private func relayAlone(_ name: String, ports: Int, _ parameters: [String: String]) throws -> (NetworkLab, MediadHarness) {
        let lab = NetworkLab(name)
        do {
            try lab.addNamespace("relay")
            let range = ["SS_MEDIAPROXYPORT_START": String(ports), "SS_MEDIAPROXYPORT_END": String(ports + 999)]
            return (lab, try MediadHarness(parameters: parameters.merging(range) { $1 }))
        } catch {
            lab.destroy()
            throw error
        }
    }

    /// The local addresses of a new session's legs when the request names none (the session is
    /// deleted again).
    private func legAddresses(_ client: MediaControlClient) throws -> [String] {
        let session = try client.create(tag: "probe", legs: [LegRequest(), LegRequest()])
        try client.delete(session: session.session)
        return session.legs.map(\.local.ip)
    }
}
