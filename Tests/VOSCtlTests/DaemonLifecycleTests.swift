import Foundation
import Testing
import VOSTestSupport

@Suite struct DaemonLifecycleTests {
    /// Each daemon starts on an initialised store, notices a vosctl change without a restart,
    /// and exits 0 on SIGTERM.
    @Test(arguments: ["vos-controller", "vos-mediad"])
    func startsFollowsChangesAndStopsCleanly(_ daemon: String) throws {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try vosctl.ok("init")
        // The host's own namespace: vos-mediad must not program its firewall.
        try vosctl.ok("param", "set", "SS_FIREWALL_ENABLE", "0")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: (Vosctl.binaryDirectory as NSString).appendingPathComponent(daemon))
        // A high port, so the test never collides with a SIP server already on 5060.
        // vos-mediad: per-leg sockets, so it creates no capture table in the host's nftables either.
        process.arguments = ["--data-dir", scratch.child("var"), "--metrics-listen", "127.0.0.1:0"]
            + (daemon == "vos-controller" ? ["--sip-listen", "127.0.0.1:15060"] : ["--receive", "sockets"])
        let log = scratch.child("\(daemon).log")
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardError = handle
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        #expect(waitFor(log, toContain: "\(daemon) started"))
        try vosctl.ok("param", "set", "SS_RTP_TIMEOUT", "45")
        #expect(waitFor(log, toContain: "configuration changed"))
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(waitFor(log, toContain: "stopping on SIGTERM"))
    }

    @Test func daemonsRefuseAnUninitialisedStore() throws {
        let scratch = try Scratch()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: (Vosctl.binaryDirectory as NSString).appendingPathComponent("vos-mediad"))
        process.arguments = ["--data-dir", scratch.child("none")]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        #expect(text.contains("no vos store at"))
    }

    func waitFor(_ path: String, toContain text: String, seconds: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let content = try? String(contentsOfFile: path, encoding: .utf8), content.contains(text) { return true }
            usleep(50_000)
        }
        return false
    }
}
