import Foundation
import Testing
import VOSModel
import VOSStore
import VOSTestSupport

/// Issue 12 §3/§4 through the vosctl binary: every stored gateway and account field can be set,
/// shown (table and `--json`) and cleared, and bad input changes nothing.
@Suite struct GatewaySettingsCommandTests {
    func initialised() throws -> (Scratch, Vosctl) {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try vosctl.ok("init")
        try vosctl.ok("account", "add", "acme", "--type", "prepaid", "--balance", "100")
        try vosctl.ok("account", "add", "carrier", "--type", "postpaid")
        try vosctl.ok("gateway", "add", "mapping", "cust", "--ip", "203.0.113.5", "--account", "acme")
        try vosctl.ok("gateway", "add", "routing", "bd", "--address", "198.51.100.7", "--prefix", "880")
        return (scratch, vosctl)
    }

    func stored(_ vosctl: Vosctl, _ name: String) throws -> [String: Any] {
        try #require((try vosctl.json("gateway", "show", name) as? [String: Any])?["gateway"] as? [String: Any])
    }

    func generation(_ vosctl: Vosctl) throws -> UInt64 { try Store(directory: vosctl.dataDirectory).generation() }

    /// The rows of a `FIELD  VALUE` table, by field.
    func rows(_ table: String) -> [String: String] {
        var rows: [String: String] = [:]
        for line in table.split(separator: "\n") {
            guard let space = line.firstIndex(of: " ") else { continue }
            rows[String(line[..<space])] = line[space...].trimmingCharacters(in: .whitespaces)
        }
        return rows
    }

    func pool(_ gateway: [String: Any]) -> (numbers: [String]?, multiplexes: Int?)? {
        guard let pool = gateway["callerPool"] as? [String: Any] else { return nil }
        return (pool["numbers"] as? [String], pool["multiplexes"] as? Int)
    }

    func refused(_ vosctl: Vosctl, _ arguments: [String]) throws -> String {
        let result = try vosctl.run(arguments)
        guard result.status != 0 else { throw Failure("vosctl \(arguments) unexpectedly succeeded") }
        return result.stderr
    }

