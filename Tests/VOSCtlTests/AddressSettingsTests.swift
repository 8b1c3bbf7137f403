import Foundation
import Testing
import VOSTestSupport

/// The settings that say which address each peer is shown: set, shown, cleared and checked by
/// vosctl; refused by the controller at start when they would show a peer a loopback address.
@Suite struct AddressSettingsTests {
    @Test func advertisedAddressesAreParametersWithTheirRulesChecked() throws {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try vosctl.ok("init")
        #expect(try vosctl.ok("param", "get", "SS_ADVERTISED_ADDRESSES") == "\n")
        try vosctl.ok("param", "set", "SS_ADVERTISED_ADDRESSES", "198.51.100.1=203.0.113.7, 192.0.2.1=203.0.113.8")
        #expect(try vosctl.ok("param", "get", "SS_ADVERTISED_ADDRESSES") == "198.51.100.1=203.0.113.7,192.0.2.1=203.0.113.8\n")
        let loopback = try vosctl.fails("param", "set", "SS_ADVERTISED_ADDRESSES", "198.51.100.1=127.0.0.1")
        #expect(loopback.contains("not a loopback address"))
        #expect(try vosctl.fails("param", "set", "SS_ADVERTISED_ADDRESSES", "198.51.100.1").contains("LOCAL=PUBLIC"))
        #expect(try vosctl.ok("param", "get", "SS_ADVERTISED_ADDRESSES") == "198.51.100.1=203.0.113.7,192.0.2.1=203.0.113.8\n",
                "a refused value changes nothing")
        try vosctl.ok("param", "reset", "SS_ADVERTISED_ADDRESSES")
        #expect(try vosctl.ok("param", "get", "SS_ADVERTISED_ADDRESSES") == "\n")

        #expect(try vosctl.fails("param", "set", "SS_MEDIA_IP", "not-an-ip").contains("SS_MEDIA_IP"))
        try vosctl.ok("param", "set", "SS_MEDIA_IP", "127.0.0.1")
        #expect(try vosctl.ok("param", "get", "SS_MEDIA_IP") == "127.0.0.1\n")
        try vosctl.ok("param", "reset", "SS_MEDIA_IP")
    }

    @Test func aGatewaysAdvertiseIsSetShownAndCleared() throws {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try vosctl.ok("init")
        try vosctl.ok("gateway", "add", "routing", "uk", "--address", "198.51.100.20", "--prefix", "44", "--advertise", "203.0.113.7")
        try vosctl.ok("gateway", "add", "mapping", "acme", "--ip", "192.0.2.10")
        #expect(try vosctl.ok("gateway", "show", "uk").contains("advertise             203.0.113.7"))
        #expect(((try vosctl.json("gateway", "show", "uk") as? [String: Any])?["gateway"] as? [String: Any])?["advertise"] as? String == "203.0.113.7")
        try vosctl.ok("gateway", "set", "acme", "--advertise", "203.0.113.8")
        #expect(((try vosctl.json("gateway", "show", "acme") as? [String: Any])?["gateway"] as? [String: Any])?["advertise"] as? String == "203.0.113.8")

        let refused = try vosctl.fails("gateway", "set", "uk", "--advertise", "127.0.0.1")
        #expect(refused.contains("loopback address, but the gateway is at 198.51.100.20"))
        #expect(try vosctl.fails("gateway", "set", "uk", "--advertise", "0.0.0.0").contains("not the wildcard"))
        #expect(((try vosctl.json("gateway", "show", "uk") as? [String: Any])?["gateway"] as? [String: Any])?["advertise"] as? String == "203.0.113.7")

        try vosctl.ok("gateway", "set", "uk", "--advertise", "")
        let cleared = (try vosctl.json("gateway", "show", "uk") as? [String: Any])?["gateway"] as? [String: Any]
        #expect(cleared != nil && cleared?["advertise"] == nil)
        #expect(try vosctl.ok("gateway", "show", "uk").contains("route source (SS_ADVERTISED_ADDRESSES)"))
    }

    @Test func restoreNamesTheSettingsThatBelongToTheOldHost() throws {
        let scratch = try Scratch()
        let old = Vosctl(dataDirectory: scratch.child("old"))
        try old.ok("init")
        // 192.0.2.77 is nobody's address on this machine (documentation range, no namespace has it here).
        try old.ok("param", "set", "SS_MEDIA_IP", "192.0.2.77")
        try old.ok("param", "set", "SS_ADVERTISED_ADDRESSES", "127.0.0.1=127.0.0.2")
        try old.ok("gateway", "add", "routing", "uk", "--address", "198.51.100.20", "--prefix", "44", "--advertise", "203.0.113.7")
        try old.ok("backup", scratch.child("node.vosbak"))
        let restored = try Vosctl(dataDirectory: scratch.child("new")).ok("restore", scratch.child("node.vosbak"))
        let lines = restored.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("SS_MEDIA_IP") && $0.contains("192.0.2.77") && $0.contains("CHANGE: not an address of this host") })
        #expect(lines.contains { $0.hasPrefix("SS_ADVERTISED_ADDRESSES") && $0.contains("127.0.0.1=127.0.0.2") && $0.hasSuffix("ok") })
        #expect(lines.contains { $0.hasPrefix("gateway uk --advertise") && $0.contains("203.0.113.7") })
    }

    @Test func theControllerRefusesToShowALoopbackAddressToARemoteGateway() throws {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try vosctl.ok("init")
        try vosctl.ok("gateway", "add", "routing", "uk", "--address", "198.51.100.20", "--prefix", "44", "--options-check", "off")
        let advertised = try runController(scratch, ["--sip-listen", "0.0.0.0:0", "--sip-advertise", "127.0.0.1"])
        #expect(advertised.status == 1)
        #expect(advertised.lines.contains { $0.contains("refusing to start: --sip-advertise 127.0.0.1 is a loopback address, but gateway uk is at 198.51.100.20") },
                "\(advertised.lines)")
        let listening = try runController(scratch, ["--sip-listen", "127.0.0.1:0"])
        #expect(listening.status == 1)
        #expect(listening.lines.contains { $0.contains("refusing to start: --sip-listen 127.0.0.1 is a loopback address, but gateway uk is at 198.51.100.20") })
        let badValue = try runController(scratch, ["--sip-listen", "0.0.0.0:0", "--sip-advertise", "vos.example"])
        #expect(badValue.status != 0)
        #expect(badValue.lines.contains { $0.contains("--sip-advertise") && $0.contains("IPv4 or IPv6 address") })
    }

    /// Runs vos-controller until it exits on its own (a refusal) or 5 s pass.
    private func runController(_ scratch: Scratch, _ arguments: [String]) throws -> (status: Int32, lines: [String]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Vosctl.binary("vos-controller"))
        process.arguments = ["--data-dir", scratch.child("var"), "--media-control", scratch.child("none.sock"), "--metrics-listen", "127.0.0.1:0"] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = errors
        try process.run()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { process.terminate() }
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text.split(separator: "\n").map(String.init))
    }
}

