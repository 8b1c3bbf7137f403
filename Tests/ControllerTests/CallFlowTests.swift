import Foundation
import Testing
import VOSTestSupport

/// Calls through vos-controller between real sipp customers and vendors, each checked by what
/// sipp saw and by the CDR rows.
@Suite(.serialized) struct CallFlowTests {
    @Test func normalCallsConnectAndAreRecorded() throws {
        let lab = try SwitchLab()
        let vendorPort = TestPorts.allocate(8)
        try lab.vendor("ven1", port: vendorPort)
        try lab.startController()
        try lab.uas(port: vendorPort)
        let customer = try lab.uac("4420123", calls: 3, rate: 5)
        customer.wait()
        #expect(customer.successfulCalls == 3, "\(customer.output)")
        let records = try lab.waitForCDRs(3)
        #expect(records.count == 3)
        for record in records {
            #expect(record.reason == "CallerHangup")
            #expect(record.sipCode == 200)
            #expect(record["routingGateway"] as? String == "ven1")
            #expect(record["mappingGateway"] as? String == "cust")
            #expect(record["calleeReceived"] as? String == "4420123")
            #expect(record["hangupSide"] as? String == "caller")
            #expect(record["answerTime"] != nil)
        }
    }

    @Test func failoverToTheNextVendorOn503() throws {
        let lab = try SwitchLab()
        let first = TestPorts.allocate(8), second = TestPorts.allocate(8)
        try lab.vendor("refuses", port: first, "--priority", "1")
        try lab.vendor("connects", port: second, "--priority", "2")
        try lab.startController()
        try lab.uas(port: first, scenario: try lab.scenario("uas_status", ["__STATUS__": "503"]))
        try lab.uas(port: second)
        let customer = try lab.uac("4420", calls: 1)
        customer.wait()
        #expect(customer.successfulCalls == 1, "\(customer.output)")
        let record = try #require(try lab.waitForCDRs(1).first)
        #expect(record.reason == "CallerHangup")
        #expect(record.attempts.map(\.gateway) == ["refuses", "connects"])
        #expect(record.attempts.map(\.code) == [503, 200])
    }

    @Test func switchOffReturnsTheVendorFailure() throws {
        let lab = try SwitchLab()
        let first = TestPorts.allocate(8), second = TestPorts.allocate(8)
        try lab.vendor("refuses", port: first, "--priority", "1", "--switch-until-connect", "off")
        try lab.vendor("never-tried", port: second, "--priority", "2")
        try lab.startController()
        try lab.uas(port: first, scenario: try lab.scenario("uas_status", ["__STATUS__": "503"]))
        let customer = try lab.uac("4420", scenario: try lab.scenario("uac_expect", ["__STATUS__": "503"]))
        customer.wait()
        #expect(customer.successfulCalls == 1, "the caller got 503: \(customer.output)")
        let record = try #require(try lab.waitForCDRs(1).first)
        #expect(record.reason == "VendorFailure")
        #expect(record.sipCode == 503)
        #expect(record.attempts.map(\.gateway) == ["refuses"])
    }

    @Test func silentVendorTimesOutThenNextGatewayOr408() throws {
        let lab = try SwitchLab()
        let silent = TestPorts.allocate(8), answering = TestPorts.allocate(8)
        try lab.vosctl.ok("param", "set", "SS_SIP_TIMEOUT_INVITE", "1")
        try lab.vendor("silent", port: silent, prefix: "44,45", "--priority", "1")
        try lab.vendor("answers", port: answering, prefix: "44", "--priority", "2")
        try lab.startController()
        try lab.uas(port: answering)
        // 44...: both match with the same prefix, so the silent vendor (priority 1) is tried
        // first; after SS_SIP_TIMEOUT_INVITE the call fails over to the answering one.
        let viaNext = try lab.uac("4419", calls: 1)
        viaNext.wait()
        #expect(viaNext.successfulCalls == 1, "\(viaNext.output)")
        // 45...: only the silent vendor matches, so the caller gets 408.
        let timedOut = try lab.uac("4529", scenario: try lab.scenario("uac_expect", ["__STATUS__": "408"]))
        timedOut.wait()
        #expect(timedOut.successfulCalls == 1, "\(timedOut.output)")
        let records = try lab.waitForCDRs(2)
        #expect(records.first?.reason == "CallerHangup")
        #expect(records.first?.attempts.map(\.gateway) == ["silent", "answers"], "the silent vendor was tried and timed out first")
        #expect(records.first?.attempts.first?.code == nil)
        #expect(records.last?.reason == "InviteTimeout")
        #expect(records.last?.sipCode == 408)
        #expect(records.last?.attempts.map(\.gateway) == ["silent"])
    }

    @Test func noMatchingPrefixIs503NoAvailableRouter() throws {
        let lab = try SwitchLab()
        try lab.vendor("uk", port: TestPorts.allocate(8))
        try lab.startController()
        let customer = try lab.uac("3312345", scenario: try lab.scenario("uac_expect", ["__STATUS__": "503"]))
        customer.wait()
        #expect(customer.successfulCalls == 1, "\(customer.output)")
        let record = try #require(try lab.waitForCDRs(1).first)
        #expect(record.reason == "NoAvailableRouter")
        #expect(record.sipCode == 503)
    }

