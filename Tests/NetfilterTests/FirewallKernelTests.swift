import Foundation
import Testing
import VOSModel
@testable import Netfilter

/// The firewall programmed into a real kernel: `server` runs vos_filter at 203.0.113.2,
/// `client` is an untrusted SIP peer at 203.0.113.1.
@Suite("Firewall in the kernel", .serialized, .timeLimit(.minutes(3)))
struct FirewallKernelTests {
    let policy = FirewallPolicy(trustedSources: ["198.51.100.7", "2001:db8::7"].compactMap { try? IPPrefix(parsing: $0) })

    func withServerAndClient(_ label: String, _ body: (TestNamespace, TestNamespace) throws -> Void) throws {
        let server = try TestNamespace("\(label)s")
        defer { server.remove() }
        let client = try TestNamespace("\(label)c")
        defer { client.remove() }
        try VethPair.make(client, server)
        try body(server, client)
    }

    @Test func applyTwiceChangesNothingAndLeavesOtherTablesAlone() throws {
        let ns = try TestNamespace("apply")
        defer { ns.remove() }
        try ns.exec(["nft", "add table ip other; add chain ip other c; add rule ip other c counter accept"])
        let otherBefore = try ns.exec(["nft", "list", "table", "ip", "other"])
        let table = FirewallCompiler.compile(policy)
        try ns.inside { try NftablesClient().apply(table) }
        let first = try ns.exec(["nft", "list", "table", "inet", "vos_filter"])
        try ns.inside { try NftablesClient().apply(table) }
        let second = try ns.exec(["nft", "list", "table", "inet", "vos_filter"])
        #expect(first == second)
        #expect(try ns.exec(["nft", "list", "table", "ip", "other"]) == otherBefore)
        #expect(first.contains("xt match string counter packets 0 bytes 0 drop comment \"scanner User-Agent: friendly-scanner\""))
        #expect(first.contains("@th,64,64 0x4f5054494f4e5320 update @options_meter_v4 { ip saddr limit rate over 5/second burst 10 packets } add @ban_v4 { ip saddr timeout 10m }"))
        let drift = try ns.inside { try NftablesClient().audit(table) }
        #expect(drift.isEmpty, "\(drift)")
    }

