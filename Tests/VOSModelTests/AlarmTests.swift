import Testing
@testable import VOSModel

/// Alarm rules, webhook targets and URLs, the tracker's raise/clear de-duplication and each kind's
/// evaluation (issue 15), all pure: times are given.
@Suite struct AlarmTests {
    // MARK: Rules and targets

    @Test func rulesTakeOnlyWhatTheirKindMeans() throws {
        try AlarmRule(name: "low", kind: .balance).validate()
        try AlarmRule(name: "low", kind: .balance, subject: "acme").validate()
        try AlarmRule(name: "down", kind: .gatewayOffline, subject: "uk").validate()
        try AlarmRule(name: "asr", kind: .asr, threshold: 40, windowSeconds: 300, minimumCalls: 20).validate()
        try AlarmRule(name: "bans", kind: .banRate, threshold: 10).validate()
        try AlarmRule(name: "hits", kind: .blacklistHits, threshold: 0).validate()
        try AlarmRule(name: "restart", kind: .restart, subject: "vos-mediad").validate()

        #expect(throws: ModelError.self) { try AlarmRule(name: "asr", kind: .asr).validate() }
        #expect(throws: ModelError.self) { try AlarmRule(name: "asr", kind: .asr, threshold: 101).validate() }
        #expect(throws: ModelError.self) { try AlarmRule(name: "asr", kind: .asr, threshold: -1).validate() }
        #expect(throws: ModelError.self) { try AlarmRule(name: "low", kind: .balance, threshold: 5).validate() }
        #expect(throws: ModelError.self) { try AlarmRule(name: "down", kind: .gatewayOffline, windowSeconds: 60).validate() }
        #expect(throws: ModelError.self) { try AlarmRule(name: "bans", kind: .banRate, subject: "x", threshold: 1).validate() }
        #expect(throws: ModelError.self) { try AlarmRule(name: "bans", kind: .banRate, threshold: 1, windowSeconds: 5).validate() }
        #expect(throws: ModelError.self) { try AlarmRule(name: "hits", kind: .blacklistHits, threshold: 1, minimumCalls: 3).validate() }
        #expect(throws: ModelError.self) { try AlarmRule(name: "restart", kind: .restart, subject: "sshd").validate() }
        #expect(throws: ModelError.self) { try AlarmRule(name: "bad name", kind: .balance).validate() }
        let error = #expect(throws: ModelError.self) { try AlarmRule(name: "low", kind: .balance, threshold: 5).validate() }
        #expect(error?.description.contains("--alarm") == true, "the message says where a balance threshold lives")
    }

    @Test func windowsDefaultPerKind() {
        #expect(AlarmRule(name: "a", kind: .asr, threshold: 50).window == 600)
        #expect(AlarmRule(name: "a", kind: .asr, threshold: 50, windowSeconds: 120).window == 120)
        #expect(AlarmRule(name: "b", kind: .banRate, threshold: 5).window == 60)
        #expect(AlarmRule(name: "r", kind: .restart).window == 300)
        #expect(AlarmRule(name: "g", kind: .gatewayOffline).window == nil)
        #expect(AlarmRule(name: "a", kind: .asr, threshold: 50).minimumCallsInEffect == 10)
    }

    @Test func ruleAndTargetRoundTripAsJSON() throws {
        let rule = AlarmRule(name: "asr", kind: .asr, subject: "uk", threshold: 35.5, windowSeconds: 900, minimumCalls: 5, enabled: false)
        #expect(try JSONRoundTrip.decode(AlarmRule.self, JSONRoundTrip.encode(rule)) == rule)
        let text = String(decoding: try JSONRoundTrip.encode(rule), as: UTF8.self)
        #expect(text.contains("\"kind\":\"asr\""))
        let target = WebhookTarget(name: "noc", url: "http://192.0.2.1:8080/hook", events: [.alarms, .calls], retries: 7,
                                   retryIntervalSeconds: 2, timeoutSeconds: 3)
        #expect(try JSONRoundTrip.decode(WebhookTarget.self, JSONRoundTrip.encode(target)) == target)
    }

