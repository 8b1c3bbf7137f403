import Foundation
import Testing
import VOSModel
import VOSStore
import VOSTestSupport

/// `vosctl alarm`: rules and webhook targets added, shown, changed, cleared and removed; bad input
/// refused with its reason and nothing changed; active alarms listed from the store.
@Suite struct AlarmCommandTests {
    func initialised() throws -> (Scratch, Vosctl) {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try vosctl.ok("init")
        try vosctl.ok("account", "add", "acme", "--type", "prepaid", "--balance", "10", "--alarm", "5")
        try vosctl.ok("gateway", "add", "routing", "uk", "--address", "198.51.100.7:5060", "--prefix", "44")
        return (scratch, vosctl)
    }

    func generation(_ vosctl: Vosctl) throws -> UInt64 { try Store(directory: vosctl.dataDirectory).generation() }

    @Test func rulesAreAddedShownChangedAndRemoved() throws {
        let (scratch, vosctl) = try initialised()
        defer { withExtendedLifetime(scratch) {} }
        let before = try generation(vosctl)
        try vosctl.ok("alarm", "rule", "add", "low", "--kind", "balance")
        try vosctl.ok("alarm", "rule", "add", "asr-uk", "--kind", "asr", "--subject", "uk", "--threshold", "40", "--window", "900", "--min-calls", "20")
        try vosctl.ok("alarm", "rule", "add", "down", "--kind", "gateway-offline")
        try vosctl.ok("alarm", "rule", "add", "bans", "--kind", "ban-rate", "--threshold", "30")
        try vosctl.ok("alarm", "rule", "add", "hits", "--kind", "blacklist-hits", "--threshold", "100", "--window", "300")
        try vosctl.ok("alarm", "rule", "add", "restart", "--kind", "restart", "--subject", "vos-mediad", "--enabled", "off")
        #expect(try generation(vosctl) == before + 6, "a rule is configuration: the controller reloads")

        let listed = try #require(try vosctl.json("alarm", "rule", "list") as? [[String: Any]])
        #expect(listed.compactMap { $0["name"] as? String } == ["asr-uk", "bans", "down", "hits", "low", "restart"])
        let asr = try #require(listed.first)
        #expect(asr["kind"] as? String == "asr" && asr["subject"] as? String == "uk")
        #expect(asr["threshold"] as? Double == 40 && asr["windowSeconds"] as? Int == 900 && asr["minimumCalls"] as? Int == 20)
        #expect(asr["enabled"] as? Bool == true)
        #expect(listed.last?["enabled"] as? Bool == false)

        let table = try vosctl.ok("alarm", "rule", "list")
        let asrRow = try #require(table.split(separator: "\n").first { $0.hasPrefix("asr-uk") })
        #expect(asrRow.contains("< 40 %") && asrRow.contains("900 s") && asrRow.contains("20"))
        let lowRow = try #require(table.split(separator: "\n").first { $0.hasPrefix("low") })
        #expect(lowRow.contains("every account with --alarm"))
        #expect(table.split(separator: "\n").first { $0.hasPrefix("bans") }?.contains("60 s") == true, "the kind's default window")

        let shown = try vosctl.ok("alarm", "rule", "show", "asr-uk")
        #expect(shown.contains("subject") && shown.contains("uk") && shown.contains("active") && shown.contains("none"))
        let shownJSON = try #require(try vosctl.json("alarm", "rule", "show", "hits") as? [String: Any])
        #expect(shownJSON["windowSeconds"] as? Int == 300)

        try vosctl.ok("alarm", "rule", "set", "asr-uk", "--threshold", "55.5", "--window", "", "--min-calls", "")
        var changed = try #require(try vosctl.json("alarm", "rule", "show", "asr-uk") as? [String: Any])
        #expect(changed["threshold"] as? Double == 55.5)
        #expect(changed["windowSeconds"] == nil && changed["minimumCalls"] == nil, "'' goes back to the kind's default")
        #expect(changed["subject"] as? String == "uk", "fields not named keep their values")
        try vosctl.ok("alarm", "rule", "set", "asr-uk", "--subject", "", "--enabled", "off")
        changed = try #require(try vosctl.json("alarm", "rule", "show", "asr-uk") as? [String: Any])
        #expect(changed["subject"] == nil && changed["enabled"] as? Bool == false)

        try vosctl.ok("alarm", "rule", "remove", "asr-uk")
        #expect(try (vosctl.json("alarm", "rule", "list") as? [[String: Any]])?.count == 5)
        #expect(try vosctl.fails("alarm", "rule", "remove", "asr-uk").contains("alarm rule 'asr-uk' does not exist"))
        #expect(try vosctl.fails("alarm", "rule", "show", "nope").contains("does not exist"))
    }

