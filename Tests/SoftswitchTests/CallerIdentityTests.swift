import Testing
import VOSModel
@testable import Softswitch

@Suite struct CallerIdentityTests {
    static let received = ReceivedIdentity(
        fromUser: "1001", fromDisplayName: "01712345678", remotePartyIDUser: "2002",
        assertedIdentities: ["<sip:3003@customer.example>"], assertedIdentityUser: "3003",
        preferredIdentities: ["<sip:4004@customer.example>"], privacy: ["id"])

    func mapping(_ configure: (inout MappingGateway) -> Void = { _ in }) throws -> MappingGateway {
        var gateway = MappingGateway(name: "cust", ips: [try IPAddress(parsing: "192.0.2.10")])
        configure(&gateway)
        return gateway
    }

    func vendor(pai: RoutingGateway.IdentityHeaderMode, privacy: RoutingGateway.PrivacyMode,
                ppi: RoutingGateway.IdentityHeaderMode) -> RoutingGateway {
        var gateway = RoutingGateway(name: "v", address: SIPAddress(host: "198.51.100.20"), prefixes: ["44"])
        gateway.pAssertedIdentity = pai
        gateway.privacy = privacy
        gateway.pPreferredIdentity = ppi
        return gateway
    }

    @Test(arguments: [
        (MappingGateway.CallerNumberSource.from, "1001"), (.rpid, "2002"), (.display, "01712345678"), (.pai, "3003"),
    ])
    func callerSourcePicksTheField(source: MappingGateway.CallerNumberSource, number: String) throws {
        let caller = InboundCaller(Self.received, gateway: try mapping { $0.callerNumberSource = source })
        #expect(caller.number == number)
    }

    @Test func absentFieldsFallBackToFrom() throws {
        let bare = ReceivedIdentity(fromUser: "1001", fromDisplayName: "Alice")
        for source in MappingGateway.CallerNumberSource.allCases {
            #expect(InboundCaller(bare, gateway: try mapping { $0.callerNumberSource = source }).number == "1001", "\(source)")
        }
    }

    @Test func anUntrustedCustomerAssertsNothingByDefault() throws {
        let caller = InboundCaller(Self.received, gateway: try mapping())
        #expect(caller.assertedIdentities.isEmpty && caller.preferredIdentities.isEmpty && caller.privacy.isEmpty)
        // The routing gateway's defaults (PAI passthrough, Privacy passthrough, PPI none) then send nothing of the customer's.
        let defaults = RoutingGateway(name: "v", address: SIPAddress(host: "198.51.100.20"), prefixes: ["44"])
        #expect(OutboundIdentity.headers(for: defaults, caller: caller, callerOut: "1001", host: "198.51.100.1") == [])
    }

    @Test func aTrustedCustomerWithPrivacySupportIsPassedThrough() throws {
        let caller = InboundCaller(Self.received, gateway: try mapping { $0.trustedIdentity = true; $0.supportPrivacy = true })
        let headers = OutboundIdentity.headers(for: vendor(pai: .passthrough, privacy: .passthrough, ppi: .passthrough),
                                               caller: caller, callerOut: "1001", host: "198.51.100.1")
        #expect(headers == [IdentityHeader("P-Asserted-Identity", "<sip:3003@customer.example>"), IdentityHeader("Privacy", "id"),
                            IdentityHeader("P-Preferred-Identity", "<sip:4004@customer.example>")])
    }

    @Test func trustAndPrivacySupportAreSeparateGates() throws {
        let trustedOnly = InboundCaller(Self.received, gateway: try mapping { $0.trustedIdentity = true })
        #expect(trustedOnly.assertedIdentities.count == 1 && trustedOnly.privacy.isEmpty)
        let privacyOnly = InboundCaller(Self.received, gateway: try mapping { $0.supportPrivacy = true })
        #expect(privacyOnly.assertedIdentities.isEmpty && privacyOnly.privacy == ["id"])
    }

    @Test func callerModeBuildsFromTheNumberSentAndIdAlwaysHides() throws {
        let caller = InboundCaller(Self.received, gateway: try mapping())
        let headers = OutboundIdentity.headers(for: vendor(pai: .caller, privacy: .id, ppi: .caller),
                                               caller: caller, callerOut: "+8801712345678", host: "198.51.100.1")
        #expect(headers == [IdentityHeader("P-Asserted-Identity", "<sip:+8801712345678@198.51.100.1>"), IdentityHeader("Privacy", "id"),
                            IdentityHeader("P-Preferred-Identity", "<sip:+8801712345678@198.51.100.1>")])
    }

    @Test func noneSendsNothingEvenFromATrustedCustomer() throws {
        let caller = InboundCaller(Self.received, gateway: try mapping { $0.trustedIdentity = true; $0.supportPrivacy = true })
        #expect(OutboundIdentity.headers(for: vendor(pai: .none, privacy: .none, ppi: .none), caller: caller,
                                         callerOut: "1001", host: "198.51.100.1") == [])
    }
}

@Suite struct DialPlanRoutingTests {
    @Test func candidatesCarryTheNumbersTheirDialPlansMake() throws {
        var bangladesh = vendor("bd", ["880"])
        bangladesh.calleeRewrite = try DialPlan(parsing: "880:0", field: "f")
        bangladesh.callerRewrite = try DialPlan(parsing: ":+", field: "f")
        let plain = vendor("plain", ["880"], priority: 2)
        let candidates = RoutePlanner.candidates(for: "8801712345678", caller: "4420", among: [bangladesh, plain], status: { _ in GatewayStatus() })
        #expect(candidates.map(\.gateway.name) == ["bd", "plain"])
        #expect(candidates.map(\.calleeOut) == ["01712345678", "8801712345678"])
        #expect(candidates.map(\.callerOut) == ["+4420", "4420"])
        #expect(RoutePlanner.candidates(for: "8801712345678", among: [bangladesh], status: { _ in GatewayStatus() }).first?.callerOut == nil)
    }

    @Test func aGatewayWhosePlanDeniesTheNumberIsNoCandidate() throws {
        var premiumBlocked = vendor("cheap", ["44"])
        premiumBlocked.calleeRewrite = try DialPlan(parsing: "449:!", field: "f")
        var noAnonymous = vendor("strict", ["44"], priority: 2)
        noAnonymous.callerRewrite = try DialPlan(parsing: "0000:!", field: "f")
        let backup = vendor("backup", ["44"], priority: 3)
        let status: (String) -> GatewayStatus = { _ in GatewayStatus() }
        let gateways = [premiumBlocked, noAnonymous, backup]
        #expect(RoutePlanner.candidates(for: "449001", caller: "1001", among: gateways, status: status).map(\.gateway.name) == ["strict", "backup"])
        #expect(RoutePlanner.candidates(for: "447001", caller: "0000", among: gateways, status: status).map(\.gateway.name) == ["cheap", "backup"])
        #expect(RoutePlanner.candidates(for: "449001", caller: "0000", among: gateways, status: status).map(\.gateway.name) == ["backup"])
    }
}
