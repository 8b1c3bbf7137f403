import Foundation
import Testing
import VOSModel
@testable import Netfilter

@Suite("Rendered ruleset files")
struct RenderedFileTests {
    static let nftDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("nft")

    static let files: [(String, String)] = [
        ("vos_filter.nft", RulesetFiles.firewall()),
        ("vos_media.nft", RulesetFiles.media()),
        ("vos_capture.nft", RulesetFiles.capture()),
    ]

    /// Set VOS_REGENERATE_NFT=1 to rewrite the committed files after an intended change.
    @Test func committedFilesMatchRenderer() throws {
        for (name, rendered) in Self.files {
            let url = Self.nftDirectory.appendingPathComponent(name)
            if ProcessInfo.processInfo.environment["VOS_REGENERATE_NFT"] == "1" {
                try rendered.write(to: url, atomically: true, encoding: .utf8)
            }
            let committed = try String(contentsOf: url, encoding: .utf8)
            #expect(committed == rendered, "nft/\(name) is stale; regenerate with VOS_REGENERATE_NFT=1")
        }
    }

    @Test func rendererIsDeterministic() {
        #expect(RulesetFiles.firewall() == RulesetFiles.firewall())
    }

    @Test(.timeLimit(.minutes(3))) func nftAcceptsCommittedFiles() throws {
        let ns = try TestNamespace("check")
        defer { ns.remove() }
        for (name, _) in Self.files {
            try ns.exec(["nft", "-c", "-f", Self.nftDirectory.appendingPathComponent(name).path])
        }
    }

    /// What `nft list` printed (nft 1.0.6) for filter chains at these hooks and priorities.
    @Test func prioritiesPrintAsNftListsThem() {
        let cases: [(Chain.BaseHook.Hook, Int32, String)] = [
            (.prerouting, -99, "dstnat + 1"), (.prerouting, -90, "dstnat + 10"), (.prerouting, -89, "-89"),
            (.prerouting, -110, "dstnat - 10"), (.input, -99, "-99"), (.input, 5, "filter + 5"), (.input, -5, "filter - 5"),
            (.input, 11, "11"), (.forward, -149, "mangle + 1"), (.postrouting, 101, "srcnat + 1"), (.input, 100, "100"),
            (.output, -100, "-100"), (.input, 50, "security"), (.input, -300, "raw"), (.forward, 0, "filter"),
        ]
        for (hook, priority, expected) in cases {
            #expect(RulesetRenderer.priorityName(.init(kind: .filter, hook: hook, priority: priority)) == expected)
        }
    }

    @Test func scannerRulesAreCommentedWithTheirPattern() {
        let text = RulesetFiles.firewall()
        for agent in FirewallPolicy.knownScannerUserAgents {
            #expect(text.contains("# xt string \"\(agent)\" algo bm from 0 to 65535 counter drop comment \"scanner User-Agent: \(agent)\""))
        }
    }

    /// The SIP checks must come before the established accept (the seed script's flaw).
    @Test func sipGuardRunsBeforeEstablishedAccept() throws {
        let input = try #require(FirewallCompiler.compile(.defaults).chains.first { $0.name == "input" })
        let jump = try #require(input.rules.firstIndex { $0.terms.contains(.verdict(.jump(FirewallCompiler.guardChain))) })
        let established = try #require(input.rules.firstIndex { $0.terms.contains(.conntrackState([.established, .related])) })
        let trusted = try #require(input.rules.firstIndex { $0.comment.hasPrefix("trusted ipv4") })
        let ban = try #require(input.rules.firstIndex { $0.comment.hasPrefix("banned ipv4") })
        #expect(ban < trusted && trusted < jump && jump < established)
    }

    @Test func everyRuleHasAUniqueComment() {
        for table in [FirewallCompiler.compile(.defaults), MediaOffloadTable.model(), MediaCaptureTable.model()] {
            let comments = table.chains.flatMap(\.rules).map(\.comment)
            #expect(Set(comments).count == comments.count)
            #expect(!comments.contains(""))
        }
    }
}

@Suite("Values")
struct ValueTests {
    @Test func prefixesNormalize() throws {
        let prefixes = ["198.51.100.0/24", "198.51.100.7", "10.1.2.3/8", "2001:db8::1/32"].compactMap { try? IPPrefix(parsing: $0) }
        #expect(prefixes.count == 4)
        #expect(IPPrefix.normalized(prefixes).map(\.nftText) == ["10.0.0.0/8", "198.51.100.0/24", "2001:db8::/32"])
        #expect((try? IPPrefix(parsing: "203.0.113.255"))?.endExclusive == [203, 0, 114, 0])
        #expect((try? IPPrefix(parsing: "300.1.1.1")) == nil)
    }

    @Test func stringMatchInfoRoundTrips() throws {
        let blob = try StringMatchInfo(pattern: "friendly-scanner").blob()
        #expect(blob.count == 160)
        #expect(StringMatchInfo(blob: blob) == StringMatchInfo(pattern: "friendly-scanner"))
        #expect(throws: NetfilterError.self) { try StringMatchInfo(pattern: String(repeating: "x", count: 200)).blob() }
    }

    @Test func defaultsMatchTheRequirements() {
        let policy = FirewallPolicy.defaults
        #expect(policy.sipUDPPorts == [5060] && policy.sipTCPPorts == [5060])
        #expect(policy.methodLimits.first == .init(method: "OPTIONS ", packetsPerSecond: 5, burst: 10))
        #expect(policy.banSeconds == 600 && policy.maxFlowsPerSource == 10 && policy.maxFlowsPerNetwork == 30)
        #expect(policy.scannerUserAgents.count == 10)
    }
}

/// Loading the rendered text with `nft -f` must give the same kernel rules vos programs itself:
/// this checks the lowering against nft's own compiler.
@Suite("nft and vos agree", .serialized, .timeLimit(.minutes(3)))
struct NftAgreementTests {
    @Test func mediaFileLoadedByNftHasNoDrift() throws {
        let ns = try TestNamespace("agree-m")
        defer { ns.remove() }
        try ns.exec(["nft", "-f", RenderedFileTests.nftDirectory.appendingPathComponent("vos_media.nft").path])
        #expect(try ns.inside { try NftablesClient().audit(MediaOffloadTable.model()) }.isEmpty)
    }

    @Test func captureFileLoadedByNftHasNoDrift() throws {
        let ns = try TestNamespace("agree-c")
        defer { ns.remove() }
        try ns.exec(["nft", "-f", RenderedFileTests.nftDirectory.appendingPathComponent("vos_capture.nft").path])
        #expect(try ns.inside { try NftablesClient().audit(MediaCaptureTable.model()) }.isEmpty)
    }

    @Test func firewallFileLoadedByNftLacksOnlyTheStringRules() throws {
        let ns = try TestNamespace("agree-f")
        defer { ns.remove() }
        try ns.exec(["nft", "-f", RenderedFileTests.nftDirectory.appendingPathComponent("vos_filter.nft").path])
        let drift = try ns.inside { try NftablesClient().audit(FirewallCompiler.compile(.defaults)) }
        let missingScannerRules = drift.filter {
            if case .missingRule(chain: "sip_guard", let comment, _) = $0 { return comment.hasPrefix("scanner User-Agent: ") }
            return false
        }
        #expect(missingScannerRules.count == FirewallPolicy.knownScannerUserAgents.count)
        #expect(drift.count == missingScannerRules.count, "\(drift)")
    }
}
