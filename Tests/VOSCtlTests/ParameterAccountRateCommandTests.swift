import Foundation
import Testing
import VOSTestSupport

@Suite struct ParameterCommandTests {
    @Test func listGetSetReset() throws {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try vosctl.ok("init")
        #expect(try vosctl.ok("param", "get", "SS_QOS_RTP") == "46\n")
        #expect(try vosctl.ok("param", "set", "ss_qos_rtp", "34") == "SS_QOS_RTP = 34\n")
        let view = try vosctl.json("param", "get", "SS_QOS_RTP") as? [String: Any]
        #expect(view?["value"] as? String == "34")
        #expect(view?["defaultValue"] as? String == "46")
        #expect(view?["allowed"] as? String == "0-63")
        let all = try vosctl.json("param", "list") as? [[String: Any]]
        #expect(all?.count ?? 0 >= 40)
        #expect(all?.first(where: { $0["key"] as? String == "SS_MEDIAPROXYMODE" })?["value"] as? String == "3")
        #expect(try vosctl.ok("param", "list").contains("SS_SIP_SESSION_TTL"))
        try vosctl.ok("param", "reset", "SS_QOS_RTP")
        #expect(try vosctl.ok("param", "get", "SS_QOS_RTP") == "46\n")
    }

    @Test func outOfRangeAndUnknownAreRefused() throws {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try vosctl.ok("init")
        let result = try vosctl.run(["param", "set", "SS_QOS_RTP", "64"])
        #expect(result.status == 1)
        #expect(result.stderr == "vosctl: SS_QOS_RTP 64 is out of range: allowed 0-63\n")
        #expect(try vosctl.fails("param", "set", "SS_NOPE", "1").contains("invalid parameter 'SS_NOPE'"))
        #expect(try vosctl.fails("param", "set", "SS_ECHOCANCELTAIL", "100").contains("one of 64, 128, 256"))
        #expect(try vosctl.fails("param", "set", "SS_MEDIAPROXYPORT_START", "10001").contains("even"))
        #expect(try vosctl.fails("param", "get", "SS_NOPE").contains("SS_NOPE"))
        #expect(try vosctl.ok("param", "get", "SS_QOS_RTP") == "46\n")
    }
}

@Suite struct AccountCommandTests {
    @Test func lifecycle() throws {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try vosctl.ok("init")
        try vosctl.ok("account", "add", "acme", "--type", "prepaid", "--balance", "10.50", "--limit-money", "5", "--concurrent", "20")
        try vosctl.ok("account", "add", "carrier", "--type", "postpaid", "--limit-money", "1000")
        let shown = try vosctl.json("account", "show", "acme") as? [String: Any]
        #expect(shown?["balance"] as? String == "10.5000")
        #expect(shown?["limitMoney"] as? String == "5.0000")
        #expect(shown?["status"] as? String == "Normal")
        #expect(shown?["kind"] as? String == "prepaid")
        #expect(shown?["antiOverdraft"] as? Bool == true)
        #expect((try vosctl.json("account", "list") as? [Any])?.count == 2)
        #expect(try vosctl.ok("account", "topup", "acme", "0.25").contains("balance 10.7500"))
        try vosctl.ok("account", "lock", "acme")
        #expect((try vosctl.json("account", "show", "acme") as? [String: Any])?["status"] as? String == "Locked")
        try vosctl.ok("account", "unlock", "acme")
        #expect(try vosctl.ok("account", "show", "acme").contains("Normal"))
        #expect(try vosctl.ok("account", "list").contains("carrier"))
    }

    @Test func badInput() throws {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try vosctl.ok("init")
        try vosctl.ok("account", "add", "acme", "--type", "prepaid")
        #expect(try vosctl.fails("account", "add", "acme", "--type", "prepaid").contains("already exists"))
        #expect(try vosctl.fails("account", "add", "x", "--type", "credit").contains("type"))
        #expect(try vosctl.fails("account", "add", "y", "--type", "prepaid", "--balance", "1.23456").contains("at most 4 decimals"))
        #expect(try vosctl.fails("account", "add", "z", "--type", "prepaid", "--limit-money", "-5").contains("limit-money"))
        #expect(try vosctl.fails("account", "add", "w", "--type", "prepaid", "--rate-table", "nope").contains("rate table 'nope'"))
        #expect(try vosctl.fails("account", "topup", "acme", "ten").contains("AMOUNT"))
        #expect(try vosctl.fails("account", "topup", "acme", "0").contains("positive"))
        #expect(try vosctl.fails("account", "topup", "ghost", "3").contains("account 'ghost' does not exist"))
        #expect(try vosctl.fails("account", "lock", "ghost").contains("does not exist"))
        #expect((try vosctl.json("account", "show", "acme") as? [String: Any])?["balance"] as? String == "0.0000")
    }
}

@Suite struct RateCommandTests {
    @Test func importListLookup() throws {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try vosctl.ok("init")
        let csv = try scratch.write("retail.csv", """
        prefix,price_per_minute,first_interval,next_interval,connection_fee,description
        44,0.0120,60,60,0,UK
        4477,0.0500,30,6,0.01,"UK mobile, Vodafone"
        33,0.0200,1,1

        """)
        #expect(try vosctl.ok("rate", "import", "retail", csv) == "imported 3 rates into retail\n")
        let entries = try vosctl.json("rate", "list", "retail") as? [[String: Any]]
        #expect(entries?.map { $0["prefix"] as? String } == ["33", "44", "4477"])
        let lookup = try vosctl.json("rate", "lookup", "retail", "447700900123", "--seconds", "31") as? [String: Any]
        #expect((lookup?["rate"] as? [String: Any])?["prefix"] as? String == "4477")
        #expect(lookup?["billedSeconds"] as? Int == 36)
        #expect(lookup?["cost"] as? String == "0.0400")
        #expect(try vosctl.ok("rate", "lookup", "retail", "4420").contains("44"))
        try vosctl.ok("account", "add", "acme", "--type", "prepaid", "--rate-table", "retail")
    }

    @Test func aBadLineImportsNothing() throws {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try vosctl.ok("init")
        try vosctl.ok("rate", "import", "retail", try scratch.write("good.csv", "44,0.01,60,60\n"))
        let bad = try scratch.write("bad.csv", "1,0.01,60,60\n2,0.01,60,60\n3,zero,60,60\n4,0.01,60,60\n")
        let message = try vosctl.fails("rate", "import", "retail", bad)
        #expect(message.contains("line 3") && message.contains("nothing was imported"))
        #expect((try vosctl.json("rate", "list", "retail") as? [[String: Any]])?.map { $0["prefix"] as? String } == ["44"])
        #expect(try vosctl.fails("rate", "import", "retail", scratch.child("missing.csv")).contains("cannot read"))
        #expect(try vosctl.fails("rate", "list", "nope").contains("rate table 'nope' does not exist"))
        #expect(try vosctl.fails("rate", "lookup", "retail", "33").contains("does not exist"))
    }
}
