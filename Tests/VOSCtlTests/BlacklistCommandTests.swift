import Foundation
import Testing
import VOSModel
import VOSStore
import VOSTestSupport

/// `vosctl blacklist`: rules set, shown and removed; entries listed and removed; bad input refused
/// with its reason and nothing changed.
@Suite struct BlacklistCommandTests {
    func initialised() throws -> (Scratch, Vosctl) {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try vosctl.ok("init")
        try vosctl.ok("gateway", "add", "mapping", "cust", "--ip", "203.0.113.5")
        try vosctl.ok("gateway", "add", "routing", "uk", "--address", "198.51.100.7:5060", "--prefix", "44")
        return (scratch, vosctl)
    }

    func rules(_ vosctl: Vosctl) throws -> [[String: Any]] {
        try #require(try vosctl.json("blacklist", "rule", "list") as? [[String: Any]])
    }

    func generation(_ vosctl: Vosctl) throws -> UInt64 { try Store(directory: vosctl.dataDirectory).generation() }

    @Test func rulesAreAddedShownChangedAndRemoved() throws {
        let (scratch, vosctl) = try initialised()
        defer { withExtendedLifetime(scratch) {} }
        let before = try generation(vosctl)
        try vosctl.ok("blacklist", "rule", "add", "burst", "--target", "callee", "--window", "60", "--max-calls", "10",
                      "--max-concurrent", "3", "--block", "300")
        try vosctl.ok("blacklist", "rule", "add", "probes", "--target", "caller", "--gateway", "uk", "--window", "600",
                      "--max-unanswered", "20", "--max-short", "5", "--short-seconds", "6", "--block", "3600")
        #expect(try generation(vosctl) == before + 2, "a rule is configuration: the controller reloads")

        let listed = try rules(vosctl)
        #expect(listed.compactMap { $0["name"] as? String } == ["burst", "probes"])
        let burst = try #require(listed.first)
        #expect(burst["gateway"] == nil, "central: no gateway")
        #expect(burst["target"] as? String == "callee")
        #expect(burst["windowSeconds"] as? Int == 60)
        #expect(burst["maxCalls"] as? Int == 10)
        #expect(burst["maxConcurrent"] as? Int == 3)
        #expect(burst["maxUnanswered"] as? Int == 0)
        #expect(burst["blockSeconds"] as? Int == 300)
        let probes = try #require(listed.last)
        #expect(probes["gateway"] as? String == "uk")
        #expect(probes["maxShortCalls"] as? Int == 5)
        #expect(probes["shortCallSeconds"] as? Int == 6)

        let table = try vosctl.ok("blacklist", "rule", "list")
        let burstRow = try #require(table.split(separator: "\n").first { $0.hasPrefix("burst") })
        #expect(burstRow.contains("central") && burstRow.contains("callee") && burstRow.contains("60 s") && burstRow.contains("300 s"))
        #expect(table.split(separator: "\n").first { $0.hasPrefix("probes") }?.contains("uk") == true)

        try vosctl.ok("blacklist", "rule", "set", "burst", "--max-calls", "0", "--gateway", "cust")
        let changed = try #require(try rules(vosctl).first)
        #expect(changed["maxCalls"] as? Int == 0)
        #expect(changed["maxConcurrent"] as? Int == 3, "fields not named keep their values")
        #expect(changed["gateway"] as? String == "cust")
        try vosctl.ok("blacklist", "rule", "set", "burst", "--gateway", "")
        #expect(try rules(vosctl).first?["gateway"] == nil, "'' makes the rule central again")

        try vosctl.ok("blacklist", "rule", "remove", "burst")
        #expect(try rules(vosctl).compactMap { $0["name"] as? String } == ["probes"])
        #expect(try vosctl.fails("blacklist", "rule", "remove", "burst").contains("dynamic blacklist rule 'burst' does not exist"))
    }

