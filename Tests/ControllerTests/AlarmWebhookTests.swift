import Foundation
import Testing
import VOSTestSupport

/// Alarms and webhooks end to end (issue 15): the built vos-controller (and vos-mediad), sipp as
/// customer and vendors, and a real HTTP receiver in the test process on 127.0.0.1 that records
/// every POST. What is asserted is what a NOC receives: the JSON bodies, once each.
@Suite(.serialized) struct AlarmWebhookTests {
    /// A lab evaluating alarms every second, with `receiver` as webhook `noc` for `events`.
    private func lab(_ receiver: HTTPReceiver, events: String = "alarms", retries: Int = 3) throws -> SwitchLab {
        let lab = try SwitchLab()
        try lab.vosctl.ok("param", "set", "SS_ALARM_CHECK_INTERVAL", "1")
        try lab.vosctl.ok("alarm", "webhook", "add", "noc", "--url", "http://127.0.0.1:\(receiver.port)/vos", "--events", events,
                          "--retries", String(retries), "--retry-interval", "1", "--timeout", "2")
        return lab
    }

    private func events(_ receiver: HTTPReceiver, _ name: String? = nil) -> [[String: Any]] {
        receiver.requests.compactMap(\.json).filter { name == nil || $0["event"] as? String == name }
    }

    private func alarms(_ receiver: HTTPReceiver, rule: String) -> [[String: Any]] {
        events(receiver).filter { $0["rule"] as? String == rule }
    }

    @Test func anOfflineGatewayIsRaisedOnceAndClearedWhenItAnswersAgain() throws {
        let receiver = try HTTPReceiver()
        let lab = try lab(receiver)
        try lab.vosctl.ok("param", "set", "SS_SIP_OPTIONS_CHECK_PERIOD", "5")
        let port = TestPorts.allocate(8)
        try lab.vendor("uk", port: port, "--options-check", "on")
        try lab.vosctl.ok("alarm", "rule", "add", "down", "--kind", "gateway-offline")
        try lab.startController()

        // Nobody answers the OPTIONS probes: three missed ones mark it offline (about 15 s).
        #expect(eventually(seconds: 40) { !alarms(receiver, rule: "down").isEmpty }, "raised: \(lab.controllerLog)")
        sleep(3)
        let raised = alarms(receiver, rule: "down")
        #expect(raised.count == 1, "posted once while it stays offline: \(raised)")
        let body = try #require(raised.first)
        #expect(body["event"] as? String == "alarm.raised")
        #expect(body["kind"] as? String == "gateway-offline" && body["subject"] as? String == "uk")
        #expect(body["value"] as? Double == 1)
        #expect((body["message"] as? String)?.contains("routing gateway uk is offline") == true)
        #expect(body["time"] as? Int ?? 0 > 1_700_000_000_000 && body["node"] as? String != nil)
        #expect(receiver.requests.first?.path == "/vos")
        let listed = try #require(try lab.vosctl.json("alarm", "list") as? [[String: Any]])
        #expect(listed.map { $0["subject"] as? String } == ["uk"], "vosctl alarm list shows it")
        #expect(lab.controllerLog.contains("raised alarm down (gateway-offline) on uk"))

        // The vendor answers again: the next probe brings it back.
        try lab.uas(port: port, scenario: try lab.scenario("uas_options"), seconds: 30)
        #expect(eventually(seconds: 20) { alarms(receiver, rule: "down").count == 2 }, "cleared: \(lab.controllerLog)")
        let cleared = try #require(alarms(receiver, rule: "down").last)
        #expect(cleared["event"] as? String == "alarm.cleared" && cleared["subject"] as? String == "uk")
        #expect(cleared["value"] as? Double == 0 && cleared["raisedAt"] as? Int == body["time"] as? Int)
        #expect(try (lab.vosctl.json("alarm", "list") as? [[String: Any]])?.isEmpty == true)
        sleep(2)
        #expect(alarms(receiver, rule: "down").count == 2, "nothing more while it stays online")
    }

