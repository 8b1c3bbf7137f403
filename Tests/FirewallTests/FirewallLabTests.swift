import Foundation
import Testing
import VOSTestSupport

/// The firewall end to end: real kernel (namespaces), real vos-mediad programming it, real
/// vos-controller behind it, real sipvicious and sipp.
@Suite("Firewall lab", .serialized, .timeLimit(.minutes(2)))
struct FirewallLabTests {
    static func options(_ user: String, callID: String) -> String {
        """
        OPTIONS sip:\(user)@\(FirewallLab.switchAttackerSide) SIP/2.0
        Via: SIP/2.0/UDP \(FirewallLab.attackerIP):5099;branch=z9hG4bK\(callID)
        From: <sip:probe@\(FirewallLab.attackerIP)>;tag=\(callID)
        To: <sip:\(user)@\(FirewallLab.switchAttackerSide)>
        Call-ID: \(callID)
        CSeq: 1 OPTIONS
        Max-Forwards: 70
        User-Agent: probe-tool
        Content-Length: 0


        """
    }

    @Test func sipviciousGetsNoAnswerAndTheDropsShowInTheAudit() throws {
        let lab = try FirewallLab()
        defer { lab.remove() }
        try lab.startSwitch()
        #expect(lab.mediadLog.contains("firewall programmed"))
        let svmap = try lab.inNamespace(lab.atk, ["svmap", "-p5060", FirewallLab.switchAttackerSide], seconds: 40)
        #expect(!svmap.output.contains(FirewallLab.switchAttackerSide + ":5060"), "svmap found the switch:\n\(svmap.output)")
        let svwar = try lab.inNamespace(lab.atk, ["svwar", "-e100-140", "-p5060", FirewallLab.switchAttackerSide], seconds: 40)
        #expect(!svwar.output.contains("| 1"), "svwar found extensions:\n\(svwar.output)")
        let counters = try lab.ruleCounters()
        let scannerDrops = counters.filter { $0.key.hasPrefix("scanner User-Agent:") }.values.reduce(0, +)
        #expect(scannerDrops >= 2, "\(counters)")
        #expect(!lab.controllerLog.contains("OPTIONS sip:100@"), "the controller saw scanner traffic")
    }

    @Test func optionsFloodIsBannedWhileTheTrustedGatewayCallsAndTheBanExpires() throws {
        let lab = try FirewallLab(banSeconds: 10)
        defer { lab.remove() }
        try lab.startSwitch()
        try lab.startVendor()
        let flood = try lab.background(lab.atk, UDPTool.sendScript(
            [Self.options("flood", callID: "f1")], to: FirewallLab.switchAttackerSide, port: 5060, count: 3000, interval: 0.001),
            log: "flood.log")
        let calls = try lab.customerCalls(10, rate: 5)
        flood.waitUntilExit()
        #expect(calls.successful == 10 && calls.failed == 0 && calls.status == 0, "\(calls)")
        let banned = try lab.bans()
        #expect(banned.contains { $0["address"] as? String == FirewallLab.attackerIP }, "\(banned)")
        let counters = try lab.ruleCounters()
        #expect((counters["OPTIONS flood over 5/s burst 10 per ipv4 source: ban"] ?? 0) >= 1, "\(counters)")
        #expect((counters["banned ipv4 sources (floods, controller bans) dropped before anything else"] ?? 0) > 100, "\(counters)")
        // The ban expires on its own (SS_FIREWALL_BAN_TIME = 10 s).
        #expect(try eventually(seconds: 15) { try lab.bans().isEmpty })
    }

