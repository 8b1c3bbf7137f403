import Foundation
import Testing
import VOSTestSupport

/// Number lists with real sipp peers, configured through vosctl as an operator would.
@Suite(.serialized) struct NumberListCallTests {
    @Test func aWhiteListedCustomerIsRefusedOtherNumbersAndReachesItsOwn() throws {
        let lab = try SwitchLab()
        let vendorPort = TestPorts.allocate(8)
        try lab.vendor("ven1", port: vendorPort)
        let numbers = try lab.scratch.write("allowed.txt", "# the only numbers acme may call\n4420123\n4420124\n")
        try lab.vosctl.ok("list", "add", "allowed", "--kind", "white", "--target", "callee", "--file", numbers)
        try lab.vosctl.ok("gateway", "set", "cust", "--list-groups", "allowed")
        try lab.startController()
        let vendor = try lab.uas(port: vendorPort)

        let refused = try lab.uac("4420999", scenario: try lab.scenario("uac_expect", ["__STATUS__": "403"]))
        refused.wait()
        #expect(refused.successfulCalls == 1, "the caller got 403: \(refused.output)")
        let listed = try lab.uac("4420123")
        listed.wait()
        #expect(listed.successfulCalls == 1, "a listed number goes through: \(listed.output)")
        #expect(try eventually { vendor.successfulCalls == 1 }, "only the listed call reached the vendor: \(vendor.output)")

        let records = try lab.waitForCDRs(2)
        let blacklisted = try #require(records.first { $0["calleeReceived"] as? String == "4420999" })
        #expect(blacklisted.reason == "Blacklisted" && blacklisted.sipCode == 403 && blacklisted.attempts.isEmpty)
        #expect(records.first { $0["calleeReceived"] as? String == "4420123" }?.reason == "CallerHangup")
        let table = try lab.vosctl.ok("cdr", "list", "--reason", "Blacklisted")
        #expect(table.contains("4420999") && table.contains("Blacklisted") && table.contains("403"), "\(table)")
        #expect(!table.contains("4420123"))
    }
}
