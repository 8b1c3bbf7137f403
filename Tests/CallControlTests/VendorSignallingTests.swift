import SIPCore
import SIPStack
import Testing
import VOSModel

/// What a routing gateway's signalling settings put in the INVITE, and 3xx handling.
@Suite struct VendorSignallingTests {
    @Test func userPhoneAndTheOperatorsHeadersAreInTheInvite() throws {
        let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20) {
            $0.signalling.userPhone = true
            $0.signalling.headers = ["X-Carrier: acme-uk", "X-Route-Class: premium"]
        }])
        lab.customerInvite()
        let invite = try #require(lab.drain().requests("INVITE").first?.message)
        #expect(invite.requestURI?.parameters["user"] == "phone")
        #expect(invite.firstHeaderValue("To")?.contains(";user=phone>") == true)
        #expect(invite.firstHeaderValue("X-Carrier") == "acme-uk")
        #expect(invite.firstHeaderValue("X-Route-Class") == "premium")
    }

    @Test func onlyTheNamedCustomerHeadersAreForwarded() throws {
        let customerHeaders = ["X-Account: 42", "X-Trace: abc", "P-Asserted-Identity: <sip:1@192.0.2.10>"]
        for (setting, expected) in [(nil, [String]()), (["X-Account"], ["X-Account"]), (["*"], ["X-Account", "X-Trace"])] as [([String]?, [String])] {
            let lab = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20) { $0.signalling.forwardHeaders = setting }])
            lab.customerInvite(headers: customerHeaders)
            let invite = try #require(lab.drain().requests("INVITE").first?.message)
            let forwarded = ["X-Account", "X-Trace"].filter { invite.hasHeader($0) }
            #expect(forwarded == expected, "\(String(describing: setting))")
            #expect(invite.headerValues("P-Asserted-Identity").isEmpty, "identity headers follow their own settings, never forwarding")
        }
    }

    @Test func aRedirectIsFollowedAsANewAttemptOrFailsOver() throws {
        let follows = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20) { $0.signalling.redirects = .follow }])
        follows.customerInvite()
        let first = try #require(follows.drain().requests("INVITE").first)
        follows.respond(to: first.message, status: 302, reason: "Moved Temporarily", from: first.to,
                        headers: [("Contact", "<sip:441234567@198.51.100.30:5070>")])
        let second = try #require(follows.drain().requests("INVITE").first)
        #expect(second.to == .literal("198.51.100.30", 5070))
        follows.respond(to: second.message, status: 200, reason: "OK", from: second.to, sdp: CallHarness.answerSDP)
        #expect(follows.drain().responses(200).contains { $0.to == CallHarness.customer })

        let fails = try CallHarness(vendors: [CallHarness.vendor("uk", host: 20, priority: 1), CallHarness.vendor("backup", host: 21, priority: 2)])
        fails.customerInvite()
        let redirected = try #require(fails.drain().requests("INVITE").first)
        fails.respond(to: redirected.message, status: 302, reason: "Moved Temporarily", from: redirected.to,
                      headers: [("Contact", "<sip:441234567@198.51.100.30:5070>")])
        #expect(fails.drain().requests("INVITE").first?.to == CallHarness.vendor(21), "by default a 3xx is a failure: the next gateway")
    }
}