    @Test func badRulesAreRefusedWithTheirReason() throws {
        let (scratch, vosctl) = try initialised()
        defer { withExtendedLifetime(scratch) {} }
        let before = try generation(vosctl)
        #expect(try vosctl.fails("alarm", "rule", "add", "a", "--kind", "asr").contains("threshold"))
        #expect(try vosctl.fails("alarm", "rule", "add", "a", "--kind", "asr", "--threshold", "120").contains("0-100"))
        #expect(try vosctl.fails("alarm", "rule", "add", "a", "--kind", "asr", "--threshold", "many").contains("--threshold"))
        #expect(try vosctl.fails("alarm", "rule", "add", "a", "--kind", "balance", "--threshold", "5").contains("--alarm"))
        #expect(try vosctl.fails("alarm", "rule", "add", "a", "--kind", "balance", "--subject", "ghost").contains("account 'ghost' given as the subject of alarm rule 'a' does not exist"))
        #expect(try vosctl.fails("alarm", "rule", "add", "a", "--kind", "gateway-offline", "--subject", "ghost").contains("routing gateway 'ghost'"))
        #expect(try vosctl.fails("alarm", "rule", "add", "a", "--kind", "ban-rate", "--threshold", "1", "--subject", "x").contains("no subject"))
        #expect(try vosctl.fails("alarm", "rule", "add", "a", "--kind", "restart", "--subject", "sshd").contains("vos-controller or vos-mediad"))
        #expect(try vosctl.fails("alarm", "rule", "add", "a", "--kind", "asr", "--threshold", "5", "--window", "5").contains("10-86400"))
        #expect(try vosctl.fails("alarm", "rule", "add", "a", "--kind", "loudness").contains("loudness"))
        try vosctl.ok("alarm", "rule", "add", "a", "--kind", "balance")
        #expect(try vosctl.fails("alarm", "rule", "add", "a", "--kind", "balance").contains("already exists"))
        #expect(try vosctl.fails("alarm", "rule", "set", "a", "--threshold", "3").contains("no threshold"))
        #expect(try vosctl.run(["alarm", "rule", "set", "a"]).status == 64, "nothing to change is a bad argument combination")
        #expect(try generation(vosctl) == before + 1, "only the one good rule changed anything")
    }

