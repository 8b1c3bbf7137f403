import Foundation
import Testing
import VOSTestSupport

/// A delayed-offer caller (RFC 3261 §13.2.1, no SDP in the INVITE) through the running
/// controller and vos-mediad, with sipp on both sides.
@Suite(.serialized) struct DelayedOfferCallTests {
    @Test func aDelayedOfferCallerGetsTwoWayRTPThroughTheRelay() throws {
        let lab = try SwitchLab(mediaMode: 3)
        let port = TestPorts.allocate(8)
        try lab.vendor("ven", port: port)
        try lab.startMediad()
        try lab.startController()
        try lab.uas(port: port, scenario: "uas", ["-rtp_echo"])
        let customer = try lab.uac("4420", scenario: try lab.scenario("uac_delayed_offer_pcap"))
        customer.wait(seconds: 40)
        #expect(customer.successfulCalls == 1, "\(customer.output)")
        let record = try #require(try lab.waitForCDRs(1).first)
        #expect(record.reason == "CallerHangup")
        let callerLeg = try #require(record["callerMedia"] as? [String: Any])
        let calleeLeg = try #require(record["calleeMedia"] as? [String: Any])
        let fromCustomer = callerLeg["packetsReceived"] as? Int ?? 0
        #expect(fromCustomer > 100, "the relay received the customer's RTP at the address its ACK's answer named")
        #expect(calleeLeg["packetsSent"] as? Int ?? 0 >= fromCustomer - 5, "and sent it to the vendor's offer")
        #expect(calleeLeg["packetsReceived"] as? Int ?? 0 > 100, "the vendor's echo came back through the relay")
        #expect(callerLeg["packetsSent"] as? Int ?? 0 > 100, "and reached the customer")
    }
}
