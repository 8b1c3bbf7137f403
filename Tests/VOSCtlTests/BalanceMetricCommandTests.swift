import Foundation
import Testing
import VOSTestSupport

/// The account flag behind vos-controller's `vos_account_balance` gauge: set, shown and cleared
/// with vosctl (docs/OBSERVABILITY.md, "Metrics").
@Suite struct BalanceMetricCommandTests {
    @Test func balanceMetricIsSetShownAndCleared() throws {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try vosctl.ok("init")
        try vosctl.ok("account", "add", "acme", "--type", "prepaid", "--balance", "10", "--balance-metric")
        try vosctl.ok("account", "add", "plain", "--type", "postpaid")
        func shown(_ name: String) throws -> [String: Any] { try #require(try vosctl.json("account", "show", name) as? [String: Any]) }
        #expect(try shown("acme")["balanceMetric"] as? Bool == true)
        #expect(try shown("plain")["balanceMetric"] == nil, "off is not stored")
        #expect(try tableValue(vosctl.ok("account", "show", "acme")) == "on")
        #expect(try tableValue(vosctl.ok("account", "show", "plain")) == "off")

        try vosctl.ok("account", "set", "plain", "--balance-metric")
        #expect(try shown("plain")["balanceMetric"] as? Bool == true)
        try vosctl.ok("account", "set", "acme", "--no-balance-metric")
        #expect(try shown("acme")["balanceMetric"] == nil, "cleared, not stored as false")
        #expect(try tableValue(vosctl.ok("account", "show", "acme")) == "off")
        // Other fields are untouched by the flag.
        #expect(try shown("acme")["balance"] as? String == "10.0000")
    }

    /// The VALUE of the "balance metric" row of `account show`'s table.
    private func tableValue(_ table: String) -> String? {
        table.split(separator: "\n").first { $0.hasPrefix("balance metric ") }
            .map { $0.dropFirst("balance metric".count).trimmingCharacters(in: .whitespaces) }
    }
}