    @Test func balanceAndRestartAlarmsSurviveARestartWithoutRepeating() throws {
        let receiver = try HTTPReceiver()
        let lab = try lab(receiver)
        // acme is postpaid with balance 0: under an alarm threshold of 5.
        try lab.vosctl.ok("account", "set", "acme", "--alarm", "5")
        try lab.vosctl.ok("alarm", "rule", "add", "low", "--kind", "balance")
        try lab.vosctl.ok("alarm", "rule", "add", "restarts", "--kind", "restart")
        let mediad = try lab.startMediad()
        let controller = try lab.startController()

        #expect(eventually(seconds: 10) { !alarms(receiver, rule: "low").isEmpty })
        let low = try #require(alarms(receiver, rule: "low").first)
        #expect(low["event"] as? String == "alarm.raised" && low["subject"] as? String == "acme")
        #expect(low["value"] as? Double == 0 && low["threshold"] as? Double == 5)
        #expect(alarms(receiver, rule: "restarts").isEmpty, "a first start is no restart")

        controller.stop()
        let again = try Daemon(Vosctl.binary("vos-controller"),
                               ["--data-dir", lab.scratch.child("var"), "--sip-listen", "127.0.0.1:\(lab.sipPort)", "--metrics-listen", "127.0.0.1:0"],
                               log: lab.scratch.child("controller2.log"))
        defer { again.stop() }
        #expect(again.waitForLog("vos-controller started"), "\(again.log)")
        #expect(eventually(seconds: 10) { !alarms(receiver, rule: "restarts").isEmpty }, "\(again.log)")
        let restart = try #require(alarms(receiver, rule: "restarts").first)
        #expect(restart["event"] as? String == "alarm.raised" && restart["subject"] as? String == "vos-controller")
        #expect((restart["message"] as? String)?.contains("after a clean stop") == true)
        sleep(2)
        #expect(alarms(receiver, rule: "low").count == 1, "the stored balance alarm is not raised again after the restart")

        // vos-mediad goes away and comes back: the controller's event connection sees it.
        mediad.stop()
        try lab.startMediad()
        #expect(eventually(seconds: 15) { alarms(receiver, rule: "restarts").contains { $0["subject"] as? String == "vos-mediad" } },
                "\(again.log)")

        try lab.vosctl.ok("account", "topup", "acme", "10")
        #expect(eventually(seconds: 10) { alarms(receiver, rule: "low").count == 2 })
        let cleared = try #require(alarms(receiver, rule: "low").last)
        #expect(cleared["event"] as? String == "alarm.cleared" && cleared["value"] as? Double == 10)
        let active = try #require(try lab.vosctl.json("alarm", "list") as? [[String: Any]])
        #expect(Set(active.compactMap { $0["subject"] as? String }) == ["vos-controller", "vos-mediad"])

