@testable import CallControl
import SIPCore
import SIPStack
import Softswitch
import Testing
import VOSModel

/// Wholesale routing in the B2BUA, in virtual time: a schedule closing between two calls, a
/// gateway group's reserved line, the quality window moving a failing vendor down, and the LRN
/// table's refusal.
@Suite struct WholesaleRoutingTests {
    /// The harness's B2BUA with `routing` as its wholesale configuration.
    func reload(_ lab: CallHarness, parameters: [SystemParameter: String] = [:], vendors: [RoutingGateway], accounts: [Account] = [],
                schedules: [RouteSchedule] = [], groups: [GatewayGroup] = [], lrn: LRNTable = LRNTable(),
                mappingAccount: String? = nil) throws {
        var set = ParameterSet()
        try set.set(.mediaProxyMode, to: "0")
        for (key, value) in parameters { try set.set(key, to: value) }
        var mapping = MappingGateway(name: "cust", ips: [try IPAddress(parsing: "192.0.2.10")])
        mapping.account = mappingAccount
        var second = MappingGateway(name: "vipgw", ips: [try IPAddress(parsing: "192.0.2.11")])
        second.account = "vip"
        let wholesale = RoutingConfiguration(parameters: set, gateways: vendors, accounts: accounts,
                                             schedules: RouteScheduleBook(schedules: schedules, calendars: []), groups: groups, lrn: lrn)
        lab.b2bua.reload(ControllerSnapshot(parameters: set, mapping: [mapping, second], routing: vendors, accounts: accounts,
                                            wholesale: wholesale))
    }

    @Test func aScheduleThatClosesSendsTheNextCallElsewhere() throws {
        // The harness's clock starts Monday 2026-11-30 00:53:20 UTC.
        let lab = try CallHarness(vendors: [])
        let day = CallHarness.vendor("day", host: 20, priority: 1) { $0.schedule = "early" }
        let always = CallHarness.vendor("always", host: 21, priority: 2)
        try reload(lab, parameters: [.timeZone: "UTC"], vendors: [day, always],
                   schedules: [RouteSchedule(name: "early", windows: [try ScheduleWindow(parsing: "mon 00:00-00:55")])])
        lab.customerInvite()
        #expect(lab.drain().requests("INVITE").first?.to == CallHarness.vendor(20), "00:53: the scheduled vendor first")
        lab.advance(seconds: 100)
        _ = lab.drain()
        lab.customerInvite()
        #expect(lab.drain().requests("INVITE").first?.to == CallHarness.vendor(21), "00:55 is past the window: never the scheduled vendor")
    }

    @Test func aReservedLineIsKeptForItsCustomer() throws {
        let lab = try CallHarness(vendors: [])
        let member = CallHarness.vendor("uk", host: 20) { $0.group = "pool" }
        var group = GatewayGroup(name: "pool", lineLimit: 2)
        group.reserve(1, for: "vip")
        try reload(lab, vendors: [member], accounts: [Account(name: "acme", kind: .postpaid), Account(name: "vip", kind: .postpaid)],
                   groups: [group], mappingAccount: "acme")
        lab.customerInvite()
        #expect(lab.drain().requests("INVITE").count == 1, "acme takes the shared line")
        lab.customerInvite()
        let busy = lab.drain()
        #expect(busy.requests("INVITE").isEmpty, "the second line is vip's")
        #expect(busy.finalResponses.first?.message.statusCode == 503)
        #expect(lab.ledger.records.last?.endReason == .allGatewayBusy)
        #expect(lab.ledger.records.last?.attempts.isEmpty == true)
    }

    @Test func aFailingVendorLosesItsRankOnceTheWindowCounts() throws {
        let lab = try CallHarness(vendors: [])
        let flaky = CallHarness.vendor("flaky", host: 20, priority: 1)
        let good = CallHarness.vendor("good", host: 21, priority: 2)
        try reload(lab, parameters: [.routingSort: "quality", .gatewayQualityMinCalls: "3"], vendors: [flaky, good])
        var firstTried: [SocketAddress] = []
        for call in 0..<6 {
            let callID = lab.customerInvite()
            var out = lab.drain()
            var invite = try #require(out.requests("INVITE").first)
            firstTried.append(invite.to)
            if invite.to == CallHarness.vendor(20) {
                lab.respond(to: invite.message, status: 503, reason: "Service Unavailable", from: CallHarness.vendor(20))
                out = lab.drain()
                invite = try #require(out.requests("INVITE").first { $0.to == CallHarness.vendor(21) }, "failover to good")
            }
            lab.respond(to: invite.message, status: 200, reason: "OK", from: CallHarness.vendor(21), sdp: CallHarness.answerSDP)
            let answer = try #require(lab.drain().responses(200).first { $0.to == CallHarness.customer })
            let toTag = try #require(try answer.message.to().tag)
            // Each call's own branches: one BYE branch for all would be taken as retransmissions.
            lab.customerRequest("ACK", callID: callID, toTag: toTag, branch: "z9hG4bK-c\(call)")
            lab.advance(seconds: 10)
            lab.customerRequest("BYE", callID: callID, toTag: toTag, branch: "z9hG4bK-c\(call)")
            _ = lab.drain()
        }
        // Three calls teach the window flaky's ASR (0) and good's (100 %); then good goes first.
        #expect(firstTried == Array(repeating: CallHarness.vendor(20), count: 3) + Array(repeating: CallHarness.vendor(21), count: 3))
        let score = lab.b2bua.gatewayQuality.score("flaky", now: lab.loop.now)
        #expect(score.attempts == 3 && score.answered == 0)
        #expect(lab.b2bua.gatewayQuality.score("good", now: lab.loop.now).talkSeconds == 60)
    }

    @Test func aCalleeMissingFromTheLRNTableIsRefusedWhenAsked() throws {
        let lab = try CallHarness(vendors: [])
        let ported = CallHarness.vendor("ported", host: 20, prefix: "3015")
        let table = try LRNFile.parse("2025550143,3015550000\n")
        try reload(lab, parameters: [.lrnEnable: "1", .lrnFailureAction: "1"], vendors: [ported], lrn: table)
        lab.customerInvite("2025550143")
        let invite = try #require(lab.drain().requests("INVITE").first)
        #expect(invite.message.requestURI?.user == "2025550143;rn=3015550000;npdi")
        lab.customerInvite("2025550100")
        #expect(lab.drain().finalResponses.first?.message.statusCode == 404)
        #expect(lab.ledger.records.last?.endReason == .lrnNotFound)
    }
}