    @Test func webhooksAreAddedShownChangedAndRemoved() throws {
        let (scratch, vosctl) = try initialised()
        defer { withExtendedLifetime(scratch) {} }
        let before = try generation(vosctl)
        try vosctl.ok("alarm", "webhook", "add", "noc", "--url", "http://192.0.2.10:8080/vos")
        try vosctl.ok("alarm", "webhook", "add", "cdr", "--url", "http://collector.example.net/calls", "--events", "calls",
                      "--retries", "10", "--retry-interval", "2", "--timeout", "3")
        #expect(try generation(vosctl) == before + 2)
        let listed = try #require(try vosctl.json("alarm", "webhook", "list") as? [[String: Any]])
        #expect(listed.compactMap { $0["name"] as? String } == ["cdr", "noc"])
        let noc = try #require(listed.last)
        #expect(noc["url"] as? String == "http://192.0.2.10:8080/vos")
        #expect(noc["events"] as? [String] == ["alarms"], "alarms by default")
        #expect(noc["retries"] as? Int == 3 && noc["retryIntervalSeconds"] as? Int == 5 && noc["timeoutSeconds"] as? Int == 5)
        let cdr = try #require(listed.first)
        #expect(cdr["events"] as? [String] == ["calls"] && cdr["retries"] as? Int == 10)
        #expect(cdr["retryIntervalSeconds"] as? Int == 2 && cdr["timeoutSeconds"] as? Int == 3)

        let table = try vosctl.ok("alarm", "webhook", "list")
        #expect(table.split(separator: "\n").first { $0.hasPrefix("cdr") }?.contains("2 s") == true)
        let shown = try vosctl.ok("alarm", "webhook", "show", "noc")
        #expect(shown.contains("url") && shown.contains("http://192.0.2.10:8080/vos") && shown.contains("retry-interval"))

        try vosctl.ok("alarm", "webhook", "set", "cdr", "--events", "alarms,calls", "--retries", "", "--retry-interval", "")
        let changed = try #require(try vosctl.json("alarm", "webhook", "show", "cdr") as? [String: Any])
        #expect(changed["events"] as? [String] == ["alarms", "calls"])
        #expect(changed["retries"] as? Int == 3 && changed["retryIntervalSeconds"] as? Int == 5, "'' goes back to the default")
        #expect(changed["timeoutSeconds"] as? Int == 3, "fields not named keep their values")

        let https = try vosctl.fails("alarm", "webhook", "add", "tls", "--url", "https://noc.example.net/hook")
        #expect(https.contains("https is not supported") && https.contains("TLS"))
        #expect(try vosctl.fails("alarm", "webhook", "add", "x", "--url", "http://h/", "--events", "sms").contains("--events"))
        #expect(try vosctl.fails("alarm", "webhook", "add", "x", "--url", "http://h/", "--retries", "1000").contains("0-100"))
        #expect(try vosctl.fails("alarm", "webhook", "set", "noc", "--url", "ftp://h/").contains("http://"))
        #expect(try vosctl.run(["alarm", "webhook", "add", "x"]).status == 64, "--url is required")

        try vosctl.ok("alarm", "webhook", "remove", "noc")
        #expect(try (vosctl.json("alarm", "webhook", "list") as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["cdr"])
        #expect(try vosctl.fails("alarm", "webhook", "remove", "noc").contains("webhook 'noc' does not exist"))
    }

    @Test func activeAlarmsAreListedFromTheStore() throws {
        let (scratch, vosctl) = try initialised()
        defer { withExtendedLifetime(scratch) {} }
        #expect(try (vosctl.json("alarm", "list") as? [[String: Any]])?.isEmpty == true)
        // What the controller writes when it raises an alarm.
        let alarm = ActiveAlarm(rule: "low", kind: .balance, subject: "acme", value: 3.5, threshold: 5, raisedAt: 1_767_225_600_000,
                                message: "account acme balance 3.5000 is under its alarm threshold 5.0000")
        try Store(directory: vosctl.dataDirectory).write(changesConfiguration: false) {
            try $0.recordAlarmTransition(AlarmTransition(event: .raised, alarm: alarm, time: alarm.raisedAt))
        }
        let listed = try #require(try vosctl.json("alarm", "list") as? [[String: Any]])
        #expect(listed.count == 1)
        #expect(listed.first?["rule"] as? String == "low" && listed.first?["subject"] as? String == "acme")
        #expect(listed.first?["value"] as? Double == 3.5 && listed.first?["raisedAt"] as? Int == 1_767_225_600_000)
        let table = try vosctl.ok("alarm", "list")
        #expect(table.contains("balance") && table.contains("acme") && table.contains("3.5") && table.contains("under its alarm threshold"))
        try Store(directory: vosctl.dataDirectory).write(changesConfiguration: false) {
            try $0.recordAlarmTransition(AlarmTransition(event: .cleared, alarm: alarm, time: alarm.raisedAt + 1))
        }
        #expect(try (vosctl.json("alarm", "list") as? [[String: Any]])?.isEmpty == true)
        let account = try vosctl.ok("account", "show", "acme")
        #expect(account.contains("alarm") && account.contains("5.0000") && !account.contains("recorded only"))
    }
}