    /// Apart from counters and the string rules, `nft list` prints what the renderer prints.
    @Test func liveListingMatchesRenderedRules() throws {
        let ns = try TestNamespace("list")
        defer { ns.remove() }
        let table = FirewallCompiler.compile(.defaults)
        try ns.inside { try NftablesClient().apply(table) }
        let live = try ns.exec(["nft", "list", "table", "inet", "vos_filter"])
        func ruleLines(_ text: String, dropping marker: String) -> [String] {
            text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { $0.contains("comment \"") && !$0.contains(marker) && !$0.hasPrefix("libxtables") }
                .map { $0.replacingOccurrences(of: #"counter packets \d+ bytes \d+"#, with: "counter", options: .regularExpression) }
        }
        let rendered = ruleLines(RulesetRenderer.render(table), dropping: "# xt string")
        #expect(ruleLines(live, dropping: "xt match string") == rendered)
    }

    @Test func scannerUserAgentIsDroppedAndOthersPass() throws {
        try withServerAndClient("scan") { server, client in
            try server.inside { try NftablesClient().apply(FirewallCompiler.compile(policy)) }
            let received = try server.inside { () -> [String] in
                let fd = try UDP.receiver(port: 5060)
                try client.inside {
                    try UDP.send("INVITE sip:100@x SIP/2.0\r\nUser-Agent: friendly-scanner\r\n\r\n", to: "203.0.113.2", port: 5060)
                    try UDP.send("INVITE sip:100@x SIP/2.0\r\nUser-Agent: Linphone\r\n\r\n", to: "203.0.113.2", port: 5060)
                }
                return UDP.drain(fd)
            }
            #expect(received.count == 1)
            #expect(received.first?.contains("Linphone") == true)
            let live = try #require(try server.inside { try NftablesClient().read(.inet, FirewallCompiler.tableName) })
            let scannerRule = try #require(live.rules.first { $0.comment == "scanner User-Agent: friendly-scanner" })
            #expect(scannerRule.packets == 1)
            #expect(scannerRule.description.contains("[ match string rev 1 \"friendly-scanner\" algo bm from 0 to 65535 ]"))
        }
    }

    @Test func optionsFloodBansTheSource() throws {
        try withServerAndClient("flood") { server, client in
            try server.inside { try NftablesClient().apply(FirewallCompiler.compile(policy)) }
            try client.inside {
                try UDP.send("OPTIONS sip:probe@203.0.113.2 SIP/2.0\r\n\r\n", to: "203.0.113.2", port: 5060, count: 40)
            }
            let bans = try server.inside { try NftablesClient().bans() }
            #expect(bans.map(\.address) == [IPAddress("203.0.113.1")])
            #expect((bans.first?.expiresInSeconds ?? 0) > 500)
            let listing = try server.exec(["nft", "list", "set", "inet", "vos_filter", "ban_v4"])
            #expect(listing.contains("203.0.113.1"))
            // Banned: even a well-formed INVITE no longer gets through.
            let received = try server.inside { () -> [String] in
                let fd = try UDP.receiver(port: 5060)
                try client.inside { try UDP.send("INVITE sip:1@x SIP/2.0\r\n\r\n", to: "203.0.113.2", port: 5060) }
                return UDP.drain(fd)
            }
            #expect(received.isEmpty)
        }
    }

    @Test func ipv6OptionsFloodBansTheSource() throws {
        try withServerAndClient("flood6") { server, client in
            try client.exec(["ip", "-6", "addr", "add", "2001:db8:1::1/64", "dev", client.firstVeth(), "nodad"])
            try server.exec(["ip", "-6", "addr", "add", "2001:db8:1::2/64", "dev", server.firstVeth(), "nodad"])
            try server.inside { try NftablesClient().apply(FirewallCompiler.compile(policy)) }
            try client.inside {
                try UDP.sendIPv6("OPTIONS sip:probe@[2001:db8:1::2] SIP/2.0\r\n\r\n", to: "2001:db8:1::2", port: 5060, count: 40)
            }
            let bans = try server.inside { try NftablesClient().bans() }
            #expect(bans.map(\.address) == [IPAddress("2001:db8:1::1")])
        }
    }

    /// SIP over TCP is inspected too (the seed script only covered UDP).
    @Test func scannerOverTCPIsDropped() throws {
        try withServerAndClient("tcp") { server, client in
            try server.inside { try NftablesClient().apply(FirewallCompiler.compile(policy)) }
            func exchange(_ userAgent: String) throws -> String {
                try server.inside { () -> String in
                    let listener = try TCP.listen(port: 5060)
                    let connection = try client.inside {
                        try TCP.connectAndSend("OPTIONS sip:x SIP/2.0\r\nUser-Agent: \(userAgent)\r\n\r\n", to: "203.0.113.2", port: 5060)
                    }
                    defer { close(connection) }
                    return TCP.acceptAndRead(listener)
                }
            }
            #expect(try exchange("sipvicious").isEmpty)
            #expect(try exchange("Zoiper").contains("Zoiper"))
        }
    }

    @Test func banOperationsKeepReasonAndSurviveReapply() throws {
        let ns = try TestNamespace("ban")
        defer { ns.remove() }
        let table = FirewallCompiler.compile(policy)
        try ns.inside {
            let client = try NftablesClient()
            try client.apply(table)
            try client.ban(try #require(IPAddress("192.0.2.9")), seconds: 300, reason: "auth failures")
            try client.ban(try #require(IPAddress("2001:db8:bad::1")), seconds: 60, reason: "scanner UA")
        }
        let listing = try ns.exec(["nft", "list", "set", "inet", "vos_filter", "ban_v4"])
        #expect(listing.contains("192.0.2.9 timeout 5m expires"))
        #expect(listing.contains("comment \"auth failures\""))
        try ns.inside { try NftablesClient().apply(table) }
        let bans = try ns.inside { try NftablesClient().bans() }
        #expect(bans.count == 2)
        #expect(bans.first { $0.address == IPAddress("192.0.2.9") }?.reason == "auth failures")
        #expect(bans.first { $0.address == IPAddress("2001:db8:bad::1") }?.timeoutSeconds == 60)
        try ns.inside { try NftablesClient().ban(try #require(IPAddress("192.0.2.9")), seconds: 900, reason: "auth failures again") }
        #expect(try ns.inside { try NftablesClient().bans() }.first { $0.address == IPAddress("192.0.2.9") }?.timeoutSeconds == 900)
        #expect(try ns.inside { try NftablesClient().unban(try #require(IPAddress("192.0.2.9"))) })
        #expect(try ns.inside { try NftablesClient().unban(try #require(IPAddress("192.0.2.9"))) } == false)
        #expect(try ns.inside { try NftablesClient().bans() }.count == 1)
    }

    @Test func auditReportsHandEdits() throws {
        let ns = try TestNamespace("drift")
        defer { ns.remove() }
        let table = FirewallCompiler.compile(policy)
        try ns.inside { try NftablesClient().apply(table) }
        let handles = try ns.exec(["nft", "-a", "list", "chain", "inet", "vos_filter", "input"])
        let rtpLine = try #require(handles.split(separator: "\n").first { $0.contains("RTP/RTCP relay port range") })
        let handle = try #require(rtpLine.split(separator: " ").last)
        try ns.exec(["nft", "delete", "rule", "inet", "vos_filter", "input", "handle", String(handle)])
        try ns.exec(["nft", "add", "rule", "inet", "vos_filter", "input", "tcp", "dport", "3306", "accept"])
        try ns.exec(["nft", "add", "element", "inet", "vos_filter", "sip_udp_ports", "{ 5070 }"])
        let drift = try ns.inside { try NftablesClient().audit(table) }
        #expect(drift.contains { if case .missingRule(chain: "input", comment: "RTP/RTCP relay port range", _) = $0 { return true } else { return false } })
        #expect(drift.contains { if case .extraRule(chain: "input", _, comment: nil, _) = $0 { return true } else { return false } })
        #expect(drift.contains(.changedElements(set: "sip_udp_ports", missing: 0, extra: 1)))
        #expect(drift.count == 3, "\(drift)")
        try ns.inside { try NftablesClient().apply(table) }
        #expect(try ns.inside { try NftablesClient().audit(table) }.isEmpty)
    }

    /// Comments longer than nft's limit, or with quotes, still round-trip through the audit.
    @Test func longAndQuotedPatternsAuditClean() throws {
        let ns = try TestNamespace("long")
        defer { ns.remove() }
        var custom = policy
        custom.scannerUserAgents = [String(repeating: "s", count: 126), "evil \"quoted\" agent"]
        let table = FirewallCompiler.compile(custom)
        try ns.inside { try NftablesClient().apply(table) }
        #expect(try ns.inside { try NftablesClient().audit(table) }.isEmpty)
        let text = RulesetRenderer.render(table)
        #expect(text.contains("comment \"scanner User-Agent: evil 'quoted' agent\""))
    }

    @Test func missingTableIsReportedAndDeleteIsIdempotent() throws {
        let ns = try TestNamespace("missing")
        defer { ns.remove() }
        let table = FirewallCompiler.compile(policy)
        #expect(try ns.inside { try NftablesClient().audit(table) } == [.missingTable("inet vos_filter")])
        try ns.inside { try NftablesClient().delete(.inet, "vos_filter") }
    }
}
