import Foundation
import Testing
import VOSTestSupport

/// RFC 4028 with real sipp peers on both sides of the running controller.
@Suite struct SessionTimerCallTests {
    /// The customer asked to refresh every 90 s and never does: vos sends BYE on both legs
    /// within RFC 4028's bound (90 - min(32, 30) = 60 s after the answer) and writes SessionTimeout.
    @Test func aCustomerThatStopsRefreshingIsHungUpOnBothLegs() throws {
        let lab = try SwitchLab()
        let vendorPort = TestPorts.allocate(8)
        try lab.vendor("uk", port: vendorPort)
        try lab.startController()
        let vendor = try lab.uas(port: vendorPort, scenario: try lab.scenario("uas_session_timer_bye"), seconds: 90)
        let customer = try lab.uac("4420", scenario: try lab.scenario("uac_session_timer_silent"), seconds: 90)
        _ = customer.wait(seconds: 90)
        #expect(customer.successfulCalls == 1, "the customer got its BYE: \(customer.output)")
        #expect(try eventually { vendor.successfulCalls == 1 }, "the vendor got its BYE: \(vendor.output)")
        let record = try #require(try lab.waitForCDRs(1).first)
        #expect(record.reason == "SessionTimeout")
        let duration = record["durationSeconds"] as? Int ?? -1
        #expect((58...62).contains(duration), "BYE at 60 s after the answer, got \(duration)")
    }

    @Test func aVendorAnswering422GetsTheRetryWithItsMinSE() throws {
        let lab = try SwitchLab()
        let vendorPort = TestPorts.allocate(8)
        try lab.vendor("uk", port: vendorPort)
        try lab.startController()
        let vendor = try lab.uas(port: vendorPort, scenario: try lab.scenario("uas_422"))
        let customer = try lab.uac("4420", calls: 1)
        _ = customer.wait()
        #expect(customer.successfulCalls == 1, "\(customer.output)")
        #expect(try eventually { vendor.successfulCalls == 1 }, "the retry carried Session-Expires: 1800: \(vendor.output)")
        let record = try #require(try lab.waitForCDRs(1).first)
        #expect(record.reason == "CallerHangup")
        #expect(record.attempts.map(\.gateway) == ["uk"], "a 422 is not a failover")
    }
}