    @Test func webhookURLsArePlainHTTP() throws {
        let url = try WebhookURL(parsing: "http://192.0.2.1:8080/vos/alarms?key=1")
        #expect(url.host == "192.0.2.1" && url.port == 8080 && url.path == "/vos/alarms?key=1")
        #expect(url.address == IPAddress("192.0.2.1"))
        #expect(url.hostHeader == "192.0.2.1:8080")
        let named = try WebhookURL(parsing: "HTTP://NOC.Example.net")
        #expect(named.host == "noc.example.net" && named.port == 80 && named.path == "/" && named.address == nil)
        #expect(named.hostHeader == "noc.example.net")
        let v6 = try WebhookURL(parsing: "http://[2001:db8::1]:81/x")
        #expect(v6.host == "2001:db8::1" && v6.port == 81 && v6.hostHeader == "[2001:db8::1]:81")
        #expect(try WebhookURL(parsing: "http://h?q=1").path == "/?q=1")

        let https = #expect(throws: ModelError.self) { try WebhookURL(parsing: "https://noc.example.net/hook") }
        #expect(https?.description.contains("no TLS library") == true, "the refusal says why")
        for bad in ["ftp://x/", "noc.example.net", "http://", "http://user:pw@host/", "http://host:0/", "http://host:99999/",
                    "http://2001:db8::1/", "http://[192.0.2.1]/", "http://ho st/", "http://host/a b", "http://host/#frag", "http://-bad/"] {
            #expect(throws: ModelError.self, "\(bad)") { try WebhookURL(parsing: bad) }
        }
    }

    @Test func webhookTargetRanges() throws {
        try WebhookTarget(name: "noc", url: "http://127.0.0.1:9/").validate()
        #expect(throws: ModelError.self) { try WebhookTarget(name: "noc", url: "http://127.0.0.1/", events: []).validate() }
        #expect(throws: ModelError.self) { try WebhookTarget(name: "noc", url: "http://127.0.0.1/", events: [.calls, .calls]).validate() }
        #expect(throws: ModelError.self) { try WebhookTarget(name: "noc", url: "http://127.0.0.1/", retries: 101).validate() }
        #expect(throws: ModelError.self) { try WebhookTarget(name: "noc", url: "http://127.0.0.1/", retryIntervalSeconds: 0).validate() }
        #expect(throws: ModelError.self) { try WebhookTarget(name: "noc", url: "http://127.0.0.1/", timeoutSeconds: 61).validate() }
        #expect(throws: ModelError.self) { try WebhookTarget(name: "noc", url: "https://127.0.0.1/").validate() }
    }

    // MARK: Tracker

    private func observation(_ subject: String, _ breached: Bool?, value: Double = 1) -> AlarmObservation {
        AlarmObservation(subject: subject, value: value, threshold: 5, breached: breached, message: "\(subject) \(breached.map(String.init) ?? "?")")
    }