    @Test func everyMappingFieldIsSetShownAndCleared() throws {
        let (scratch, vosctl) = try initialised()
        defer { withExtendedLifetime(scratch) {} }
        try vosctl.ok("gateway", "set", "cust", "--caller-source", "pai", "--support-privacy", "on", "--trusted-identity", "on",
                      "--caller-rewrite", "0:+880,900:!", "--callee-rewrite", "00:,:0044", "--conversation-limit", "3600",
                      "--caller-allow", "0,+880", "--caller-deny", "0000", "--callee-allow", "44,880", "--callee-deny", "449",
                      "--cps", "7", "--concurrent", "9", "--media-proxy", "on", "--advertise", "203.0.113.1", "--session-timer", "off",
                      "--100rel", "require")
        let gateway = try stored(vosctl, "cust")
        #expect(gateway["callerNumberSource"] as? String == "pai")
        #expect(gateway["supportPrivacy"] as? Bool == true)
        #expect(gateway["trustedIdentity"] as? Bool == true)
        let callerRules = gateway["callerRewrite"] as? [[String: Any]]
        #expect(callerRules?.count == 2)
        #expect(callerRules?.first as? [String: String] == ["from": "0", "to": "+880"])
        #expect(callerRules?.last?["from"] as? String == "900" && callerRules?.last?["deny"] as? Bool == true && callerRules?.last?["to"] == nil)
        #expect(gateway["calleeRewrite"] as? [[String: String]] == [["from": "00", "to": ""], ["from": "", "to": "0044"]])
        #expect(gateway["conversationLimit"] as? Int == 3600)
        #expect(gateway["callerFilter"] as? [String: [String]] == ["allow": ["0", "+880"], "deny": ["0000"]])
        #expect(gateway["calleeFilter"] as? [String: [String]] == ["allow": ["44", "880"], "deny": ["449"]])
        #expect(gateway["listGroups"] as? [String] == [])
        #expect(gateway["reliableProvisional"] as? String == "require")
        #expect(gateway["sessionTimer"] as? Bool == false && gateway["cpsLimit"] as? Int == 7 && gateway["concurrentLimit"] as? Int == 9)
        for removed in ["whitelistGroups", "callerSource"] { #expect(gateway[removed] == nil, "\(removed)") }
        #expect((gateway["codecs"] as? [String: Any])?["codecs"] as? [String] == ["PCMA", "PCMU", "G729"], "codec defaults stored")
        #expect((gateway["dtmf"] as? [String: Any])?["rfc2833PayloadType"] as? Int == 101, "DTMF defaults stored")

        let table = rows(try vosctl.ok("gateway", "show", "cust"))
        let expected = ["caller-source": "pai", "trusted-identity": "on", "support-privacy": "on", "caller-rewrite": "0:+880,900:!", "callee-rewrite": "00:,:0044", "conversation-limit": "3600s", "caller-allow": "0,+880", "caller-deny": "0000", "callee-allow": "44,880", "callee-deny": "449", "list-groups": "-", "100rel": "require", "session-timer": "off", "media-proxy": "1 (on)"]
        for (field, value) in expected { #expect(table[field] == value, "\(field): \(table[field] ?? "missing")") }

        try vosctl.ok("gateway", "set", "cust", "--caller-rewrite", "", "--callee-rewrite", "", "--caller-allow", "", "--caller-deny", "",
                      "--callee-allow", "", "--callee-deny", "", "--conversation-limit", "0", "--account", "", "--media-proxy", "system",
                      "--advertise", "")
        let cleared = try stored(vosctl, "cust")
        #expect(cleared["callerRewrite"] as? [Any] != nil && (cleared["callerRewrite"] as? [Any])?.isEmpty == true)
        #expect((cleared["calleeRewrite"] as? [Any])?.isEmpty == true)
        #expect(cleared["callerFilter"] as? [String: [String]] == ["allow": [], "deny": []])
        #expect(cleared["calleeFilter"] as? [String: [String]] == ["allow": [], "deny": []])
        #expect(cleared["conversationLimit"] as? Int == 0)
        #expect(cleared["account"] == nil && cleared["mediaProxy"] == nil && cleared["advertise"] == nil)
        #expect(cleared["callerNumberSource"] as? String == "pai", "fields not named keep their values")
        #expect(rows(try vosctl.ok("gateway", "show", "cust"))["caller-rewrite"] == "- (numbers unchanged)")
    }

    @Test func everyRoutingFieldIsSetShownAndCleared() throws {
        let (scratch, vosctl) = try initialised()
        defer { withExtendedLifetime(scratch) {} }
        try vosctl.ok("gateway", "set", "bd", "--pai", "caller", "--privacy", "id", "--ppi", "passthrough",
                      "--caller-rewrite", "0:+880", "--callee-rewrite", "880:0,xx:", "--caller-pool", "8801711000001, 8801711000002",
                      "--pool-multiplexes", "3", "--conversation-limit", "120", "--clearing-account", "carrier", "--stop-codes", "486,603",
                      "--100rel", "off")
        var gateway = try stored(vosctl, "bd")
        #expect(gateway["pAssertedIdentity"] as? String == "caller")
        #expect(gateway["privacy"] as? String == "id")
        #expect(gateway["pPreferredIdentity"] as? String == "passthrough")
        #expect(gateway["callerRewrite"] as? [[String: String]] == [["from": "0", "to": "+880"]])
        #expect(gateway["calleeRewrite"] as? [[String: String]] == [["from": "880", "to": "0"], ["from": "xx", "to": ""]])
        #expect(pool(gateway)?.numbers == ["8801711000001", "8801711000002"] && pool(gateway)?.multiplexes == 3)
        #expect(gateway["conversationLimit"] as? Int == 120)
        #expect(gateway["callerFilter"] as? [String: [String]] == ["allow": [], "deny": []], "routing gateways have filters too")
        #expect((gateway["codecs"] as? [String: Any])?["mode"] as? String == "auto", "codec defaults stored")
        #expect((gateway["dtmf"] as? [String: Any])?["send"] as? String == "auto", "DTMF defaults stored")

        let table = rows(try vosctl.ok("gateway", "show", "bd"))
        let expected = ["pai": "caller", "privacy": "id", "ppi": "passthrough", "caller-pool": "8801711000001,8801711000002", "pool-multiplexes": "3", "callee-rewrite": "880:0,xx:", "conversation-limit": "120s", "100rel": "off", "clearing-account": "carrier", "stop-codes": "486,603"]
        for (field, value) in expected { #expect(table[field] == value, "\(field): \(table[field] ?? "missing")") }

        try vosctl.ok("gateway", "set", "bd", "--caller-pool", "8801711000009")
        gateway = try stored(vosctl, "bd")
        #expect(pool(gateway)?.numbers == ["8801711000009"] && pool(gateway)?.multiplexes == 3, "multiplexes kept")
        try vosctl.ok("gateway", "set", "bd", "--pool-multiplexes", "0")
        #expect(rows(try vosctl.ok("gateway", "show", "bd"))["pool-multiplexes"] == "unlimited")

        try vosctl.ok("gateway", "set", "bd", "--caller-pool", "", "--callee-rewrite", "", "--caller-rewrite", "", "--pai", "none",
                      "--clearing-account", "", "--stop-codes", "default")
        gateway = try stored(vosctl, "bd")
        #expect(gateway["callerPool"] == nil && gateway["clearingAccount"] == nil && gateway["stopSwitchingCodes"] == nil)
        #expect((gateway["calleeRewrite"] as? [Any])?.isEmpty == true)
        #expect(gateway["pAssertedIdentity"] as? String == "none")
        #expect(rows(try vosctl.ok("gateway", "show", "bd"))["caller-pool"] == "- (caller kept)")
    }

    @Test func anInvalidRuleIsRefusedWithTheRuleAndReasonAndChangesNothing() throws {
        let (scratch, vosctl) = try initialised()
        defer { withExtendedLifetime(scratch) {} }
        try vosctl.ok("gateway", "set", "bd", "--callee-rewrite", "880:0", "--cps", "5")
        let before = try vosctl.ok("gateway", "show", "bd", "--json")
        let generationBefore = try generation(vosctl)

        let cases: [([String], String)] = [
            (["--callee-rewrite", "880:0,88a:1"], "invalid --callee-rewrite rule 2 '88a:1': expected a FROM of at most 32 characters"),
            (["--callee-rewrite", "880+1"], "invalid --callee-rewrite rule 1 '880+1': expected FROM:TO"),
            (["--caller-rewrite", "0:+88O"], "invalid --caller-rewrite rule 1 '0:+88O': expected a TO of at most 32 characters"),
            (["--caller-rewrite", ":"], "invalid --caller-rewrite rule 1 ':': expected a FROM or a TO"),
            (["--callee-rewrite", "0:+880,01:1"], "--callee-rewrite rule 2 '01:1' can never apply: rule 1 '0:+880' matches every number it matches"),
            (["--cps", "9", "--callee-rewrite", "9:!!"], "invalid --callee-rewrite rule 1 '9:!!'"),
        ]
        for (options, message) in cases {
            let error = try refused(vosctl, ["gateway", "set", "bd"] + options)
            #expect(error.contains(message), "\(options): \(error)")
        }
        #expect(try vosctl.ok("gateway", "show", "bd", "--json") == before, "the refused changes left the gateway as it was")
        #expect(try generation(vosctl) == generationBefore, "nothing was written")
        #expect(try vosctl.fails("gateway", "add", "routing", "bd2", "--address", "198.51.100.8", "--prefix", "1",
                                 "--caller-rewrite", "1:2,1:3").contains("rule 2 '1:3' can never apply"))
        #expect(try vosctl.fails("gateway", "show", "bd2").contains("does not exist"))
    }

    @Test func badIdentityPoolAndKindOptionsAreRefused() throws {
        let (scratch, vosctl) = try initialised()
        defer { withExtendedLifetime(scratch) {} }
        let before = (try vosctl.ok("gateway", "show", "bd", "--json"), try vosctl.ok("gateway", "show", "cust", "--json"))
        #expect(try vosctl.fails("gateway", "set", "bd", "--pai", "maybe").contains("--pai"))
        #expect(try vosctl.fails("gateway", "set", "bd", "--privacy", "user").contains("--privacy"))
        #expect(try vosctl.fails("gateway", "set", "bd", "--100rel", "always").contains("--100rel"))
        #expect(try vosctl.fails("gateway", "set", "cust", "--caller-source", "remote").contains("--caller-source"))
        #expect(try vosctl.fails("gateway", "set", "cust", "--pai", "caller").contains("--pai applies to routing gateways; 'cust' is a mapping gateway"))
        #expect(try vosctl.fails("gateway", "set", "bd", "--trusted-identity", "on").contains("--trusted-identity applies to mapping gateways"))
        #expect(try vosctl.fails("gateway", "set", "bd", "--caller-source", "pai").contains("--caller-source applies to mapping gateways"))
        #expect(try vosctl.fails("gateway", "set", "cust", "--caller-pool", "1").contains("--caller-pool applies to routing gateways"))
        #expect(try vosctl.fails("gateway", "set", "bd", "--pool-multiplexes", "2").contains("--pool-multiplexes needs a caller number pool"))
        #expect(try vosctl.fails("gateway", "set", "bd", "--caller-pool", "8801,8801").contains("--caller-pool lists 8801 twice"))
        #expect(try vosctl.fails("gateway", "set", "bd", "--caller-pool", "88o1").contains("invalid --caller-pool '88o1'"))
        #expect(try vosctl.fails("gateway", "set", "bd", "--caller-pool", "8801", "--pool-multiplexes=-1").contains("--pool-multiplexes -1 is out of range"))
        #expect(try vosctl.fails("gateway", "set", "cust", "--conversation-limit", "999999999").contains("conversation-limit 999999999 is out of range"))
        #expect(try vosctl.fails("gateway", "set", "cust", "--callee-deny", "44x").contains("invalid --callee-deny '44x'"))
        #expect(try vosctl.fails("gateway", "set", "cust", "--blacklist-groups", "fraud").contains("number list 'fraud' does not exist"))
        #expect(try vosctl.fails("gateway", "set", "bd", "--strip", "2", "--add-prefix", "0044")
            .contains("--strip and --add-prefix were replaced by dial plans: write --callee-rewrite 'xx:0044'"))
        #expect((try vosctl.ok("gateway", "show", "bd", "--json"), try vosctl.ok("gateway", "show", "cust", "--json")) == before)
    }

