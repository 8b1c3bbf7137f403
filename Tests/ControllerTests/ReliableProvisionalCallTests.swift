import Foundation
import Testing
import VOSTestSupport

/// RFC 3262 with a real sipp vendor that requires 100rel.
@Suite struct ReliableProvisionalCallTests {
    @Test func aVendorThatRequires100relConnects() throws {
        let lab = try SwitchLab()
        let port = TestPorts.allocate(8)
        try lab.vendor("strict", port: port)
        try lab.startController()
        let vendor = try lab.uas(port: port, scenario: try lab.scenario("uas_100rel"))
        let customer = try lab.uac("4420", calls: 1)
        customer.wait()
        #expect(customer.successfulCalls == 1, "\(customer.output)")
        #expect(try eventually { vendor.successfulCalls == 1 }, "the vendor got its PRACK (RAck 1 1 INVITE) and the BYE: \(vendor.output)")
        let record = try #require(try lab.waitForCDRs(1).first)
        #expect(record.reason == "CallerHangup")
    }
}