    @Test func anAlarmIsRaisedOnceAndClearedOnce() {
        let rule = AlarmRule(name: "low", kind: .balance)
        var tracker = AlarmTracker()
        let raised = tracker.evaluate(rule, observations: [observation("acme", true, value: 3), observation("beta", false)], at: 1000)
        #expect(raised.map(\.event) == [.raised])
        #expect(raised.first?.alarm.subject == "acme" && raised.first?.alarm.value == 3 && raised.first?.alarm.raisedAt == 1000)
        for time in [2000, 3000, 4000] as [Int64] {
            #expect(tracker.evaluate(rule, observations: [observation("acme", true, value: 2), observation("beta", false)], at: time).isEmpty,
                    "still in breach: nothing new")
        }
        #expect(tracker.activeAlarms.map(\.subject) == ["acme"])
        let cleared = tracker.evaluate(rule, observations: [observation("acme", false, value: 9)], at: 5000)
        #expect(cleared.map(\.event) == [.cleared])
        #expect(cleared.first?.alarm.value == 9 && cleared.first?.alarm.raisedAt == 1000 && cleared.first?.time == 5000)
        #expect(tracker.evaluate(rule, observations: [observation("acme", false)], at: 6000).isEmpty)
        #expect(tracker.evaluate(rule, observations: [observation("acme", true)], at: 7000).map(\.event) == [.raised], "a new breach is a new alarm")
    }

    @Test func unknownStateKeepsAndAbsenceClears() {
        let rule = AlarmRule(name: "asr", kind: .asr, threshold: 50)
        var tracker = AlarmTracker()
        _ = tracker.evaluate(rule, observations: [observation("uk", true), observation("fr", true)], at: 1)
        #expect(tracker.evaluate(rule, observations: [observation("uk", nil), observation("fr", nil)], at: 2).isEmpty,
                "too few calls to judge: both stay active")
        let gone = tracker.evaluate(rule, observations: [observation("uk", nil)], at: 3)
        #expect(gone.map(\.alarm.subject) == ["fr"] && gone.map(\.event) == [.cleared], "fr no longer observed: cleared")
        #expect(tracker.evaluate(rule, observations: [observation("uk", nil), observation("new", nil)], at: 4).isEmpty, "unknown is never a raise")
    }

    @Test func removedDisabledOrChangedRulesClearTheirAlarms() {
        let low = AlarmRule(name: "low", kind: .balance)
        let down = AlarmRule(name: "down", kind: .gatewayOffline)
        let asr = AlarmRule(name: "asr", kind: .asr, threshold: 50)
        var tracker = AlarmTracker()
        _ = tracker.evaluate(low, observations: [observation("acme", true)], at: 1)
        _ = tracker.evaluate(down, observations: [observation("uk", true)], at: 1)
        _ = tracker.evaluate(asr, observations: [observation("fr", true)], at: 1)
        #expect(tracker.retain([low, down, asr], at: 2).isEmpty)
        var disabled = down
        disabled.enabled = false
        let cleared = tracker.retain([disabled], at: 3)
        #expect(Set(cleared.map(\.alarm.rule)) == ["low", "down", "asr"])
        #expect(cleared.allSatisfy { $0.event == .cleared })
        #expect(cleared.first { $0.alarm.rule == "down" }?.alarm.message.contains("disabled") == true)
        #expect(cleared.first { $0.alarm.rule == "low" }?.alarm.message.contains("removed") == true)
        #expect(tracker.activeAlarms.isEmpty)

        var restored = AlarmTracker(active: [ActiveAlarm(rule: "low", kind: .balance, subject: "acme", value: 1, threshold: 5, raisedAt: 1, message: "m")])
        #expect(restored.evaluate(low, observations: [observation("acme", true)], at: 9).isEmpty, "an alarm stored before a restart is not raised again")
        #expect(restored.retain([AlarmRule(name: "low", kind: .restart)], at: 10).first?.alarm.message.contains("now watches restart") == true)
    }

    // MARK: Evaluations

    @Test func balanceComparesEachAccountWithItsOwnThreshold() throws {
        var acme = Account(name: "acme", kind: .prepaid)
        acme.balance = try Money(parsing: "3.5")
        acme.alarmThreshold = try Money(parsing: "5")
        var beta = Account(name: "beta", kind: .prepaid)
        beta.balance = try Money(parsing: "5")
        beta.alarmThreshold = try Money(parsing: "5")
        let none = Account(name: "none", kind: .postpaid)
        let all = AlarmEvaluation.balance(AlarmRule(name: "low", kind: .balance), accounts: [acme, beta, none])
        #expect(all.map(\.subject) == ["acme", "beta"], "accounts without a threshold are not watched")
        #expect(all.map(\.breached) == [true, false], "at the threshold is not under it")
        #expect(all.first?.value == 3.5 && all.first?.threshold == 5)
        #expect(all.first?.message == "account acme balance 3.5000 is under its alarm threshold 5.0000")
        let one = AlarmEvaluation.balance(AlarmRule(name: "low", kind: .balance, subject: "beta"), accounts: [acme, beta])
        #expect(one.map(\.subject) == ["beta"])
    }

    @Test func gatewayOfflineWatchesRoutingGateways() {
        let views: [(name: String, online: Bool)] = [("uk", false), ("fr", true)]
        let all = AlarmEvaluation.gatewayOffline(AlarmRule(name: "down", kind: .gatewayOffline), gateways: views)
        #expect(all.map(\.breached) == [true, false])
        #expect(AlarmEvaluation.gatewayOffline(AlarmRule(name: "down", kind: .gatewayOffline, subject: "fr"), gateways: views).map(\.subject) == ["fr"])
    }

    private func cdr(_ id: UInt64, at end: Int64, attempts: [String], answeredBy: String?) -> CallDetailRecord {
        var record = CallDetailRecord(id: id, callID: "c\(id)", setupTime: end - 1000, endTime: end, callerReceived: "1", calleeReceived: "44",
                                      mappingGateway: "cust", endReason: answeredBy == nil ? .vendorFailure : .callerHangup,
                                      sipCode: answeredBy == nil ? 503 : 200, hangupSide: .caller)
        record.attempts = attempts.map { GatewayAttempt(gateway: $0, sipCode: $0 == answeredBy ? 200 : 503, reason: "") }
        if let answeredBy {
            record.answerTime = end - 500
            record.routingGateway = answeredBy
        } else {
            record.routingGateway = attempts.last
        }
        return record
    }

    @Test func asrCountsAttemptsPerGatewayOverTheWindow() {
        var window = CallOutcomeWindow()
        let now: Int64 = 1_000_000
        // uk: 4 attempts, 1 answer (25 %); fr: 2 attempts (failover targets), 2 answers.
        window.record(cdr(1, at: now - 10_000, attempts: ["uk", "fr"], answeredBy: "fr"))
        window.record(cdr(2, at: now - 9_000, attempts: ["uk", "fr"], answeredBy: "fr"))
        window.record(cdr(3, at: now - 8_000, attempts: ["uk"], answeredBy: "uk"))
        window.record(cdr(4, at: now - 7_000, attempts: ["uk"], answeredBy: nil))
        // Too old for a 60 s window.
        window.record(cdr(5, at: now - 120_000, attempts: ["uk"], answeredBy: "uk"))
        window.record(cdr(6, at: now - 6_000, attempts: [], answeredBy: nil))
        let rule = AlarmRule(name: "asr", kind: .asr, threshold: 50, windowSeconds: 60, minimumCalls: 3)
        let observations = AlarmEvaluation.asr(rule, calls: window, now: now)
        let uk = observations.first { $0.subject == "uk" }
        let fr = observations.first { $0.subject == "fr" }
        #expect(uk?.value == 25 && uk?.breached == true)
        #expect(uk?.message == "routing gateway uk ASR 25 % (1 of 4 attempts in 60 s) is under 50 %")
        #expect(fr?.value == 100 && fr?.breached == nil, "two attempts are under the minimum of three: not judged")
        let before = window.counts(gateway: "uk", since: now - 200_000)
        #expect(before.attempts == 5 && before.answered == 2)
        window.prune(before: now - 60_000)
        let after = window.counts(gateway: "uk", since: now - 200_000)
        #expect(after.attempts == 4 && after.answered == 1, "the old bucket is gone")
    }

    @Test func banRateIsBansAddedPerMinute() {
        let rule = AlarmRule(name: "bans", kind: .banRate, threshold: 5, windowSeconds: 120)
        // Ages in seconds: 12 banned within the last 120 s (= 6 per minute), 2 older.
        let ages = Array(repeating: 30, count: 12) + [200, 500]
        let observation = AlarmEvaluation.banRate(rule, banAges: ages).first
        #expect(observation?.subject == "firewall" && observation?.value == 6 && observation?.breached == true)
        #expect(AlarmEvaluation.banRate(rule, banAges: Array(repeating: 5, count: 10)).first?.breached == false, "5 per minute is not over 5")
    }

    @Test func blacklistHitsAreTheIncreaseOverTheWindow() {
        var counter = CounterWindow()
        counter.add(0, at: 0)
        counter.add(4, at: 30_000)
        counter.add(10, at: 70_000)
        #expect(counter.increase(seconds: 60, now: 70_000) == 10, "from the sample at or before 10 s")
        #expect(counter.increase(seconds: 30, now: 70_000) == 6)
        counter.prune(seconds: 30, now: 70_000)
        #expect(counter.increase(seconds: 30, now: 70_000) == 6)
        counter.add(2, at: 80_000)
        #expect(counter.increase(seconds: 60, now: 80_000) == 0, "a counter that started again starts a new history")
        let rule = AlarmRule(name: "hits", kind: .blacklistHits, threshold: 5)
        #expect(AlarmEvaluation.blacklistHits(rule, hits: 6).first?.breached == true)
        #expect(AlarmEvaluation.blacklistHits(rule, hits: 5).first?.breached == false)
    }

    @Test func aRestartIsAnAlarmForItsWindow() {
        let rule = AlarmRule(name: "restart", kind: .restart, windowSeconds: 60)
        let restarts = [AlarmEvaluation.Restart(daemon: "vos-controller", time: 1_000, detail: "after a clean stop"),
                        AlarmEvaluation.Restart(daemon: "vos-mediad", time: 50_000, detail: "(reconnected)")]
        let early = AlarmEvaluation.restart(rule, restarts: restarts, now: 55_000)
        #expect(early.map(\.subject) == ["vos-controller", "vos-mediad"] && early.map(\.breached) == [true, true])
        #expect(early.first?.message == "vos-controller restarted after a clean stop")
        let later = AlarmEvaluation.restart(rule, restarts: restarts, now: 65_000)
        #expect(later.map(\.breached) == [false, true])
        let mediadOnly = AlarmRule(name: "m", kind: .restart, subject: "vos-mediad")
        #expect(AlarmEvaluation.restart(mediadOnly, restarts: restarts, now: 55_000).map(\.subject) == ["vos-mediad"])
    }
}
