import Foundation
import Testing
import VOSTestSupport

/// Password customers with real peers: baresip registers with digest, is called at its binding
/// and calls out (billed to its gateway's account); sipp with wrong passwords gets the gateway
/// suspended, shown in vosctl with the reason, until the operator lifts it.
@Suite(.serialized) struct SubscriberCallTests {
    static let phoneIP = "127.0.0.4"

    func passwordLab(_ extra: [String] = []) throws -> SwitchLab {
        let lab = try SwitchLab()
        let secret = try lab.scratch.write("phone.pass", "s3cret\n")
        try lab.vosctl.okArray(["gateway", "add", "mapping", "phones", "--auth", "password", "--username", "3001",
                                "--password-file", secret, "--account", "acme"] + extra)
        return lab
    }

    func registrations(_ lab: SwitchLab) throws -> [[String: Any]] {
        (try lab.vosctl.json("registrations") as? [[String: Any]]) ?? []
    }

    @Test func baresipRegistersWithAPasswordIsCalledAndCallsOut() throws {
        let lab = try passwordLab()
        let vendorPort = TestPorts.allocate(4)
        try lab.vendor("v1", port: vendorPort)
        let vendor = try lab.uas(port: vendorPort, seconds: 60)
        let first = try lab.startController()
        // The password is never shown: not in the table, not in JSON.
        let shown = try lab.vosctl.ok("gateway", "show", "phones")
        #expect(shown.contains("set (hashed for realm 'vos'") && !shown.contains("s3cret"), "\(shown)")
        let json = try lab.vosctl.ok("gateway", "show", "phones", "--json")
        #expect(json.contains("\"hidden\"") && !json.contains("s3cret"), "\(json)")

        let phone = try Baresip(ip: Self.phoneIP, registrar: "127.0.0.1:\(lab.sipPort)", username: "3001", password: "s3cret",
                                directory: lab.scratch.child("phone"), account: ";regint=600")
        defer { phone.stop() }
        #expect(try eventually(seconds: 10) { try registrations(lab).contains { $0["username"] as? String == "3001" } },
                "3001 registered\n\(phone.log)\n\(lab.controllerLog)")
        let binding = try #require(try registrations(lab).first)
        #expect(binding["received"] as? String == "\(Self.phoneIP):\(phone.sipPort)")
        #expect(binding["gateway"] as? String == "phones")
        // The binding is in the store: a controller restart keeps it, and the phone is reached
        // without registering again (regint 600 s).
        first.stop()
        let restarted = try lab.startController()
        #expect(restarted.waitForLog("1 registrations kept from before the restart"), "\(lab.controllerLog)")

        // A customer calls the phone's number (its username; rated like any number, prefix 3):
        // it rings at its binding and auto-answers.
        let caller = try lab.uac("3001", calls: 1)
        caller.wait(seconds: 30)
        #expect(caller.count("SuccessfulCall(C)") == 1, "sipp \(caller.output)\nCDRs \((try? lab.cdrs()) ?? [])\ncontroller: \(lab.controllerLog)\nphone: \(phone.log)")
        let inbound = try #require(try lab.waitForCDRs(1).first)
        #expect(inbound.attempts.map(\.gateway) == ["phones"])
        #expect(inbound.reason == "CallerHangup", "\(inbound)")