    @Test func rtpToTheRelayRangePassesFromAnUntrustedHost() throws {
        let lab = try FirewallLab()
        defer { lab.remove() }
        try lab.startSwitch()
        let receiver = try lab.background(lab.sw, UDPTool.receiveScript(port: 30000, seconds: 2), log: "rtp.log")
        usleep(400_000)
        try lab.inNamespace(lab.atk, UDPTool.sendScript(["RTPRTPRTP"], to: FirewallLab.switchAttackerSide, port: 30000, count: 20))
        receiver.waitUntilExit()
        #expect(lab.read("rtp.log").contains("received 20"), "\(lab.read("rtp.log"))")
        #expect((try lab.ruleCounters()["RTP/RTCP relay port range"] ?? 0) >= 20)
    }

    @Test func diffSeesAHandDeletedRuleApplyRepairsItAndLeavesOtherTablesAlone() throws {
        let lab = try FirewallLab()
        defer { lab.remove() }
        try lab.inNamespace(lab.sw, ["nft", "add table ip other; add chain ip other c; add rule ip other c counter accept"])
        let otherBefore = try lab.inNamespace(lab.sw, ["nft", "list", "table", "ip", "other"]).output
        try lab.startSwitch()
        #expect(try lab.vosctlResult(["firewall", "diff"]).status == 0)
        let report = try lab.json("firewall", "audit") as? [String: Any]
        let rules = (report?["rules"] as? [[String: Any]]) ?? []
        let target = try #require(rules.first { ($0["comment"] as? String)?.hasPrefix("RTP/RTCP") == true })
        let handle = try #require(target["handle"] as? Int)
        try lab.inNamespace(lab.sw, ["nft", "delete", "rule", "inet", "vos_filter", "input", "handle", String(handle)])
        let drift = try lab.vosctlResult(["firewall", "diff"])
        #expect(drift.status == 1)
        #expect(drift.output.contains("rule \"RTP/RTCP relay port range\" is missing"), "\(drift.output)")
        let applied = try lab.vosctl("firewall", "apply")
        #expect(applied.contains("repaired"), "\(applied)")
        #expect(try lab.vosctlResult(["firewall", "diff"]).status == 0)
        #expect(try lab.vosctl("firewall", "apply").contains("nothing changed"))
        #expect(try lab.inNamespace(lab.sw, ["nft", "list", "table", "ip", "other"]).output == otherBefore)
        // The audit decodes string rules' patterns.
        let audit = try lab.vosctl("firewall", "audit")
        #expect(audit.contains("[ match string rev 1 \"friendly-scanner\" algo bm from 0 to 65535 ]"))
    }

