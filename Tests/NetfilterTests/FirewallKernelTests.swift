import Foundation
import Testing
@testable import Netfilter

@Suite("Firewall in the kernel", .serialized, .timeLimit(.minutes(1)))
struct FirewallKernelTests {
    let policy = FirewallPolicy(trustedSources: ["198.51.100.7", "2001:db8::7"].compactMap(IPPrefix.init))

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
        print(first)
        #expect(first == second)
        #expect(try ns.exec(["nft", "list", "table", "ip", "other"]) == otherBefore)
        #expect(first.contains("comment \"scanner User-Agent: friendly-scanner\""))
        let drift = try ns.inside { try NftablesClient().audit(table) }
        #expect(drift.isEmpty, "\(drift)")
    }
}