@Suite struct VendorSignallingCommandTests {
    @Test func signallingOptionsAreSetShownClearedAndChecked() throws {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try vosctl.ok("init")
        try vosctl.ok("gateway", "add", "routing", "uk", "--address", "198.51.100.20", "--prefix", "44", "--user-phone", "on",
                      "--header", "X-Carrier: acme", "--header", "X-Class: gold", "--forward-headers", "X-Account,X-Trace", "--redirects", "follow")
        let shown = (try vosctl.json("gateway", "show", "uk") as? [String: Any])?["gateway"] as? [String: Any]
        let signalling = shown?["signalling"] as? [String: Any]
        #expect(signalling?["userPhone"] as? Bool == true)
        #expect(signalling?["headers"] as? [String] == ["X-Carrier: acme", "X-Class: gold"])
        #expect(signalling?["forwardHeaders"] as? [String] == ["X-Account", "X-Trace"])
        #expect(signalling?["redirects"] as? String == "follow")
        #expect(try vosctl.ok("gateway", "show", "uk").contains("X-Carrier: acme | X-Class: gold"))

        #expect(try vosctl.fails("gateway", "set", "uk", "--header", "Via: SIP/2.0/UDP evil").contains("not Via"))
        #expect(try vosctl.fails("gateway", "set", "uk", "--header", "no colon here").contains("Name: value"))
        #expect(try vosctl.fails("gateway", "set", "uk", "--forward-headers", "Call-ID").contains("--forward-headers"))
        let unchanged = (try vosctl.json("gateway", "show", "uk") as? [String: Any])?["gateway"] as? [String: Any]
        #expect((unchanged?["signalling"] as? [String: Any])?["headers"] as? [String] == ["X-Carrier: acme", "X-Class: gold"])

        try vosctl.ok("gateway", "set", "uk", "--header", "", "--forward-headers", "all", "--user-phone", "off")
        let cleared = ((try vosctl.json("gateway", "show", "uk") as? [String: Any])?["gateway"] as? [String: Any])?["signalling"] as? [String: Any]
        #expect(cleared?["headers"] as? [String] == [])
        #expect(cleared?["forwardHeaders"] as? [String] == ["*"])
        #expect(try vosctl.ok("gateway", "show", "uk").contains("forward-headers       all"))
        #expect(try vosctl.fails("gateway", "set", "uk", "--user-phone", "maybe").contains("user-phone"))
    }
}
