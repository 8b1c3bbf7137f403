import Foundation
import Testing
import VOSTestSupport

/// Caller identity and caller number pools with real sipp peers, configured through vosctl.
@Suite struct CallerIdentityPoolCallTests {
    @Test func thePoolAndIdentityReachTheVendorWithinMultiplexesThen503() throws {
        let lab = try SwitchLab()
        let port = TestPorts.allocate(8)
        try lab.vendor("pooled", port: port, "--caller-pool", "8801700000001,8801700000002", "--pool-multiplexes", "1",
                       "--pai", "caller", "--privacy", "id")
        try lab.startController()
        let vendor = try lab.uas(port: port, scenario: try lab.scenario("uas_identity"), seconds: 30)
        // Three calls held 4 s each start within 0.3 s: two numbers, one call each.
        let customers = try lab.uac("4420", calls: 3, rate: 10, scenario: "uac", ["-d", "4000"])
        customers.wait(seconds: 30)
        #expect(customers.successfulCalls == 2, "\(customers.output)")
        #expect(customers.failedCalls == 1, "the third call found the pool exhausted")
        #expect(try eventually { vendor.successfulCalls == 2 }, "both calls carried the pool number and Privacy: id: \(vendor.output)")
        let records = try lab.waitForCDRs(3)
        #expect(records.filter { $0.reason == "CallerPoolExhausted" }.count == 1)
        #expect(records.first { $0.reason == "CallerPoolExhausted" }?.sipCode == 503)
        #expect(Set(records.compactMap { $0["callerSent"] as? String }.filter { $0.hasPrefix("880") }) == ["8801700000001", "8801700000002"])
    }
}
