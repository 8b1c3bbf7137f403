import Foundation
import Testing
import VOSTestSupport

/// Wholesale routing through real calls (issue 16): least cost, quality, margin protection,
/// number portability, schedules, reserved lines, and `vosctl route explain` against the running
/// controller. Customers are sipp on 127.0.0.2 (127.0.0.4 for a second customer), vendors sipp on 127.0.0.3.
@Suite(.serialized) struct WholesaleRoutingCallTests {
    /// A vendor `name` whose clearing account `name-acct` pays `price` a minute for prefix `prefix`.
    func pricedVendor(_ lab: SwitchLab, _ name: String, port: Int, price: String, priority: Int, prefix: String = "44") throws {
        let rates = try lab.scratch.write("\(name).csv", "\(prefix),\(price),1,1\n")
        try lab.vosctl.ok("rate", "import", "\(name)-rates", rates)
        try lab.vosctl.ok("account", "add", "\(name)-acct", "--type", "prepaid", "--balance", "1000", "--rate-table", "\(name)-rates")
        try lab.vendor(name, port: port, prefix: prefix, "--priority", String(priority), "--clearing-account", "\(name)-acct")
    }

    func explain(_ lab: SwitchLab, _ number: String, from gateway: String = "cust", _ extra: String...) throws -> [[String: Any]] {
        let output = try lab.vosctl.okArray(["route", "explain", number, "--from", gateway, "--json"] + extra)
        return (try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]]) ?? []
    }

    @Test func leastCostRoutingTriesTheCheapestVendorFirstAndFailsOverByPrice() throws {
        let lab = try SwitchLab()
        let dear = TestPorts.allocate(8), cheap = TestPorts.allocate(8), middle = TestPorts.allocate(8)
        try pricedVendor(lab, "dear", port: dear, price: "0.0300", priority: 1)
        try pricedVendor(lab, "cheap", port: cheap, price: "0.0050", priority: 3)
        try pricedVendor(lab, "middle", port: middle, price: "0.0080", priority: 2)
        try lab.vosctl.ok("param", "set", "SS_ROUTING_SORT", "lcr")
        try lab.startController()
        #expect(try explain(lab, "4420").map { $0["name"] as? String ?? "" } == ["cheap", "middle", "dear"],
                "route explain lists the try order")
        let cheapVendor = try lab.uas(port: cheap, scenario: try lab.scenario("uas_status", ["__STATUS__": "503"]))
        let middleVendor = try lab.uas(port: middle)
        let customer = try lab.uac("4420")
        customer.wait()
        #expect(customer.successfulCalls == 1, "\(customer.output)")
        #expect(try eventually { middleVendor.successfulCalls == 1 }, "\(middleVendor.output)")
        _ = cheapVendor
        let record = try #require(try lab.waitForCDRs(1).first)
        #expect(record["routingGateway"] as? String == "middle")
        #expect(record.attempts.map(\.gateway) == ["cheap", "middle"], "by price, never the dear one first: \(record.attempts)")
        #expect(record.attempts.first?.code == 503)
    }

    @Test func marginProtectionRefusesVendorsDearerThanTheCustomer() throws {
        let lab = try SwitchLab()
        // The customer pays 0.0100 a minute for 44 (the lab's retail table).
        let dear = TestPorts.allocate(8), fair = TestPorts.allocate(8)
        try pricedVendor(lab, "dear", port: dear, price: "0.0200", priority: 1)
        try pricedVendor(lab, "fair", port: fair, price: "0.0090", priority: 2, prefix: "4420")
        try lab.vosctl.ok("account", "set", "acme", "--margin-protection")
        try lab.startController()
        let fairVendor = try lab.uas(port: fair)
        let routed = try lab.uac("4420")
        routed.wait()
        #expect(routed.successfulCalls == 1, "\(routed.output)")
        #expect(try eventually { fairVendor.successfulCalls == 1 })
        // Only the dear vendor serves 4430: nothing may carry it at a loss.
        let refused = try lab.uac("4430", scenario: try lab.scenario("uac_expect", ["__STATUS__": "503"]))
        refused.wait()
        #expect(refused.successfulCalls == 1, "\(refused.output)")
        let records = try lab.waitForCDRs(2)
        #expect(records.map(\.reason) == ["CallerHangup", "MarginProtected"])
        #expect(records[0]["routingGateway"] as? String == "fair")
        #expect(records[1].attempts.isEmpty, "the dear vendor never saw the call")
        let why = try explain(lab, "4430")
        #expect(why.first?["name"] as? String == "dear")
        #expect((why.first?["reason"] as? String ?? "").contains("margin"), "\(why)")
    }

    @Test func portedNumbersRouteOnTheirLRNAndTheVendorSeesRn() throws {
        let lab = try SwitchLab()
        try lab.vosctl.ok("rate", "import", "retail", try lab.scratch.write("retail2.csv", "4,0.0100,1,1\n3,0.0200,1,1\n2,0.0300,1,1\n"))
        let home = TestPorts.allocate(8), ported = TestPorts.allocate(8)
        try lab.vendor("home", port: home, prefix: "2025")
        try lab.vendor("ported", port: ported, prefix: "3015")
        let table = try lab.scratch.write("lrn.csv", "number,lrn\n2025550143,3015550000\n")
        try lab.vosctl.ok("lrn", "import", table)
        try lab.vosctl.ok("param", "set", "SS_LRN_ENABLE", "1")
        // Customers dial 1 + the ten digits; the table holds ten.
        try lab.vosctl.ok("param", "set", "SS_LRN_EAT_PREFIX_LENGTH", "1")
        try lab.startController()
        let portedVendor = try lab.uas(port: ported, scenario: try lab.scenario("uas_expect_uri", ["__REGEX__": "INVITE sip:12025550143;rn=3015550000;npdi@"]))
        let customer = try lab.uac("12025550143")
        customer.wait()
        #expect(customer.successfulCalls == 1, "\(customer.output)")
        #expect(try eventually { portedVendor.successfulCalls == 1 }, "the vendor saw the dialled number with rn=: \(portedVendor.output)")
        let record = try #require(try lab.waitForCDRs(1).first)
        #expect(record["routingGateway"] as? String == "ported")
        #expect(record["routingNumber"] as? String == "3015550000")
        #expect((record["customerCost"] as? String).flatMap { Decimal(string: $0) } ?? 0 > 0, "rated on the LRN's prefix 3")
    }

    @Test func aVendorAnswering503LosesItsQualityRankOnceTheWindowFills() throws {
        let lab = try SwitchLab()
        let flakyPort = TestPorts.allocate(8), goodPort = TestPorts.allocate(8)
        try lab.vendor("flaky", port: flakyPort, "--priority", "1")
        try lab.vendor("good", port: goodPort, "--priority", "2")
        try lab.vosctl.ok("param", "set", "SS_ROUTING_SORT", "quality")
        try lab.vosctl.ok("param", "set", "SS_GATEWAY_QUALITY_MIN_CALLS", "3")
        try lab.startController()
        let flaky = try lab.uas(port: flakyPort, scenario: try lab.scenario("uas_status", ["__STATUS__": "503"]))
        try lab.uas(port: goodPort)
        // One call at a time, so each answered call has ended (and counted) before the next.
        let customer = try lab.uac("4420", calls: 7, rate: 1, ["-l", "1"], seconds: 40)
        customer.wait(seconds: 60)
        #expect(customer.successfulCalls == 7, "\(customer.output)")
        let records = try lab.waitForCDRs(7).sorted { ($0["id"] as? Int ?? 0) < ($1["id"] as? Int ?? 0) }
        #expect(records.count == 7)
        #expect(records.prefix(3).allSatisfy { $0.attempts.map(\.gateway) == ["flaky", "good"] }, "learning: \(records.map(\.attempts))")
        #expect(records.suffix(3).allSatisfy { $0.attempts.map(\.gateway) == ["good"] }, "flaky's ASR 0 puts it last: \(records.map(\.attempts))")
        let why = try explain(lab, "4420")
        #expect(why.map { $0["name"] as? String ?? "" } == ["good", "flaky"])
        let flakyQuality = try #require(why.last?["quality"] as? [String: Any])
        #expect(flakyQuality["answered"] as? Int == 0)
        #expect((flakyQuality["attempts"] as? Int ?? 0) >= 3)
    }

    @Test func aScheduledVendorIsOnlyTriedInsideItsWindow() throws {
        let lab = try SwitchLab()
        let dayPort = TestPorts.allocate(8), otherPort = TestPorts.allocate(8)
        try lab.vosctl.ok("param", "set", "SS_TIME_ZONE", "UTC")
        // A window that is closed now: two hours from now, one hour long, every day.
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC") ?? .current
        let hour = utc.component(.hour, from: Date())
        let closed = String(format: "%02d:00-%02d:00", (hour + 2) % 24, (hour + 2) % 24 + 1)
        try lab.vosctl.ok("schedule", "add", "later", "--window", closed)
        try lab.vendor("day", port: dayPort, "--priority", "1")
        try lab.vosctl.ok("gateway", "set", "day", "--schedule", "later")
        try lab.vendor("other", port: otherPort, "--priority", "2")
        try lab.startController()
        let dayVendor = try lab.uas(port: dayPort)
        let otherVendor = try lab.uas(port: otherPort)
        let first = try lab.uac("4420")
        first.wait()
        #expect(first.successfulCalls == 1, "\(first.output)")
        #expect(try eventually { otherVendor.successfulCalls == 1 }, "outside the window the call goes past the scheduled vendor")
        #expect(try explain(lab, "4420").first { $0["name"] as? String == "day" }?["reason"] as? String == "time window")
        // Open the window around the clock: the running controller takes it at its next reload.
        try lab.vosctl.ok("schedule", "set", "later", "--window", "00:00-24:00")
        #expect(try eventually { try explain(lab, "4420").first?["name"] as? String == "day" })
        let second = try lab.uac("4420")
        second.wait()
        #expect(second.successfulCalls == 1)
        #expect(try eventually { dayVendor.successfulCalls == 1 }, "inside the window the scheduled vendor goes first")
        let records = try lab.waitForCDRs(2)
        #expect(records.compactMap { $0["routingGateway"] as? String }.sorted() == ["day", "other"])
    }

    @Test func aReservedLineIsKeptForItsCustomerWhileOthersGetAllGatewayBusy() throws {
        let lab = try SwitchLab()
        let port = TestPorts.allocate(8)
        try lab.vosctl.ok("account", "add", "vip", "--type", "postpaid", "--limit-money", "1000", "--rate-table", "retail")
        try lab.vosctl.ok("gateway", "add", "mapping", "vipgw", "--ip", "127.0.0.4", "--account", "vip")
        try lab.vosctl.ok("group", "add", "pool", "--lines", "2", "--reserve", "vip=1")
        try lab.vendor("uk", port: port)
        try lab.vosctl.ok("gateway", "set", "uk", "--group", "pool")
        try lab.startController()
        try lab.uas(port: port, seconds: 40)
        // acme holds the one shared line for 6 s.
        let holder = try lab.uac("4420", ["-d", "6000"])
        usleep(1_500_000)
        let refused = try lab.uac("4421", scenario: try lab.scenario("uac_expect", ["__STATUS__": "503"]))
        refused.wait()
        #expect(refused.successfulCalls == 1, "the second line is vip's: \(refused.output)")
        let vip = try lab.uac("4422", from: "127.0.0.4")
        vip.wait()
        #expect(vip.successfulCalls == 1, "vip gets its reserved line: \(vip.output)")
        holder.wait()
        let records = try lab.waitForCDRs(3)
        let byCallee = Dictionary(records.map { ($0["calleeReceived"] as? String ?? "", $0) }, uniquingKeysWith: { first, _ in first })
        #expect(byCallee["4421"]?.reason == "AllGatewayBusy")
        #expect(byCallee["4421"]?.sipCode == 503)
        #expect(byCallee["4422"]?["routingGateway"] as? String == "uk")
        #expect(byCallee["4420"]?["routingGateway"] as? String == "uk")
    }

    @Test func packageFreeMinutesArePaidBeforeMoney() throws {
        let lab = try SwitchLab()
        let port = TestPorts.allocate(8)
        try lab.vosctl.ok("rate", "import", "per-minute", try lab.scratch.write("per-minute.csv", "44,0.6000,60,60\n"))
        try lab.vosctl.ok("package", "add", "uk-bundle", "--group", "uk=44:1")
        try lab.vosctl.ok("account", "add", "pkg", "--type", "prepaid", "--balance", "5", "--rate-table", "per-minute")
        try lab.vosctl.ok("account", "set", "pkg", "--package", "uk-bundle")
        try lab.vosctl.ok("gateway", "set", "cust", "--account", "pkg")
        try lab.vendor("uk", port: port)
        try lab.startController()
        try lab.uas(port: port, seconds: 40)
        for callee in ["4420", "4421"] {
            let call = try lab.uac(callee)
            call.wait()
            #expect(call.successfulCalls == 1, "\(call.output)")
            _ = try lab.waitForCDRs(callee == "4420" ? 1 : 2)
        }
        let records = try lab.cdrs().sorted { ($0["id"] as? Int ?? 0) < ($1["id"] as? Int ?? 0) }
        // 60/60: each call bills a whole minute; the package's one free minute pays the first.
        #expect(records[0]["packageSeconds"] as? Int == 60, "\(records[0])")
        #expect(records[0]["packageName"] as? String == "uk-bundle")
        #expect(Decimal(string: records[0]["customerCost"] as? String ?? "") == 0)
        #expect(Decimal(string: records[1]["customerCost"] as? String ?? "") == Decimal(string: "0.6"), "the second minute is money")
        let account = (try lab.vosctl.json("account", "show", "pkg") as? [String: Any]) ?? [:]
        #expect(Decimal(string: account["balance"] as? String ?? "") == Decimal(string: "4.4"), "\(account)")
    }
}