        // The phone calls a vendor number: 407, credentials, routed, billed to acme.
        let dialled = try phone.command("dial", "sip:441234567@127.0.0.1:\(lab.sipPort)")
        // The second call baresip establishes (the first was the one it answered).
        #expect(eventually(seconds: 10) { phone.log.components(separatedBy: "Call established").count == 3 },
                "dial: \(dialled)\n\(phone.log)\n\(lab.controllerLog)")
        usleep(1_000_000)
        let hungUp = try phone.command("hangup")
        let records = try lab.waitForCDRs(2)
        let outbound = try #require(records.first { $0["mappingGateway"] as? String == "phones" },
                                    "hangup: \(hungUp)\nCDRs: \(records)\n\(lab.controllerLog)\n\(phone.log)")
        #expect(outbound["account"] as? String == "acme", "\(outbound)")
        #expect(outbound.attempts.map(\.gateway) == ["v1"])
        #expect(outbound.reason == "CallerHangup", "\(outbound)")
        vendor.stop()
    }

    @Test func wrongPasswordsSuspendTheGatewayUntilTheOperatorLiftsIt() throws {
        let lab = try passwordLab()
        try lab.vosctl.ok("param", "set", "SS_SIP_AUTH_MAX_FAILURES", "3")
        try lab.startController()
        let forbidden = try lab.scenario("register_auth", ["FINAL": "403"])
        let guesses = try lab.uac("3001", calls: 3, rate: 5, scenario: forbidden, from: "127.0.0.5", ["-au", "3001", "-ap", "guess"])
        guesses.wait(seconds: 20)
        #expect(guesses.count("SuccessfulCall(C)") == 3, "three 403s: \(guesses.output)\n\(lab.controllerLog)")

        let shown = try lab.vosctl.ok("gateway", "show", "phones")
        #expect(shown.contains("3 failed authentications in 60 s (last: wrong password)"), "\(shown)")
        #expect(shown.contains("sources 127.0.0.5"), "\(shown)")
        // The source went to the firewall's ban feed (vos-mediad is not running here: the attempt is logged).
        #expect(lab.controllerLog.contains("banning 127.0.0.5"), "\(lab.controllerLog)")

        // The right password is refused while suspended ...
        let suspended = try lab.uac("3001", scenario: forbidden, from: "127.0.0.6", ["-au", "3001", "-ap", "s3cret"])
        suspended.wait(seconds: 10)
        #expect(suspended.count("SuccessfulCall(C)") == 1, "\(suspended.output)")
        // ... until the operator lifts the suspension; the running controller sees it at once.
        #expect(try lab.vosctl.ok("gateway", "unsuspend", "phones").contains("unsuspended"))
        #expect(try lab.vosctl.fails("gateway", "unsuspend", "phones").contains("is not suspended"))
        let registered = try lab.scenario("register_auth", ["FINAL": "200"])
        #expect(try eventually(seconds: 5) {
            let retry = try lab.uac("3001", scenario: registered, from: "127.0.0.6", ["-au", "3001", "-ap", "s3cret"])
            retry.wait(seconds: 5)
            return retry.count("SuccessfulCall(C)") == 1
        }, "\(lab.controllerLog)")
        #expect(try registrations(lab).count == 1)
    }

    @Test func badPasswordSettingsAreRefusedAndChangeNothing() throws {
        let lab = try SwitchLab()
        #expect(try lab.vosctl.fails("gateway", "add", "mapping", "p1", "--auth", "password", "--username", "bob")
            .contains("--password"))
        #expect(try lab.vosctl.fails("gateway", "add", "mapping", "p1", "--auth", "password", "--username", "bo b", "--password", "x")
            .contains("--username"))
        #expect(try lab.vosctl.fails("gateway", "add", "mapping", "p1", "--auth", "password", "--username", "bob",
                                     "--password-file", "/nonexistent").contains("cannot read --password-file"))
        #expect(try lab.vosctl.fails("gateway", "add", "mapping", "p1", "--ip", "127.0.0.9", "--username", "bob", "--password", "x")
            .contains("apply to --auth password gateways"))
        let list = try lab.vosctl.ok("gateway", "list")
        #expect(!list.contains("p1"), "\(list)")
        try lab.vosctl.ok("gateway", "add", "mapping", "p1", "--auth", "password", "--username", "bob", "--password", "x")
        #expect(try lab.vosctl.fails("gateway", "add", "mapping", "p2", "--auth", "password", "--username", "bob", "--password", "y")
            .contains("username 'bob' already authenticates mapping gateway 'p1'"))
        #expect(try lab.vosctl.fails("param", "set", "SS_SIP_AUTH_ALGORITHMS", "MD5,SHA-1").contains("one or more of SHA-256, MD5"))
    }
}