    @Test func accountSetChangesEveryFieldAndRecordsABalanceAdjustment() throws {
        let (scratch, vosctl) = try initialised()
        defer { withExtendedLifetime(scratch) {} }
        let rates = try scratch.write("rates.csv", "prefix,price,first,next\n880,0.02,60,60\n")
        try vosctl.ok("rate", "import", "retail", rates)
        try vosctl.ok("account", "set", "acme", "--type", "postpaid", "--balance", "80.5", "--limit-money", "50", "--rate-table", "retail",
                      "--concurrent", "12", "--anti-overdraft", "off", "--alarm", "10", "--status", "locked")
        var account = try #require(try vosctl.json("account", "show", "acme") as? [String: Any])
        #expect(account["kind"] as? String == "postpaid")
        #expect(account["balance"] as? String == "80.5000")
        #expect(account["limitMoney"] as? String == "50.0000")
        #expect(account["rateTable"] as? String == "retail")
        #expect(account["concurrentLimit"] as? Int == 12)
        #expect(account["antiOverdraft"] as? Bool == false)
        #expect(account["alarmThreshold"] as? String == "10.0000")
        #expect(account["status"] as? String == "Locked")
        let history = try #require(try vosctl.json("account", "history", "acme") as? [[String: Any]])
        #expect(history.last?["kind"] as? String == "adjustment")
        #expect(history.last?["amount"] as? String == "-19.5000")
        #expect(history.last?["balanceAfter"] as? String == "80.5000")

        try vosctl.ok("account", "set", "acme", "--rate-table", "", "--alarm", "", "--status", "normal")
        account = try #require(try vosctl.json("account", "show", "acme") as? [String: Any])
        #expect(account["rateTable"] == nil && account["alarmThreshold"] == nil)
        #expect(account["status"] as? String == "Normal" && account["balance"] as? String == "80.5000")

        let before = try vosctl.ok("account", "show", "acme", "--json")
        #expect(try vosctl.fails("account", "set", "acme").contains("nothing to change"))
        #expect(try vosctl.fails("account", "set", "acme", "--concurrent", "5", "--rate-table", "nope").contains("rate table 'nope'"))
        #expect(try vosctl.fails("account", "set", "acme", "--limit-money", "-1").contains("limit-money"))
        #expect(try vosctl.fails("account", "set", "acme", "--balance", "1.23456").contains("--balance"))
        #expect(try vosctl.fails("account", "set", "acme", "--status", "frozen").contains("--status"))
        #expect(try vosctl.fails("account", "set", "ghost", "--concurrent", "1").contains("account 'ghost' does not exist"))
        #expect(try vosctl.ok("account", "show", "acme", "--json") == before)
    }

