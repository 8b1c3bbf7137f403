import Foundation
import Testing
import VOSTestSupport

/// `vosctl route explain` with no controller running: the store's configuration through the
/// same planner, every gateway online and idle, schedules judged at `--at`.
@Suite struct RouteExplainCommandTests {
    @Test func explainsTheTryOrderFromTheStoreWhenNoControllerRuns() throws {
        let scratch = try Scratch()
        defer { withExtendedLifetime(scratch) {} }
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try vosctl.ok("init")
        try vosctl.ok("param", "set", "SS_TIME_ZONE", "UTC")
        try vosctl.ok("param", "set", "SS_ROUTING_SORT", "lcr")
        for (name, price, priority) in [("dear", "0.0300", "1"), ("cheap", "0.0050", "3"), ("middle", "0.0080", "2")] {
            let file = scratch.child("\(name).csv")
            try "44,\(price),1,1\n".write(toFile: file, atomically: true, encoding: .utf8)
            try vosctl.ok("rate", "import", "\(name)-rates", file)
            try vosctl.ok("account", "add", "\(name)-acct", "--type", "prepaid", "--rate-table", "\(name)-rates")
            try vosctl.ok("gateway", "add", "routing", name, "--address", "198.51.100.7:5060", "--prefix", "44",
                          "--priority", priority, "--clearing-account", "\(name)-acct")
        }
        try vosctl.ok("account", "add", "acme", "--type", "postpaid")
        try vosctl.ok("gateway", "add", "mapping", "cust", "--ip", "203.0.113.5", "--account", "acme")
        try vosctl.ok("schedule", "add", "weekdays", "--window", "mon-fri 08:00-18:00")
        try vosctl.ok("gateway", "set", "cheap", "--schedule", "weekdays")

        func order(at time: String) throws -> [[String: Any]] {
            let output = try vosctl.ok("route", "explain", "4420123", "--from", "cust", "--at", time, "--json")
            return try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]])
        }
        // A Tuesday afternoon: the cheapest vendor is open.
        let open = try order(at: "2026-12-01 14:00")
        #expect(open.map { $0["name"] as? String } == ["cheap", "middle", "dear"])
        #expect(open.map { $0["position"] as? Int } == [1, 2, 3])
        // Saturday: it is left out, and says why.
        let closed = try order(at: "2026-12-05 14:00")
        #expect(closed.prefix(2).map { $0["name"] as? String } == ["middle", "dear"])
        let cheap = try #require(closed.first { $0["name"] as? String == "cheap" })
        #expect(cheap["reason"] as? String == "time window")
        #expect(cheap["position"] == nil || cheap["position"] is NSNull)
        // The table says it computed without a controller.
        let text = try vosctl.ok("route", "explain", "4420123", "--from", "cust")
        #expect(text.contains("vos-controller is not running"), "\(text)")
        // A mapping gateway that does not exist is refused by name.
        let refused = try vosctl.run(["route", "explain", "4420123", "--from", "nobody"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("mapping gateway 'nobody' does not exist"), "\(refused.stderr)")
    }
}