    @Test func controllerFeedBansForbiddenAndEnumeratingSourcesWithReasons() throws {
        let lab = try FirewallLab()
        defer { lab.remove() }
        try lab.startSwitch()
        // Distinct callee users, slowly enough for the kernel rate limits: enumeration.
        let users = (1...12).map { "ext\(100 + $0)" }
        try lab.inNamespace(lab.atk, UDPTool.sendScript(
            users.enumerated().map { Self.options($1, callID: "e\($0)") }, to: FirewallLab.switchAttackerSide, port: 5060,
            interval: 0.25))
        #expect(try eventually(seconds: 5) {
            try lab.bans().contains { ($0["reason"] as? String)?.contains("extension enumeration") == true }
        }, "\(lab.controllerLog)")
        let entry = try #require(try lab.bans().first)
        #expect(entry["address"] as? String == FirewallLab.attackerIP)
        #expect((entry["expiresInSeconds"] as? Int ?? 0) > 500)
        try lab.vosctl("firewall", "unban", FirewallLab.attackerIP)
        #expect(try lab.bans().isEmpty)
        // Unknown caller INVITEs get 403; five of them in the window ban the source. (The feed
        // suppresses repeats of a ban for 2 s, for packets that were in flight.)
        usleep(2_100_000)
        let invites = (1...6).map { index in
            Self.options("4420\(index)", callID: "i\(index)").replacingOccurrences(of: "OPTIONS", with: "INVITE")
        }
        try lab.inNamespace(lab.atk, UDPTool.sendScript(invites, to: FirewallLab.switchAttackerSide, port: 5060, interval: 0.3))
        #expect(try eventually(seconds: 5) {
            try lab.bans().contains { ($0["reason"] as? String)?.contains("403") == true }
        }, "\(lab.controllerLog)")
    }

    /// svcrack guessing the password of a password gateway (the right one is in its dictionary,
    /// after ten wrong ones): five wrong answers suspend the gateway and ban the source, so it
    /// never reaches the right one. Its scanner User-Agent is taken off the kernel's list and
    /// the REGISTER flood limit raised, so what stops it is the authentication path under test.
    @Test func svcrackFindsNothingAndIsBannedBySuspension() throws {
        let lab = try FirewallLab()
        defer { lab.remove() }
        let secret = lab.scratch.child("phone.pass")
        try "Zq8-long-secret\n".write(toFile: secret, atomically: true, encoding: .utf8)
        try lab.vosctl("gateway", "add", "mapping", "phones", "--auth", "password", "--username", "3001", "--password-file", secret)
        try lab.vosctl("param", "set", "SS_FIREWALL_SCANNER_USER_AGENTS", "iWar")
        try lab.vosctl("param", "set", "SS_FIREWALL_REGISTER_RATE", "1000")
        try lab.vosctl("param", "set", "SS_FIREWALL_REGISTER_BURST", "1000")
        try lab.vosctl("param", "set", "SS_SIP_AUTH_MAX_FAILURES", "5")
        try lab.startSwitch()
        let dictionary = lab.scratch.child("words.txt")
        try ((1...10).map { "guess\($0)" } + ["Zq8-long-secret"] + (11...20).map { "guess\($0)" })
            .joined(separator: "\n").write(toFile: dictionary, atomically: true, encoding: .utf8)
        let crack = try lab.inNamespace(lab.atk, ["svcrack", "-u", "3001", "-d", dictionary, "-p5060", "--maximumtime", "20",
                                                  FirewallLab.switchAttackerSide], seconds: 40)
        #expect(!crack.output.contains("Zq8-long-secret"), "svcrack found the password:\n\(crack.output)")
        let ban = try #require(try lab.bans().first { $0["address"] as? String == FirewallLab.attackerIP },
                               "\(crack.output)\n\(lab.controllerLog)")
        #expect((ban["reason"] as? String)?.contains("mapping gateway phones suspended") == true, "\(ban)")
        let shown = try lab.vosctl("gateway", "show", "phones")
        #expect(shown.contains("5 failed authentications") && shown.contains(FirewallLab.attackerIP), "\(shown)")
    }

    @Test func badBanInputIsRefused() throws {
        let lab = try FirewallLab()
        defer { lab.remove() }
        try lab.vosctl("firewall", "apply")
        #expect(try lab.vosctlResult(["firewall", "ban", "not-an-address"]).status == 64)
        #expect(try lab.vosctlResult(["firewall", "ban", "203.0.113.0/24"]).status == 64)
        let duration = try lab.vosctlResult(["firewall", "ban", "203.0.113.9", "--for", "10 parsecs"])
        #expect(duration.status == 64 && duration.output.contains("not a duration"), "\(duration.output)")
        #expect(try lab.vosctlResult(["firewall", "ban", "203.0.113.9", "--for", "30d"]).status == 64)
        let trusted = try lab.vosctlResult(["firewall", "ban", FirewallLab.gatewayIP])
        #expect(trusted.status == 1 && trusted.output.contains("trusted source"), "\(trusted.output)")
        #expect(try lab.vosctlResult(["firewall", "unban", "203.0.113.9"]).status == 1)
        // And a good one, directly (vos-mediad is not running here), with its reason.
        try lab.vosctl("firewall", "ban", "203.0.113.9", "--for", "10m", "--reason", "seen in honeypot")
        let bans = try lab.bans()
        #expect(bans.count == 1 && bans.first?["reason"] as? String == "seen in honeypot" && bans.first?["timeoutSeconds"] as? Int == 600)
    }
}