    @Test func badRulesAreRefusedWithTheReasonAndChangeNothing() throws {
        let (scratch, vosctl) = try initialised()
        defer { withExtendedLifetime(scratch) {} }
        try vosctl.ok("blacklist", "rule", "add", "burst", "--target", "callee", "--window", "60", "--max-calls", "10", "--block", "300")
        let generationBefore = try generation(vosctl)
        let base = ["blacklist", "rule", "add", "bad", "--target", "callee", "--window", "60", "--block", "300"]
        let refusals: [([String], String)] = [
            (base, "has no threshold"),
            (base + ["--max-calls", "5", "--gateway", "nowhere"], "gateway 'nowhere' given for dynamic blacklist rule 'bad' does not exist"),
            (["blacklist", "rule", "add", "bad", "--target", "callee", "--window", "0", "--max-calls", "5", "--block", "300"],
             "window seconds 0 is out of range: allowed 1-86400"),
            (["blacklist", "rule", "add", "bad", "--target", "callee", "--window", "60", "--max-calls", "5", "--block", "9999999"],
             "block seconds 9999999 is out of range: allowed 1-2592000"),
            (base + ["--max-calls=-1", "--max-concurrent", "2"], "max calls -1 is out of range: allowed 0-1000000"),
            (base + ["--max-calls", "5", "--short-seconds", "5"], "--short-seconds applies only with --max-short"),
            (base + ["--max-short", "5", "--short-seconds", "0"], "short-call seconds 0 is out of range: allowed 1-3600"),
            (["blacklist", "rule", "add", "burst", "--target", "callee", "--window", "60", "--max-calls", "5", "--block", "300"],
             "dynamic blacklist rule 'burst' already exists"),
            (["blacklist", "rule", "add", "bad", "--target", "both", "--window", "60", "--max-calls", "5", "--block", "300"], "--target"),
            (["blacklist", "rule", "add", "bad", "--target", "callee", "--max-calls", "5", "--block", "300"], "--window SECONDS is required"),
            (["blacklist", "rule", "set", "burst", "--window", "0"], "window seconds 0 is out of range"),
            (["blacklist", "rule", "set", "burst", "--max-calls", "0"], "has no threshold"),
        ]
        for (arguments, reason) in refusals {
            let result = try vosctl.run(arguments)
            #expect(result.status != 0, "\(arguments) was accepted")
            #expect(result.stderr.contains(reason), "\(arguments): \(result.stderr)")
        }
        #expect(try rules(vosctl).count == 1, "nothing was added")
        #expect(try rules(vosctl).first?["maxCalls"] as? Int == 10, "nothing was changed")
        #expect(try generation(vosctl) == generationBefore, "nothing was written")
    }

    @Test func aGatewayARuleCountsOnCannotBeRemovedUnderIt() throws {
        let (scratch, vosctl) = try initialised()
        defer { withExtendedLifetime(scratch) {} }
        try vosctl.ok("blacklist", "rule", "add", "vendor", "--target", "callee", "--gateway", "uk", "--window", "60",
                      "--max-calls", "10", "--block", "300")
        #expect(try vosctl.fails("gateway", "remove", "uk").contains("gateway 'uk' is used by dynamic blacklist rule 'vendor'"))
        try vosctl.ok("blacklist", "rule", "remove", "vendor")
        try vosctl.ok("gateway", "remove", "uk")
    }

    @Test func entriesAreListedWithReasonAndExpiryAndRemovedByNumber() throws {
        let (scratch, vosctl) = try initialised()
        defer { withExtendedLifetime(scratch) {} }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        do {
            let store = try Store(directory: vosctl.dataDirectory)
            try store.write(changesConfiguration: false) { transaction in
                try transaction.saveDynamicBlacklistEntry(DynamicBlacklistEntry(
                    number: "4420123", target: .callee, gateway: nil, rule: "burst", reason: "4 calls in 60 s > 3",
                    created: now, expires: now + 300_000))
                try transaction.saveDynamicBlacklistEntry(DynamicBlacklistEntry(
                    number: "4420123", target: .callee, gateway: "uk", rule: "vendor", reason: "2 calls in 60 s > 1",
                    created: now, expires: now + 60_000))
                try transaction.saveDynamicBlacklistEntry(DynamicBlacklistEntry(
                    number: "1000", target: .caller, gateway: nil, rule: "ring", reason: "3 unanswered calls in 60 s > 2",
                    created: now - 20_000, expires: now - 10_000))
            }
        }
        let listed = try #require(try vosctl.json("blacklist", "list") as? [[String: Any]])
        #expect(listed.count == 2, "an expired entry is not listed")
        let central = try #require(listed.first { $0["gateway"] == nil })
        #expect(central["number"] as? String == "4420123")
        #expect(central["target"] as? String == "callee")
        #expect(central["rule"] as? String == "burst")
        #expect(central["reason"] as? String == "4 calls in 60 s > 3")
        #expect(central["expires"] as? Int64 == now + 300_000)

        let table = try vosctl.ok("blacklist", "list")
        #expect(table.hasPrefix("NUMBER  "))
        let row = try #require(table.split(separator: "\n").first { $0.contains("burst") })
        #expect(row.contains("4420123") && row.contains("central") && row.contains("4 calls in 60 s > 3") && row.contains("(in 300 s)"))
        #expect(!table.contains("1000"))

        let before = try generation(vosctl)
        let removed = try vosctl.ok("blacklist", "remove", "4420123", "--gateway", "uk")
        #expect(removed.contains("removed callee 4420123 (uk, rule vendor)"))
        #expect(try generation(vosctl) == before + 1, "the running controller learns of it through the generation")
        #expect((try vosctl.json("blacklist", "list") as? [[String: Any]])?.count == 1)
        #expect(try vosctl.fails("blacklist", "remove", "4420123", "--gateway", "uk").contains("no dynamic blacklist entry blocks 4420123 on gateway uk"))
        #expect(try vosctl.fails("blacklist", "remove", "1000").contains("no dynamic blacklist entry blocks 1000"), "an expired entry blocks nothing")
        try vosctl.ok("blacklist", "remove", "4420123")
        #expect((try vosctl.json("blacklist", "list") as? [[String: Any]])?.isEmpty == true)
        #expect(try Store(directory: vosctl.dataDirectory).read { try $0.count(.dynamicBlacklistEntries) } == 0, "the expired row was purged too")
    }
}