    @Test func accountRemoveIsRefusedWhileCallsAreLiveOrGatewaysUseIt() throws {
        let (scratch, vosctl) = try initialised()
        defer { withExtendedLifetime(scratch) {} }
        let rates = try scratch.write("rates.csv", "prefix,price,first,next\n880,0.02,60,60\n")
        try vosctl.ok("rate", "import", "retail", rates)
        try vosctl.ok("account", "add", "solo", "--type", "prepaid", "--balance", "10", "--rate-table", "retail")
        let store = try Store(directory: vosctl.dataDirectory)
        try store.write(changesConfiguration: false) { transaction in
            let request = CallAuthorizationRequest(key: "live", callID: "cid-live", account: "solo", caller: "1001",
                                                   callee: "8801712345678", mappingGateway: "cust", now: 1_700_000_000_000)
            guard try transaction.authorizeCall(request).deadline != nil else { throw Failure("call refused") }
        }
        #expect(try vosctl.fails("account", "remove", "solo").contains("account 'solo' has 1 live call billed to it"))
        #expect(try vosctl.ok("account", "show", "solo").contains("solo"))
        try store.write(changesConfiguration: false) { transaction in
            let draft = CallDetailRecord(id: 0, callID: "cid-live", setupTime: 1_700_000_000_000, endTime: 1_700_000_001_000,
                                         callerReceived: "1001", calleeReceived: "8801712345678", mappingGateway: "cust",
                                         endReason: .callerCancel, sipCode: 487, hangupSide: .caller)
            _ = try transaction.settleCall("live", draft: draft)
        }
        try vosctl.ok("account", "remove", "solo")
        #expect(try vosctl.fails("account", "show", "solo").contains("account 'solo' does not exist"))

        #expect(try vosctl.fails("account", "remove", "acme").contains("account 'acme' is used by mapping gateway 'cust'"))
        try vosctl.ok("gateway", "set", "bd", "--clearing-account", "carrier")
        #expect(try vosctl.fails("account", "remove", "carrier").contains("routing gateway 'bd' (clearing account)"))
        #expect(try vosctl.fails("account", "remove", "ghost").contains("account 'ghost' does not exist"))
        try vosctl.ok("gateway", "set", "cust", "--account", "")
        try vosctl.ok("account", "remove", "acme")
        #expect((try vosctl.json("account", "list") as? [Any])?.count == 1)
    }

