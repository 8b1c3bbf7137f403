import Foundation
import Testing
import VOSTestSupport

/// The ban-rate alarm against the real kernel ban set of a `FirewallLab`: vos-mediad programs the
/// firewall, bans go into its set, the controller's alarm monitor reads the set's ages through
/// mediad.sock and raises the alarm, which `vosctl alarm list` shows.
@Suite("Ban-rate alarm", .serialized, .timeLimit(.minutes(2)))
struct BanRateAlarmTests {
    @Test func bansOverTheRateRaiseTheAlarm() throws {
        let lab = try FirewallLab()
        defer { lab.remove() }
        try lab.vosctl("param", "set", "SS_ALARM_CHECK_INTERVAL", "1")
        try lab.vosctl("alarm", "rule", "add", "bans", "--kind", "ban-rate", "--threshold", "2", "--window", "60")
        try lab.startSwitch()
        try lab.vosctl("firewall", "ban", "203.0.113.71", "--reason", "alarm test")
        try lab.vosctl("firewall", "ban", "203.0.113.72", "--reason", "alarm test")
        sleep(3)
        #expect(try Self.active(lab).isEmpty, "two bans a minute is not over the threshold of 2")
        try lab.vosctl("firewall", "ban", "203.0.113.73", "--reason", "alarm test")
        #expect(eventually(seconds: 10) { (try? Self.active(lab).count) == 1 }, "a third ban raises it")
        let alarm = try #require(try Self.active(lab).first)
        #expect(alarm["rule"] as? String == "bans")
        #expect(alarm["value"] as? Double == 3)
        #expect((alarm["message"] as? String)?.contains("3 addresses banned in the last 60 s") == true, "\(alarm)")
    }

    static func active(_ lab: FirewallLab) throws -> [[String: Any]] {
        (try lab.json("alarm", "list") as? [[String: Any]]) ?? []
    }
}
