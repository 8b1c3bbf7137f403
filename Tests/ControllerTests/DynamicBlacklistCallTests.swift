import Foundation
import Testing
import VOSTestSupport

/// The dynamic number blacklist with real peers: sipp customers calling one callee through
/// vos-controller past a rule's threshold, checked by what sipp was answered, `vosctl blacklist
/// list` and the CDRs.
@Suite(.serialized) struct DynamicBlacklistCallTests {
    static let callee = "4420123"

    /// A lab with one vendor answering every call and the rule `burst`: at most 3 calls to one
    /// callee in 60 s, then blocked for `block` seconds; and its controller.
    func lab(block: Int) throws -> (SwitchLab, Daemon) {
        let lab = try SwitchLab()
        let vendorPort = TestPorts.allocate(8)
        try lab.vendor("ven1", port: vendorPort)
        try lab.vosctl.ok("blacklist", "rule", "add", "burst", "--target", "callee", "--window", "60", "--max-calls", "3",
                          "--block", String(block))
        let controller = try lab.startController()
        try lab.uas(port: vendorPort, seconds: 60)
        return (lab, controller)
    }

    /// Three calls connect; the fourth is answered 403 and the entry is stored.
    func crossTheThreshold(_ lab: SwitchLab) throws -> [String: Any] {
        let allowed = try lab.uac(Self.callee, calls: 3, rate: 10)
        allowed.wait()
        #expect(allowed.successfulCalls == 3, "\(allowed.output)")
        let refused = try lab.uac(Self.callee, scenario: try lab.scenario("uac_expect", ["__STATUS__": "403"]))
        refused.wait()
        #expect(refused.successfulCalls == 1, "the fourth call is answered 403: \(refused.output)")
        var entries: [[String: Any]] = []
        _ = try eventually(seconds: 5) {
            entries = (try lab.vosctl.json("blacklist", "list") as? [[String: Any]]) ?? []
            return !entries.isEmpty
        }
        return try #require(entries.first, "the controller stored the entry: \(lab.controllerLog)")
    }

    @Test func theCallOverTheRuleGets403BlacklistedUntilTheEntryExpires() throws {
        let (lab, _) = try lab(block: 4)
        let entry = try crossTheThreshold(lab)
        #expect(entry["number"] as? String == Self.callee)
        #expect(entry["target"] as? String == "callee")
        #expect(entry["gateway"] == nil, "a central rule's entry")
        #expect(entry["rule"] as? String == "burst")
        #expect(entry["reason"] as? String == "4 calls in 60 s > 3")
        let created = try #require(entry["created"] as? Int64)
        let expires = try #require(entry["expires"] as? Int64)
        #expect(expires - created == 4000)
        let table = try lab.vosctl.ok("blacklist", "list")
        #expect(table.contains(Self.callee) && table.contains("central") && table.contains("4 calls in 60 s > 3"), "\(table)")

        let records = try lab.waitForCDRs(4)
        #expect(records.prefix(3).allSatisfy { $0.reason == "CallerHangup" })
        #expect(records.last?.reason == "Blacklisted")
        #expect(records.last?.sipCode == 403)
        #expect(lab.controllerLog.contains("blocked on every gateway (central) for 4 s by rule burst: 4 calls in 60 s > 3"))

        let stillBlocked = try lab.uac(Self.callee, scenario: try lab.scenario("uac_expect", ["__STATUS__": "403"]))
        stillBlocked.wait()
        #expect(stillBlocked.successfulCalls == 1, "blocked while the entry runs: \(stillBlocked.output)")

        // Past the expiry (wall clock, as stored) the number is admitted again.
        let wait = expires - Int64(Date().timeIntervalSince1970 * 1000) + 300
        if wait > 0 { usleep(useconds_t(wait * 1000)) }
        let again = try lab.uac(Self.callee)
        again.wait()
        #expect(again.successfulCalls == 1, "after the expiry the call connects: \(again.output)")
        #expect((try lab.vosctl.json("blacklist", "list") as? [Any])?.isEmpty == true)
        #expect(try lab.waitForCDRs(6).last?.reason == "CallerHangup")
    }

    @Test func anEntryOutlivesARestartAndRemovingItLetsTheNextCallThroughOnTheRunningController() throws {
        let (lab, controller) = try lab(block: 600)
        _ = try crossTheThreshold(lab)
        // The entry is in the store: a new controller blocks the number from its first call.
        controller.stop()
        try lab.startController()
        #expect(lab.controllerLog.contains("1 dynamic blacklist entries kept from before the restart"), "\(lab.controllerLog)")
        let afterRestart = try lab.uac(Self.callee, scenario: try lab.scenario("uac_expect", ["__STATUS__": "403"]))
        afterRestart.wait()
        #expect(afterRestart.successfulCalls == 1, "still blocked after the restart: \(afterRestart.output)")

        let removed = try lab.vosctl.ok("blacklist", "remove", Self.callee)
        #expect(removed.contains("removed callee \(Self.callee) (central, rule burst)"))
        #expect(eventually(seconds: 5) { lab.controllerLog.contains("callee \(Self.callee) on every gateway (central) was removed from the store") },
                "the controller reloaded and dropped the entry: \(lab.controllerLog)")
        let next = try lab.uac(Self.callee)
        next.wait()
        #expect(next.successfulCalls == 1, "the running controller admits the number again: \(next.output)\n\(lab.controllerLog)")
        let records = try lab.waitForCDRs(6)
        #expect(records.map(\.reason) == ["CallerHangup", "CallerHangup", "CallerHangup", "Blacklisted", "Blacklisted", "CallerHangup"])
    }
}