    /// The digest password is set (hashed), shown only as "set", changed, and dropped when the
    /// gateway leaves --auth password (a password nothing reads must not look as if it applies).
    @Test func passwordIsSetShownHiddenAndClearedWithTheAuthMode() throws {
        let (scratch, vosctl) = try initialised()
        let file = try scratch.write("pass", "first-secret\n")
        try vosctl.ok("gateway", "add", "mapping", "phone", "--auth", "password", "--username", "3001", "--password-file", file)
        let credential = try #require(try stored(vosctl, "phone")["credential"] as? [String: Any])
        #expect(credential["username"] as? String == "3001")
        #expect((credential["ha1"] as? [String: String])?.values.allSatisfy { $0 == "hidden" } == true)
        #expect(rows(try vosctl.ok("gateway", "show", "phone"))["password"]?.hasPrefix("set (hashed for realm 'vos'") == true)
        let before = try Store(directory: vosctl.dataDirectory).read { try $0.mappingGateway(named: "phone") }?.credential
        try vosctl.ok("gateway", "set", "phone", "--password", "second-secret")
        let after = try Store(directory: vosctl.dataDirectory).read { try $0.mappingGateway(named: "phone") }?.credential
        #expect(before != nil && after != nil && before != after)
        try vosctl.ok("gateway", "set", "phone", "--auth", "ip", "--ip", "203.0.113.44")
        #expect(try stored(vosctl, "phone")["credential"] == nil)
        #expect(rows(try vosctl.ok("gateway", "show", "phone"))["password"] == nil)
        #expect(try vosctl.fails("gateway", "set", "phone", "--password", "x").contains("apply to --auth password gateways"))
    }
}