        // Removing the rule clears its alarms, and says so.
        try lab.vosctl.ok("alarm", "rule", "remove", "restarts")
        #expect(eventually(seconds: 10) { events(receiver, "alarm.cleared").filter { $0["rule"] as? String == "restarts" }.count == 2 })
        #expect(try (lab.vosctl.json("alarm", "list") as? [[String: Any]])?.isEmpty == true)
    }

    @Test func aLowASRGatewayIsRaisedAndAHealthyOneIsNot() throws {
        let receiver = try HTTPReceiver()
        let lab = try lab(receiver)
        let first = TestPorts.allocate(8), second = TestPorts.allocate(8)
        try lab.vendor("refuses", port: first, "--priority", "1")
        try lab.vendor("connects", port: second, "--priority", "2")
        try lab.vosctl.ok("alarm", "rule", "add", "asr", "--kind", "asr", "--threshold", "50", "--min-calls", "3", "--window", "60")
        try lab.startController()
        try lab.uas(port: first, scenario: try lab.scenario("uas_status", ["__STATUS__": "503"]))
        try lab.uas(port: second)
        let customer = try lab.uac("4420", calls: 3, rate: 5)
        customer.wait()
        #expect(customer.successfulCalls == 3, "\(customer.output)")
        #expect(eventually(seconds: 10) { !alarms(receiver, rule: "asr").isEmpty }, "\(lab.controllerLog)")
        sleep(2)
        let raised = alarms(receiver, rule: "asr")
        #expect(raised.count == 1, "only the refusing gateway: \(raised)")
        #expect(raised.first?["subject"] as? String == "refuses" && raised.first?["value"] as? Double == 0)
        #expect((raised.first?["message"] as? String)?.contains("0 of 3 attempts") == true)
    }

    @Test func dynamicBlacklistRefusalsOverTheThresholdRaiseAnAlarm() throws {
        let receiver = try HTTPReceiver()
        let lab = try lab(receiver)
        let port = TestPorts.allocate(8)
        try lab.vendor("ven", port: port)
        // One call to a callee per minute; the next ones are refused 403 Blacklisted.
        try lab.vosctl.ok("blacklist", "rule", "add", "burst", "--target", "callee", "--window", "60", "--max-calls", "1", "--block", "60")
        try lab.vosctl.ok("alarm", "rule", "add", "fraud", "--kind", "blacklist-hits", "--threshold", "1")
        try lab.startController()
        try lab.uas(port: port)
        let allowed = try lab.uac("4420")
        allowed.wait()
        #expect(allowed.successfulCalls == 1, "\(allowed.output)")
        let refused = try lab.uac("4420", calls: 2, rate: 10, scenario: try lab.scenario("uac_expect", ["__STATUS__": "403"]))
        refused.wait()
        #expect(refused.successfulCalls == 2, "both answered 403: \(refused.output)")
        #expect(eventually(seconds: 10) { !alarms(receiver, rule: "fraud").isEmpty }, "\(lab.controllerLog)")
        let raised = try #require(alarms(receiver, rule: "fraud").first)
        #expect(raised["event"] as? String == "alarm.raised" && raised["subject"] as? String == "dynamic-blacklist")
        #expect(raised["value"] as? Double == 2 && raised["threshold"] as? Double == 1, "two refusals, over one: \(raised)")
    }

    @Test func callStateEventsCarryTheCallAndTheStoredCDR() throws {
        let receiver = try HTTPReceiver()
        let lab = try lab(receiver, events: "calls")
        let port = TestPorts.allocate(8)
        try lab.vendor("ven", port: port)
        try lab.startController()
        try lab.uas(port: port)
        let customer = try lab.uac("4420")
        customer.wait()
        #expect(customer.successfulCalls == 1, "\(customer.output)")
        let record = try #require(try lab.waitForCDRs(1).first)
        let received = receiver.waitFor(3)
        let bodies = received.compactMap(\.json)
        #expect(bodies.compactMap { $0["event"] as? String } == ["call.start", "call.answer", "call.end"], "\(bodies)")
        let calls = bodies.compactMap { $0["call"] as? [String: Any] }
        #expect(calls.count == 3)
        #expect(calls.allSatisfy { $0["callID"] as? String == record["callID"] as? String }, "one call id throughout")
        let start = try #require(calls.first), answer = try #require(calls.dropFirst().first), end = try #require(calls.last)
        #expect(start["callerReceived"] as? String == record["callerReceived"] as? String)
        #expect(start["calleeReceived"] as? String == "4420" && start["mappingGateway"] as? String == "cust")
        #expect(start["account"] as? String == "acme" && start["setupTime"] as? Int == record["setupTime"] as? Int)
        #expect(answer["routingGateway"] as? String == "ven" && answer["answerTime"] as? Int == record["answerTime"] as? Int)
        #expect(answer["callerCodec"] as? String == record["callerCodec"] as? String)
        #expect(NSDictionary(dictionary: end).isEqual(to: record), "call.end is the stored CDR, field for field: \(end) vs \(record)")
        #expect(bodies.last?["time"] as? Int == record["endTime"] as? Int)
    }

    @Test func callStateEventsWaitForAReceiverThatWasDown() throws {
        let receiver = try HTTPReceiver()
        receiver.stop()
        let lab = try lab(receiver, events: "calls", retries: 20)
        let port = TestPorts.allocate(8)
        try lab.vendor("ven", port: port)
        try lab.startController()
        try lab.uas(port: port)
        let customer = try lab.uac("4420")
        customer.wait()
        #expect(customer.successfulCalls == 1, "\(customer.output)")
        _ = try lab.waitForCDRs(1)
        sleep(2)
        #expect(receiver.requests.isEmpty)
        #expect(lab.controllerLog.contains("webhook noc"), "the failed attempt is logged: \(lab.controllerLog)")
        try receiver.start()
        let bodies = receiver.waitFor(3, seconds: 15).compactMap(\.json)
        #expect(bodies.compactMap { $0["event"] as? String } == ["call.start", "call.answer", "call.end"], "retried, in order, once up")
        #expect(lab.controllerLog.contains("delivering again"))
    }
}
