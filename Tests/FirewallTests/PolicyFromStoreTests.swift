import Foundation
import Testing
import Firewall
import Netfilter
import VOSModel

/// The store -> policy mapping, without a kernel.
@Suite("Firewall policy from the store")
struct PolicyFromStoreTests {
    static let nftDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("nft")

    /// The committed file is what a fresh store renders, so the parameter defaults and the
    /// Netfilter defaults cannot drift apart.
    @Test func defaultParametersRenderTheCommittedRuleset() throws {
        let configuration = StoredFirewallConfiguration.from(parameters: .defaults, mappingGateways: [], routingGateways: [])
        #expect(configuration.enabled)
        #expect(configuration.settings == FirewallSettings())
        #expect(configuration.settings.compile().policy == FirewallPolicy.defaults)
        let committed = try String(contentsOf: Self.nftDirectory.appendingPathComponent("vos_filter.nft"), encoding: .utf8)
        #expect(FirewallService.render(configuration) == committed)
    }

    @Test func gatewaysParametersAndRTPRangeReachThePolicy() throws {
        var parameters = ParameterSet()
        try parameters.set(.firewallSIPPorts, to: "5060,5080")
        try parameters.set(.firewallManagementSubnets, to: "192.0.2.0/24")
        try parameters.set(.firewallOptionsRate, to: "7")
        try parameters.set(.firewallBanTime, to: "30")
        try parameters.set(.mediaProxyPortStart, to: "20000")
        try parameters.set(.mediaProxyPortEnd, to: "29999")
        var customer = MappingGateway(name: "cust", ips: [try IPAddress(parsing: "198.51.100.7"), try IPAddress(parsing: "2001:db8::7")])
        var disabled = MappingGateway(name: "off", ips: [try IPAddress(parsing: "198.51.100.9")])
        disabled.enabled = false
        customer.enabled = true
        let vendor = RoutingGateway(name: "carrier", address: SIPAddress(host: "203.0.113.20"), prefixes: [""])
        let named = RoutingGateway(name: "dns", address: SIPAddress(host: "sip.example.net"), prefixes: [""])
        let configuration = StoredFirewallConfiguration.from(
            parameters: parameters, mappingGateways: [customer, disabled], routingGateways: [vendor, named])
        let compiled = configuration.settings.compile()
        #expect(compiled.policy.trustedSources.map(\.nftText) == ["198.51.100.7", "203.0.113.20", "2001:db8::7"])
        #expect(compiled.untrustedGatewayNames == ["sip.example.net"])
        #expect(compiled.policy.sipUDPPorts == [5060, 5080] && compiled.policy.sipTCPPorts == [5060, 5080])
        #expect(compiled.policy.managementSubnets.map(\.nftText) == ["192.0.2.0/24"])
        #expect(compiled.policy.rtpPorts == 20000...29999)
        #expect(compiled.policy.methodLimits.first == .init(method: "OPTIONS ", packetsPerSecond: 7, burst: 10))
        #expect(compiled.policy.banSeconds == 30)
        let text = FirewallService.render(configuration)
        #expect(text.hasPrefix("# gateway host \"sip.example.net\" is a DNS name"))
        #expect(text.contains("udp dport 20000-29999 counter accept"))
    }

    @Test func banDurationsParseAndBadOnesAreRefused() throws {
        #expect(try BanDuration.seconds("600") == 600)
        #expect(try BanDuration.seconds("600s") == 600)
        #expect(try BanDuration.seconds("10m") == 600)
        #expect(try BanDuration.seconds("1h") == 3600)
        #expect(try BanDuration.seconds("7d") == 604_800)
        for bad in ["", "m", "10x", "-5m", "0s", "8d", "1.5h", "99999999999999s", "١٠m"] {
            #expect(throws: BanDuration.Invalid.self, "\(bad)") { try BanDuration.seconds(bad) }
        }
        #expect(BanDuration.describe(298) == "4m58s")
    }

    @Test func banAddressesMustBeSingleHosts() throws {
        #expect(try FirewallService.parseAddress("203.0.113.9").description == "203.0.113.9")
        #expect(try FirewallService.parseAddress("2001:db8::9").description == "2001:db8::9")
        for bad in ["203.0.113", "203.0.113.0/24", "203.0.113.9:5060", "example.com", "0.0.0.0", "::", ""] {
            #expect(throws: (any Error).self, "\(bad)") { try FirewallService.parseAddress(bad) }
        }
    }
}
