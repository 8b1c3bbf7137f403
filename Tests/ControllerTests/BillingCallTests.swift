import Foundation
import Testing
import VOSTestSupport

/// Money through real calls: refusals, credit running out, shared credit, locks, exactly-once
/// charging and recovery after the controller is killed.
@Suite(.serialized) struct BillingCallTests {
    /// A lab whose customer `cust` bills prepaid account `pre` at `pricePerMinute`, 1/1 s intervals.
    func prepaidLab(balance: String, pricePerMinute: String = "6.0", limitMoney: String = "0") throws -> SwitchLab {
        let lab = try SwitchLab()
        let rates = try lab.scratch.write("per-second.csv", "4,\(pricePerMinute),1,1\n")
        try lab.vosctl.ok("rate", "import", "per-second", rates)
        try lab.vosctl.ok("account", "add", "pre", "--type", "prepaid", "--balance", balance, "--limit-money", limitMoney,
                          "--rate-table", "per-second")
        try lab.vosctl.ok("gateway", "set", "cust", "--account", "pre")
        return lab
    }

    func account(_ lab: SwitchLab, _ name: String = "pre") throws -> [String: Any] {
        (try lab.vosctl.json("account", "show", name) as? [String: Any]) ?? [:]
    }

    func money(_ value: Any?) -> Decimal { Decimal(string: value as? String ?? "") ?? .nan }

    @Test func lockedAccountAndInsufficientCreditAre403() throws {
        let lab = try prepaidLab(balance: "0.05")
        try lab.vendor("ven", port: TestPorts.allocate(8))
        try lab.startController()
        let poor = try lab.uac("4420", scenario: try lab.scenario("uac_expect", ["__STATUS__": "403"]))
        poor.wait()
        #expect(poor.successfulCalls == 1, "0.05 does not buy one second at 0.10: \(poor.output)")
        try lab.vosctl.ok("account", "topup", "pre", "10")
        try lab.vosctl.ok("account", "lock", "pre")
        let locked = try lab.uac("4420", scenario: try lab.scenario("uac_expect", ["__STATUS__": "403"]))
        locked.wait()
        #expect(locked.successfulCalls == 1, "\(locked.output)")
        let records = try lab.waitForCDRs(2)
        #expect(records.map(\.reason) == ["AccountBalanceNotEnough", "AccountLocked"])
        #expect(records.allSatisfy { $0.sipCode == 403 })
    }

    @Test func prepaidCallIsReleasedWhenCreditRunsOutThenLockAndTopUpUnlock() throws {
        let lab = try prepaidLab(balance: "0.30")
        let port = TestPorts.allocate(8)
        try lab.vendor("ven", port: port)
        try lab.startController()
        let vendor = try lab.uas(port: port)
        let customer = try lab.uac("4420", scenario: try lab.scenario("uac_wait_bye", ["__TIMEOUT__": "15000"]))
        customer.wait()
        #expect(customer.successfulCalls == 1, "the customer got the BYE: \(customer.output)")
        #expect(try eventually { vendor.successfulCalls == 1 }, "the vendor got the BYE: \(vendor.output)")
        let record = try #require(try lab.waitForCDRs(1).first)
        #expect(record.reason == "BalanceExhausted")
        #expect(record["billedSeconds"] as? Int == 3)
        #expect(money(record["customerCost"]) == Decimal(string: "0.30"))
        let after = try account(lab)
        #expect(money(after["balance"]) == 0, "never below -limitMoney (0)")
        #expect(after["status"] as? String == "Locked", "reaching -limitMoney locks the account")
        #expect(money(after["reserved"]) == 0)
        try lab.vosctl.ok("account", "topup", "pre", "1")
        #expect(try account(lab)["status"] as? String == "Normal", "a top-up above the limit unlocks")
        let again = try lab.uac("4420")
        again.wait()
        #expect(again.successfulCalls == 1)
    }

    @Test func fiftyConcurrentCallsShareTheCreditAndNeverOverdraw() throws {
        // 2.00 at 0.10 a second buys 20 connected seconds; 50 calls of 3 s each want 150.
        let lab = try prepaidLab(balance: "2.00")
        let port = TestPorts.allocate(8)
        try lab.vendor("ven", port: port)
        try lab.startController()
        try lab.uas(port: port, seconds: 40)
        let customer = try lab.uac("4420", calls: 50, rate: 50, ["-d", "3000", "-l", "50"], seconds: 40)
        customer.wait(seconds: 60)
        let records = try lab.waitForCDRs(50, seconds: 20)
        #expect(records.count == 50)
        let charged = records.reduce(Decimal(0)) { $0 + money($1["customerCost"]) }
        let after = try account(lab)
        let balance = money(after["balance"])
        #expect(balance >= 0, "balance \(balance) never below -limitMoney")
        #expect(charged == Decimal(string: "2.00")! - balance, "charges \(charged) add up to the balance change")
        #expect(money(after["reserved"]) == 0, "no reservation leaks")
        #expect(after["liveCalls"] as? Int == 0)
        let outcomes = Set(records.compactMap(\.reason))
        #expect(outcomes.isSubset(of: ["CallerHangup", "BalanceExhausted", "AccountBalanceNotEnough", "AccountLocked"]), "\(outcomes)")
        #expect(records.contains { $0.reason == "AccountBalanceNotEnough" || $0.reason == "BalanceExhausted" })
    }