    @Test func lineLimitRefusesTheExcessWith503() throws {
        let lab = try SwitchLab()
        let port = TestPorts.allocate(8)
        try lab.vendor("small", port: port, "--line-limit", "2")
        try lab.startController()
        try lab.uas(port: port)
        // Four calls at once that each last 2 s: two fit, two are refused.
        let customer = try lab.uac("4420", calls: 4, rate: 20, ["-d", "2000", "-l", "4"])
        customer.wait()
        #expect(customer.successfulCalls == 2, "\(customer.output)")
        #expect(customer.failedCalls == 2)
        let records = try lab.waitForCDRs(4)
        #expect(records.filter { $0.reason == "AllGatewayBusy" && $0.sipCode == 503 }.count == 2)
        #expect(records.filter { $0.reason == "CallerHangup" }.count == 2)
    }

    @Test func cpsLimitRefusesTheExcessWith503() throws {
        let lab = try SwitchLab()
        let port = TestPorts.allocate(8)
        try lab.vendor("ven", port: port)
        try lab.vosctl.ok("gateway", "set", "cust", "--cps", "3")
        try lab.startController()
        try lab.uas(port: port)
        let customer = try lab.uac("4420", calls: 12, rate: 40)
        customer.wait()
        let records = try lab.waitForCDRs(12)
        let limited = records.filter { $0.reason == "RateLimited" }
        #expect(limited.count >= 5, "most of a 40 cps burst is over a 3 cps limit")
        #expect(limited.allSatisfy { $0.sipCode == 503 })
        #expect(customer.failedCalls == limited.count)
        #expect(customer.successfulCalls == 12 - limited.count)
    }

    @Test func protectRouteServesOnlyWhenThePrimaryFails() throws {
        let lab = try SwitchLab()
        let primary = TestPorts.allocate(8), backup = TestPorts.allocate(8)
        try lab.vendor("primary", port: primary, "--priority", "2")
        try lab.vendor("backup", port: backup, "--priority", "1", "--protect-route", "on")
        try lab.startController()
        let healthy = try lab.uas(port: primary, seconds: 10)
        try lab.uas(port: backup, seconds: 20)
        let first = try lab.uac("4420")
        first.wait()
        #expect(first.successfulCalls == 1)
        healthy.stop()
        try lab.uas(port: primary, scenario: try lab.scenario("uas_status", ["__STATUS__": "503"]))
        let second = try lab.uac("4420")
        second.wait()
        #expect(second.successfulCalls == 1, "\(second.output)")
        let records = try lab.waitForCDRs(2)
        #expect(records[0]["routingGateway"] as? String == "primary", "protect route stays idle while the primary works")
        #expect(records[1].attempts.map(\.gateway) == ["primary", "backup"])
        #expect(records[1]["routingGateway"] as? String == "backup")
    }

    @Test func cancelWhileRinging() throws {
        let lab = try SwitchLab()
        let port = TestPorts.allocate(8)
        try lab.vendor("rings", port: port)
        try lab.startController()
        let vendor = try lab.uas(port: port, scenario: try lab.scenario("uas_ringing"))
        let customer = try lab.uac("4420", scenario: try lab.scenario("uac_cancel"))
        customer.wait()
        #expect(customer.successfulCalls == 1, "\(customer.output)")
        #expect(try eventually { vendor.successfulCalls == 1 }, "the vendor saw the CANCEL: \(vendor.output)")
        let record = try #require(try lab.waitForCDRs(1).first)
        #expect(record.reason == "CallerCancel")
        #expect(record.sipCode == 487)
    }

    @Test func byeFromTheCallee() throws {
        let lab = try SwitchLab()
        let port = TestPorts.allocate(8)
        try lab.vendor("hangs-up", port: port)
        try lab.startController()
        let vendor = try lab.uas(port: port, scenario: try lab.scenario("uas_bye"))
        let customer = try lab.uac("4420", scenario: try lab.scenario("uac_wait_bye", ["__TIMEOUT__": "5000"]))
        customer.wait()
        #expect(customer.successfulCalls == 1, "\(customer.output)")
        #expect(try eventually { vendor.successfulCalls == 1 }, "\(vendor.output)")
        let record = try #require(try lab.waitForCDRs(1).first)
        #expect(record.reason == "CalleeHangup")
        #expect(record["hangupSide"] as? String == "callee")
    }

    @Test func unknownSourceGets403AndNoCDR() throws {
        let lab = try SwitchLab()
        try lab.vendor("ven", port: TestPorts.allocate(8))
        try lab.startController()
        let stranger = try lab.uac("4420", scenario: try lab.scenario("uac_expect", ["__STATUS__": "403"]), from: "127.0.0.9")
        stranger.wait()
        #expect(stranger.successfulCalls == 1, "\(stranger.output)")
        usleep(300_000)
        #expect(try lab.cdrs().isEmpty, "scanners must not fill the CDR table")
    }
}
