import Foundation
import Testing
import VOSTestSupport

/// Geofencing with real peers: sipp customers and vendors, vos-mediad latching real RTP.
@Suite(.serialized) struct GeofencePeerTests {
    /// A loopback address the customer's RTP leaves from, forbidden by the tests.
    static let forbiddenMediaIP = "127.0.0.9"

    @Test func rtpFromAForbiddenSourceMidCallReleasesTheCall() throws {
        let lab = try SwitchLab(mediaMode: 3)
        try lab.vosctl.ok("geofence", "add", "--start", Self.forbiddenMediaIP, "--count", "1", "--mode", "forbidden", "--label", "lab")
        let port = TestPorts.allocate(8)
        try lab.vendor("ven", port: port)
        try lab.startMediad()
        try lab.startController()
        let vendor = try lab.uas(port: port)
        // The SDP names the customer's own (allowed) address; the RTP comes from the forbidden one.
        let customer = try lab.uac("4420", scenario: try lab.scenario("uac_rtp_wait_bye", [
            "__SDP_IP__": SwitchLab.customerIP, "__TIMEOUT__": "10000",
        ]), ["-mi", Self.forbiddenMediaIP])
        customer.wait(seconds: 30)
        #expect(customer.successfulCalls == 1, "the customer got a BYE: \(customer.output)")
        #expect(eventually { vendor.successfulCalls == 1 }, "the vendor got a BYE: \(vendor.output)")
        let record = try #require(try lab.waitForCDRs(1).first)
        #expect(record.reason == "GeofenceForbidden")
        #expect(record["hangupSide"] as? String == "system")
        #expect(record["answerTime"] != nil, "the call was connected when its RTP arrived")
        #expect(lab.controllerLog.contains("geofencing refuses the RTP source \(Self.forbiddenMediaIP)"))
    }

    @Test func aForbiddenSignallingSourceOrSDPAddressGets403() throws {
        let lab = try SwitchLab()
        let port = TestPorts.allocate(8)
        try lab.vendor("ven", port: port)
        try lab.vosctl.ok("geofence", "add", "--start", Self.forbiddenMediaIP, "--count", "1", "--mode", "forbidden")
        try lab.startController()
        // The SDP names the forbidden address (sipp's c= is its -mi).
        let media = try lab.uac("4420", scenario: try lab.scenario("uac_expect", ["__STATUS__": "403"]), ["-mi", Self.forbiddenMediaIP])
        media.wait()
        #expect(media.successfulCalls == 1, "\(media.output)")
        // The customer's signalling address itself, now outside the only allow range.
        try lab.vosctl.ok("geofence", "add", "--cidr", "198.51.100.0/24", "--mode", "allow")
        #expect(eventually { lab.controllerLog.contains("configuration changed") })
        let signalling = try lab.uac("4420", scenario: try lab.scenario("uac_expect", ["__STATUS__": "403"]))
        signalling.wait()
        #expect(signalling.successfulCalls == 1, "\(signalling.output)")
        let records = try lab.waitForCDRs(2)
        #expect(records.map(\.reason) == ["GeofenceForbidden", "GeofenceForbidden"])
        #expect(records.map(\.sipCode) == [403, 403])
        #expect(lab.controllerLog.contains("geofencing refuses the caller's SDP media address \(Self.forbiddenMediaIP)"))
        #expect(lab.controllerLog.contains("geofencing refuses signalling source \(SwitchLab.customerIP): outside every allow range"))
    }
}