    @Test func aReInviteIsNotBilledTwice() throws {
        let lab = try SwitchLab()
        let port = TestPorts.allocate(8)
        try lab.vendor("ven", port: port)
        try lab.startController()
        let vendor = try lab.uas(port: port, scenario: try lab.scenario("uas_reinvite"))
        let customer = try lab.uac("4420", scenario: try lab.scenario("uac_reinvite"))
        customer.wait()
        #expect(customer.successfulCalls == 1, "\(customer.output)")
        #expect(try eventually { vendor.successfulCalls == 1 }, "\(vendor.output)")
        let records = try lab.waitForCDRs(1)
        usleep(500_000)
        #expect(try lab.cdrs().count == 1, "one call, one CDR")
        let record = try #require(records.first)
        let billed = record["billedSeconds"] as? Int ?? -1
        #expect((2...3).contains(billed))
        #expect(money(record["customerCost"]) == Decimal(billed) * Decimal(string: "0.01")! / 60, "0.01 a minute, 1/1: \(record)")
        let history = (try lab.vosctl.json("account", "history", "acme") as? [[String: Any]]) ?? []
        #expect(history.filter { ($0["callID"] as? String) != nil }.count == 1, "one charge in the history")
    }

    @Test func byeFromBothSidesAtOnceBillsOnce() throws {
        let lab = try prepaidLab(balance: "10")
        let port = TestPorts.allocate(8)
        try lab.vendor("ven", port: port)
        try lab.startController()
        try lab.uas(port: port, scenario: try lab.scenario("uas_bye_race"))
        let customer = try lab.uac("4420", scenario: try lab.scenario("uac_bye_race"))
        customer.wait()
        usleep(1_000_000)
        let records = try lab.cdrs()
        #expect(records.count == 1, "exactly one CDR for the call: \(records.map(\.reason))")
        let cost = money(records.first?["customerCost"])
        #expect(money(try account(lab)["balance"]) == 10 - cost, "charged once")
        #expect(money(try account(lab)["reserved"]) == 0)
    }

    @Test func aVendorWithTooLittleMoneyIsSkipped() throws {
        let lab = try SwitchLab()
        try lab.vosctl.ok("param", "set", "SERVER_VERIFY_CLEARING_CUSTOMER", "1")
        try lab.vosctl.ok("param", "set", "SERVER_VERIFY_CLEARING_CUSTOMER_REMAIN_MONEY_LIMIT", "10")
        try lab.vosctl.ok("account", "add", "vendor-poor", "--type", "prepaid", "--balance", "5")
        try lab.vosctl.ok("account", "add", "vendor-rich", "--type", "prepaid", "--balance", "500")
        let poorPort = TestPorts.allocate(8), richPort = TestPorts.allocate(8)
        try lab.vendor("poor", port: poorPort, "--priority", "1", "--clearing-account", "vendor-poor")
        try lab.vendor("rich", port: richPort, "--priority", "2", "--clearing-account", "vendor-rich")
        try lab.vendor("poor-only", port: poorPort, prefix: "3", "--clearing-account", "vendor-poor")
        try lab.startController()
        try lab.uas(port: poorPort)
        try lab.uas(port: richPort)
        let routed = try lab.uac("4420")
        routed.wait()
        #expect(routed.successfulCalls == 1)
        let refused = try lab.uac("3320", scenario: try lab.scenario("uac_expect", ["__STATUS__": "503"]))
        refused.wait()
        #expect(refused.successfulCalls == 1, "\(refused.output)")
        let records = try lab.waitForCDRs(2)
        #expect(records[0].attempts.map(\.gateway) == ["rich"], "the poor vendor is never tried")
        #expect(records[1].reason == "AccountBalanceNotEnough")
        #expect(records[1].sipCode == 503)
    }

    @Test func killingTheControllerLosesNoCallAndChargesNothingTwice() throws {
        let lab = try prepaidLab(balance: "100", pricePerMinute: "0.60")
        let port = TestPorts.allocate(8)
        try lab.vendor("ven", port: port)
        let controller = try lab.startController()
        try lab.uas(port: port, seconds: 60)
        let customers = try lab.uac("4420", calls: 20, rate: 20, scenario: try lab.scenario("uac_wait_bye", ["__TIMEOUT__": "60000"]),
                                    ["-l", "20"], seconds: 60)
        #expect(try eventually(seconds: 15) { (try lab.vosctl.json("calls") as? [Any])?.count == 20 }, "20 calls up")
        #expect(try account(lab)["liveCalls"] as? Int == 20)
        usleep(7_000_000)  // past one checkpoint (every 5 s)
        controller.killHard()
        customers.stop()
        try lab.startController()
        let records = try lab.waitForCDRs(20)
        #expect(records.count == 20)
        #expect(Set(records.compactMap { $0["callID"] as? String }).count == 20, "one CDR per call")
        #expect(records.allSatisfy { $0.reason == "ControllerRestart" })
        let billed = records.map { $0["billedSeconds"] as? Int ?? 0 }
        #expect(billed.allSatisfy { (1...15).contains($0) }, "charged for the checkpointed time, never more than it ran: \(billed)")
        let charged = records.reduce(Decimal(0)) { $0 + money($1["customerCost"]) }
        let after = try account(lab)
        #expect(money(after["balance"]) == 100 - charged, "balances add up")
        #expect(money(after["reserved"]) == 0, "no reservation leaks")
        #expect(after["liveCalls"] as? Int == 0)
        // A second restart finds nothing left to recover.
        usleep(300_000)
        #expect(try lab.cdrs().count == 20)
    }
}
