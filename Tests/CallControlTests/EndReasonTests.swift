import MediaControl
import SIPCore
import SIPStack
import Testing
import VOSModel

/// Every VOS3000 end reason the B2BUA decides (requirements §3), each from the SIP a user would
/// see and the CDR row it writes. ControllerRestart is decided by crash recovery (VOSStoreTests),
/// SessionTimeout by session timers, CodecMismatch by codec negotiation.
@Suite struct EndReasonTests {
    func finalToCustomer(_ lab: CallHarness) -> Int? {
        lab.drain().finalResponses.first { $0.to == CallHarness.customer && $0.message.firstHeaderValue("CSeq")?.hasSuffix("INVITE") == true }?.message.statusCode
    }

    @Test func noVendorForThePrefixIsNoAvailableRouter() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("fr", host: 20, prefix: "33")])
        lab.customerInvite("441234567")
        #expect(finalToCustomer(lab) == 503)
        #expect(lab.ledger.records.first?.endReason == .noAvailableRouter)
    }

    @Test func everyVendorAtItsLineLimitIsAllGatewayBusy() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20) { $0.lineLimit = 1 }])
        _ = try lab.connect()
        lab.customerInvite()
        let refused = lab.drain().finalResponses.first { $0.to == CallHarness.customer }
        #expect(refused?.message.statusCode == 503)
        #expect(refused?.message.firstHeaderValue("Retry-After") == "5")
        #expect(lab.ledger.records.first?.endReason == .allGatewayBusy)
    }

    @Test func aRefusedAccountGivesItsReason() throws {
        for (cause, reason) in [(CallRefusal.Cause.insufficientCredit, EndReason.accountBalanceNotEnough),
                                (.accountLocked, .accountLocked), (.noRate, .accountBalanceNotEnough)] {
            let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)], account: "acme")
            lab.ledger.refusal = CallRefusal(cause: cause, detail: "test")
            lab.customerInvite()
            let out = lab.drain()
            #expect(out.requests("INVITE").isEmpty, "\(cause): no vendor is tried")
            #expect(out.finalResponses.first { $0.to == CallHarness.customer }?.message.statusCode == CallRefusal(cause: cause, detail: "").sipCode)
            #expect(lab.ledger.records.first?.endReason == reason)
        }
    }

    @Test func aCustomerOverItsCPSIsRateLimited() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)]) { $0.cpsLimit = 1 }
        lab.customerInvite()
        _ = lab.drain()
        lab.customerInvite()
        let refused = lab.drain().finalResponses.first { $0.to == CallHarness.customer }
        #expect(refused?.message.statusCode == 503)
        #expect(refused?.message.firstHeaderValue("Retry-After") != nil)
        #expect(lab.ledger.records.last?.endReason == .rateLimited)
    }

    @Test func aCustomerAtItsConcurrentLimitIsConcurrentLimit() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)]) { $0.concurrentLimit = 1 }
        _ = try lab.connect()
        lab.customerInvite()
        #expect(finalToCustomer(lab) == 503)
        #expect(lab.ledger.records.last?.endReason == .concurrentLimit)
    }

    @Test func aFilteredCalleeIsBlacklisted() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)]) { $0.calleeFilter = PrefixFilter(deny: ["4490"]) }
        lab.customerInvite("449012345")
        #expect(finalToCustomer(lab) == 403)
        #expect(lab.ledger.records.first?.endReason == .blacklisted)
    }

    @Test func anUnknownSourceOrADisabledGatewayIsRefused() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)]) { $0.enabled = false }
        lab.customerInvite()
        #expect(finalToCustomer(lab) == 403)
        #expect(lab.ledger.records.first?.endReason == .unauthorizedSource)
        #expect(lab.b2bua.forbiddenBySource["192.0.2.10"] == nil, "a switched-off customer is not fed to the ban set")
        lab.receive("""
        INVITE sip:441234567@192.0.2.1 SIP/2.0
        Via: SIP/2.0/UDP 203.0.113.66:5060;branch=z9hG4bK-stranger
        Max-Forwards: 70
        From: <sip:1@203.0.113.66>;tag=x
        To: <sip:441234567@192.0.2.1>
        Call-ID: stranger@203.0.113.66
        CSeq: 1 INVITE
        Content-Length: 0


        """, from: .literal("203.0.113.66", 5060))
        #expect(lab.drain().finalResponses.first?.message.statusCode == 403)
        #expect(lab.b2bua.forbiddenBySource["203.0.113.66"] == 1, "a stranger's 403 is counted for the ban feed")
    }

    @Test func theRelayRefusingInMustOnIsMediaUnavailable() throws {
        let lab = try CallHarness(parameters: [.mediaProxyMode: "3"], vendors: [CallHarness.vendor("uk", host: 20)])
        lab.media.refuses = true
        lab.customerInvite()
        let out = lab.drain()
        #expect(out.requests("INVITE").isEmpty)
        #expect(out.finalResponses.first { $0.to == CallHarness.customer }?.message.statusCode == 503)
        #expect(lab.ledger.records.first?.endReason == .mediaUnavailable)
    }

    @Test func aVendorFailureAfterFailoverIsVendorFailureWithItsCode() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("a", host: 20, priority: 1), CallHarness.vendor("b", host: 21, priority: 2)])
        lab.customerInvite()
        let first = try #require(lab.drain().requests("INVITE").first)
        lab.respond(to: first.message, status: 503, reason: "Service Unavailable", from: first.to)
        let second = try #require(lab.drain().requests("INVITE").first)
        #expect(second.to == CallHarness.vendor(21), "503 does not stop failover")
        lab.respond(to: second.message, status: 502, reason: "Bad Gateway", from: second.to)
        #expect(finalToCustomer(lab) == 502)
        let record = try #require(lab.ledger.records.first)
        #expect(record.endReason == .vendorFailure)
        #expect(record.attempts.map(\.sipCode) == [503, 502])
    }

    @Test func theCustomerCancellingWhileItRingsIsCallerCancel() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)])
        let callID = lab.customerInvite()
        let invite = try #require(lab.drain().requests("INVITE").first)
        lab.respond(to: invite.message, status: 180, reason: "Ringing", from: invite.to)
        _ = lab.drain()
        lab.receive("""
        CANCEL sip:441234567@192.0.2.1 SIP/2.0
        Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-inv1
        Max-Forwards: 70
        From: <sip:1000@192.0.2.10>;tag=caller1
        To: <sip:441234567@192.0.2.1>
        Call-ID: \(callID)
        CSeq: 1 CANCEL
        Content-Length: 0


        """, from: CallHarness.customer)
        let out = lab.drain()
        #expect(out.responses(487).first?.to == CallHarness.customer)
        #expect(out.requests("CANCEL").first?.to == CallHarness.vendor(20))
        #expect(lab.ledger.records.first?.endReason == .callerCancel)
    }

    @Test func theVendorHangingUpIsCalleeHangup() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)])
        let call = try lab.connect()
        lab.advance(seconds: 12)
        try lab.vendorRequest("BYE", in: call)
        let out = lab.drain()
        #expect(out.requests("BYE").first?.to == CallHarness.customer)
        #expect(try out.requests("BYE").first?.message.topVia().host == "192.0.2.1", "the customer's BYE comes from the address it knows")
        let record = try #require(lab.ledger.records.first)
        #expect(record.endReason == .calleeHangup)
        #expect(record.hangupSide == .callee)
    }

    @Test func theConversationLimitHangsUpBoth() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20) { $0.conversationLimit = 60 }])
        _ = try lab.connect()
        lab.advance(seconds: 59)
        #expect(lab.drain().requests("BYE").isEmpty)
        lab.advance(seconds: 2)
        #expect(Set(lab.drain().requests("BYE").map(\.to)) == [CallHarness.customer, CallHarness.vendor(20)])
        #expect(lab.ledger.records.first?.endReason == .conversationLimit)
    }

    @Test func exhaustedCreditIsBalanceExhausted() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)], account: "acme")
        lab.ledger.answeredDeadline = CallDeadline(connectedSeconds: 90, isFinal: true, releaseAt: lab.loop.wallMilliseconds + 90_000, extendAt: nil)
        _ = try lab.connect()
        lab.advance(seconds: 89)
        #expect(lab.drain().requests("BYE").isEmpty)
        lab.advance(seconds: 2)
        #expect(Set(lab.drain().requests("BYE").map(\.to)) == [CallHarness.customer, CallHarness.vendor(20)])
        #expect(lab.ledger.records.first?.endReason == .balanceExhausted)
    }

    @Test func noMediaIsRtpTimeout() throws {
        let lab = try CallHarness(parameters: [.mediaProxyMode: "3"], vendors: [CallHarness.vendor("uk", host: 20)])
        _ = try lab.connect()
        lab.b2bua.mediaTimedOut(session: "s1")
        lab.loop.run()
        #expect(Set(lab.drain().requests("BYE").map(\.to)) == [CallHarness.customer, CallHarness.vendor(20)])
        #expect(lab.ledger.records.first?.endReason == .rtpTimeout)
    }

    @Test func aCustomerThatNeverAcknowledgesIsAckTimeout() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)])
        _ = try lab.connect(acknowledge: false)
        lab.advance(seconds: 1.6)
        #expect(lab.drain().responses(200).filter { $0.to == CallHarness.customer }.count == 2, "2xx retransmitted at T1, 2*T1")
        lab.advance(seconds: 30)
        #expect(lab.drain().requests("BYE").isEmpty)
        // 64*T1 after the answer the retransmissions stop and the call is torn down at the next one's time.
        lab.advance(seconds: 4)
        #expect(Set(lab.drain().requests("BYE").map(\.to)) == [CallHarness.customer, CallHarness.vendor(20)])
        #expect(lab.ledger.records.first?.endReason == .ackTimeout)
    }
}

@Suite struct VendorFailureRelayTests {
    @Test func theVendorsReasonAndRetryAfterReachTheCaller() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20)])
        lab.customerInvite()
        let invite = try #require(lab.drain().requests("INVITE").first)
        lab.respond(to: invite.message, status: 503, reason: "Trunk Full", from: invite.to,
                    headers: [("Reason", "Q.850;cause=34;text=\"No circuit available\""), ("Retry-After", "120")])
        let final = try #require(lab.drain().finalResponses.first { $0.to == CallHarness.customer }?.message)
        #expect(final.statusCode == 503)
        #expect(final.reasonPhrase == "Trunk Full")
        #expect(final.firstHeaderValue("Reason") == "Q.850;cause=34;text=\"No circuit available\"")
        #expect(final.firstHeaderValue("Retry-After") == "120")
        #expect(lab.ledger.records.first?.endReason == .vendorFailure)
    }
}
