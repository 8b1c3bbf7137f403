@testable import CallControl
import MediaControl
import SIPCore
import Testing
import VOSModel

/// Geofencing on calls: the customer's signalling source, the SDP media addresses of both sides,
/// and the RTP source vos-mediad latched, each refused with GeofenceForbidden in the CDR.
@Suite struct GeofenceCallTests {
    private static func range(_ cidr: String, _ mode: GeofenceRange.Mode) throws -> GeofenceRange {
        try GeofenceRange(prefix: IPPrefix(parsing: cidr), mode: mode, label: "test")
    }

    private static let forbiddenOffer = CallHarness.offer.replacingOccurrences(of: "c=IN IP4 192.0.2.10", with: "c=IN IP4 203.0.113.50")
    private static let forbiddenAnswer = CallHarness.answerSDP.replacingOccurrences(of: "c=IN IP4 198.51.100.20", with: "c=IN IP4 203.0.113.60")

    @Test func aForbiddenSignallingSourceGets403AndACDRBeforeRouting() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)], geofence: [try Self.range("192.0.2.0/24", .forbidden)])
        lab.customerInvite()
        let sent = lab.drain()
        #expect(sent.requests("INVITE").isEmpty, "no vendor is tried")
        #expect(sent.finalResponses.map { $0.message.statusCode } == [403])
        let record = try #require(lab.ledger.records.first)
        #expect(record.endReason == .geofenceForbidden && record.sipCode == 403 && record.hangupSide == .system)
        #expect(lab.b2bua.forbiddenBySource.isEmpty, "a known customer refused by geofencing is not fed to the ban set")
    }

    @Test func allowRangesRefuseASourceOutsideThemUnlessIgnored() throws {
        let allowOnly = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)], geofence: [try Self.range("198.51.100.0/24", .allow)])
        allowOnly.customerInvite()
        #expect(allowOnly.drain().finalResponses.map { $0.message.statusCode } == [403])
        #expect(allowOnly.ledger.records.first?.endReason == .geofenceForbidden)

        let ignored = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)],
                                      geofence: [try Self.range("198.51.100.0/24", .allow), try Self.range("192.0.2.0/24", .ignore)])
        let call = try ignored.connect()
        #expect(!call.customerTag.isEmpty, "an ignored source and an ignored SDP address connect")
        #expect(ignored.ledger.records.isEmpty)
    }

    @Test func theRegistrarCanAskAboutASource() throws {
        let lab = try CallHarness(vendors: [], geofence: [try Self.range("203.0.113.0/24", .forbidden)])
        #expect(lab.b2bua.geofenceRefuses(source: try IPAddress(parsing: "203.0.113.9")))
        #expect(!lab.b2bua.geofenceRefuses(source: try IPAddress(parsing: "192.0.2.10")))
        var forwarded = lab.b2bua.checksLatchedSources.load(ordering: .relaxed)
        #expect(!forwarded, "set by reload, which the controller runs at start")
        lab.b2bua.reload(ControllerSnapshot(mapping: [], routing: [], geofence: [try Self.range("203.0.113.0/24", .forbidden)]))
        forwarded = lab.b2bua.checksLatchedSources.load(ordering: .relaxed)
        #expect(forwarded)
        lab.b2bua.reload(ControllerSnapshot(mapping: [], routing: []))
        forwarded = lab.b2bua.checksLatchedSources.load(ordering: .relaxed)
        #expect(!forwarded, "no ranges: latch events stay off the SIP loop")
    }

    @Test func aForbiddenMediaAddressInTheCustomersOfferIsRefused() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)], geofence: [try Self.range("203.0.113.0/24", .forbidden)])
        lab.customerInvite(sdp: Self.forbiddenOffer)
        let sent = lab.drain()
        #expect(sent.requests("INVITE").isEmpty)
        #expect(sent.finalResponses.map { $0.message.statusCode } == [403])
        #expect(lab.ledger.records.first?.endReason == .geofenceForbidden)
        // The call's counters were released: the next (clean) call goes through.
        lab.customerInvite()
        #expect(lab.drain().requests("INVITE").count == 1)
    }

    @Test func holdAddressesAreNotChecked() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)], geofence: [try Self.range("0.0.0.0/8", .forbidden)])
        lab.customerInvite(sdp: CallHarness.offer.replacingOccurrences(of: "c=IN IP4 192.0.2.10", with: "c=IN IP4 0.0.0.0"))
        #expect(lab.drain().requests("INVITE").count == 1)
    }

    @Test func aVendorsForbiddenEarlyMediaAddressCancelsTheCall() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20), CallHarness.vendor("fr", host: 21, priority: 2)],
                                  geofence: [try Self.range("203.0.113.0/24", .forbidden)])
        lab.customerInvite()
        let invite = try #require(lab.drain().requests("INVITE").first?.message)
        lab.respond(to: invite, status: 183, reason: "Session Progress", from: CallHarness.vendor(20), sdp: Self.forbiddenAnswer)
        let sent = lab.drain()
        #expect(sent.responses(183).isEmpty, "the forbidden SDP never reaches the customer")
        #expect(sent.filter { $0.to == CallHarness.customer }.finalResponses.map { $0.message.statusCode } == [403])
        #expect(sent.requests("CANCEL").map(\.to) == [CallHarness.vendor(20)])
        #expect(sent.requests("INVITE").isEmpty, "no failover to the next vendor")
        #expect(lab.ledger.records.first?.endReason == .geofenceForbidden)
        lab.respond(to: invite, status: 487, reason: "Request Terminated", from: CallHarness.vendor(20))
        #expect(lab.drain().requests("ACK").map(\.to) == [CallHarness.vendor(20)], "the vendor's 487 is acknowledged")
        #expect(lab.ledger.records.count == 1)
    }

    @Test func aVendorsForbiddenAnswerIsAcknowledgedAndHungUp() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)], geofence: [try Self.range("203.0.113.0/24", .forbidden)])
        lab.customerInvite()
        let invite = try #require(lab.drain().requests("INVITE").first?.message)
        lab.respond(to: invite, status: 200, reason: "OK", from: CallHarness.vendor(20), sdp: Self.forbiddenAnswer)
        let sent = lab.drain()
        #expect(sent.filter { $0.to == CallHarness.customer }.map { $0.message.statusCode } == [403])
        #expect(sent.requests("ACK").map(\.to) == [CallHarness.vendor(20)])
        #expect(sent.requests("BYE").map(\.to) == [CallHarness.vendor(20)])
        let record = try #require(lab.ledger.records.first)
        #expect(record.endReason == .geofenceForbidden && record.sipCode == 403 && record.answerTime == nil)
    }

    @Test func aForbiddenLatchedRTPSourceMidCallSendsByeToBothLegs() throws {
        let lab = try CallHarness(parameters: [.mediaProxyMode: "3"], vendors: [CallHarness.vendor("uk", host: 20)],
                                  geofence: [try Self.range("203.0.113.0/24", .forbidden)])
        _ = try lab.connect()
        // The SDP's own address latches first: nothing happens.
        lab.b2bua.mediaLatched(session: "s1", leg: 0, address: MediaEndpoint(ip: "192.0.2.10", port: 40000))
        lab.loop.run()
        #expect(lab.drain().requests("BYE").isEmpty)
        // After a re-INVITE the leg latches again, now from a forbidden address.
        lab.b2bua.mediaLatched(session: "s1", leg: 0, address: MediaEndpoint(ip: "203.0.113.77", port: 40000))
        lab.loop.run()
        #expect(Set(lab.drain().requests("BYE").map(\.to)) == [CallHarness.customer, CallHarness.vendor(20)])
        let record = try #require(lab.ledger.records.first)
        #expect(record.endReason == .geofenceForbidden && record.hangupSide == .system && record.answerTime != nil)
        #expect(lab.media.deleted == ["s1"])
        // A late duplicate event changes nothing.
        lab.b2bua.mediaLatched(session: "s1", leg: 1, address: MediaEndpoint(ip: "203.0.113.78", port: 50000))
        lab.loop.run()
        #expect(lab.drain().isEmpty && lab.ledger.records.count == 1)
    }

    @Test func aForbiddenEarlyMediaSourceEndsTheCallBeforeTheAnswer() throws {
        let lab = try CallHarness(parameters: [.mediaProxyMode: "3"], vendors: [CallHarness.vendor("uk", host: 20)],
                                  geofence: [try Self.range("203.0.113.0/24", .forbidden)])
        lab.customerInvite()
        let invite = try #require(lab.drain().requests("INVITE").first?.message)
        lab.respond(to: invite, status: 183, reason: "Session Progress", from: CallHarness.vendor(20), sdp: CallHarness.answerSDP)
        #expect(lab.drain().responses(183).count == 1)
        lab.b2bua.mediaLatched(session: "s1", leg: 1, address: MediaEndpoint(ip: "203.0.113.5", port: 50000))
        lab.loop.run()
        let sent = lab.drain()
        #expect(sent.filter { $0.to == CallHarness.customer }.finalResponses.map { $0.message.statusCode } == [403])
        #expect(sent.requests("CANCEL").map(\.to) == [CallHarness.vendor(20)])
        #expect(lab.ledger.records.first?.endReason == .geofenceForbidden)
    }

    @Test func ipv6MediaAddressesAreChecked() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)], geofence: [try Self.range("2001:db8:bad::/48", .forbidden)])
        let offer = CallHarness.offer.replacingOccurrences(of: "c=IN IP4 192.0.2.10", with: "c=IN IP6 2001:db8:bad::10")
        lab.customerInvite(sdp: offer)
        #expect(lab.drain().finalResponses.map { $0.message.statusCode } == [403])
        #expect(lab.ledger.records.first?.endReason == .geofenceForbidden)
    }
}
