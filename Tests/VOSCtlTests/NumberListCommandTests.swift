import Foundation
import Testing
import VOSStore
import VOSTestSupport

/// `vosctl list`, `vosctl number-group` and the gateway options that use them, through the
/// binary: what an operator types and reads, and bad input refused with nothing changed.
@Suite struct NumberListCommandTests {
    func initialised() throws -> (Scratch, Vosctl) {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try vosctl.ok("init")
        try vosctl.ok("gateway", "add", "mapping", "cust", "--ip", "203.0.113.5")
        try vosctl.ok("gateway", "add", "routing", "ven", "--address", "198.51.100.7", "--prefix", "44")
        return (scratch, vosctl)
    }

    func generation(_ vosctl: Vosctl) throws -> UInt64 { try Store(directory: vosctl.dataDirectory).generation() }

    func gateway(_ vosctl: Vosctl, _ name: String) throws -> [String: Any] {
        try #require((try vosctl.json("gateway", "show", name) as? [String: Any])?["gateway"] as? [String: Any])
    }

    /// The rows of a `FIELD  VALUE` table, by field.
    func rows(_ table: String) -> [String: String] {
        var rows: [String: String] = [:]
        for line in table.split(separator: "\n") {
            guard let space = line.firstIndex(of: " ") else { continue }
            rows[String(line[..<space])] = line[space...].trimmingCharacters(in: .whitespaces)
        }
        return rows
    }

    @Test func listsAreAddedShownShrunkAndDeleted() throws {
        let (scratch, vosctl) = try initialised()
        defer { withExtendedLifetime(scratch) {} }
        #expect(try vosctl.ok("list", "add", "fraud", "--kind", "black", "--numbers", "447700900666, 1900123,1900123")
            == "black list fraud (caller and callee): added 2 numbers; 2 in all\n", "a number given twice is one number")
        let file = try scratch.write("vip.txt", "# our best customers\n447700900001\n\n447700900002  # the CEO\n447700900003\r\n")
        #expect(try vosctl.ok("list", "add", "vip", "--kind", "white", "--target", "caller", "--file", file)
            .contains("white list vip (caller): added 3 numbers; 3 in all"))
        #expect(try vosctl.ok("list", "add", "vip", "--kind", "white", "--numbers", "447700900003,447700900004")
            .contains("added 1 numbers (1 already in it); 4 in all"))

        let all = try #require(try vosctl.json("list", "show") as? [[String: Any]])
        #expect(all.map { $0["name"] as? String } == ["fraud", "vip"])
        #expect(all.map { $0["count"] as? Int } == [2, 4])
        #expect(all.last?["kind"] as? String == "white" && all.last?["target"] as? String == "caller")
        let table = try vosctl.ok("list", "show")
        #expect(table.contains("LIST") && table.contains("fraud  black  both    2"))

        let shown = try vosctl.ok("list", "show", "vip", "--limit", "2")
        #expect(rows(shown)["numbers"] == "4" && rows(shown)["target"] == "caller")
        #expect(shown.contains("447700900001\n447700900002\n") && !shown.contains("447700900003"))
        #expect(shown.contains("(the first 2 of 4; --limit N shows more, --limit 0 all)"))
        let detail = try #require(try vosctl.json("list", "show", "vip", "--limit", "0") as? [String: Any])
        #expect(detail["numbers"] as? [String] == ["447700900001", "447700900002", "447700900003", "447700900004"])
        #expect(detail["truncated"] as? Bool == false)

        #expect(try vosctl.ok("list", "remove", "vip", "--numbers", "447700900004,447700900009")
            .contains("removed 1 numbers (1 not in it); 3 left"))
        #expect(try vosctl.ok("list", "set", "vip", "--target", "both").contains("now judges caller and callee numbers"))
        #expect((try vosctl.json("list", "show", "vip") as? [String: Any])?["target"] as? String == "both")
        #expect(try vosctl.ok("list", "delete", "fraud") == "deleted number list fraud\n")
        #expect(try vosctl.fails("list", "show", "fraud").contains("number list 'fraud' does not exist"))
    }

    @Test func aFileWithABadLineIsRefusedWithTheLineAndNothingIsImported() throws {
        let (scratch, vosctl) = try initialised()
        defer { withExtendedLifetime(scratch) {} }
        try vosctl.ok("list", "add", "fraud", "--kind", "black", "--numbers", "1001")
        let before = try generation(vosctl)
        let bad = try scratch.write("bad.txt", "# numbers\n1002\n1003\n10O4\n1005\n")
        let refused = try vosctl.run(["list", "add", "fraud", "--kind", "black", "--file", bad])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("bad.txt: line 4: '10O4' is not a number"), "\(refused.stderr)")
        #expect(refused.stderr.contains("nothing was imported"))
        #expect(try vosctl.fails("list", "add", "new", "--kind", "white", "--file", bad).contains("line 4"))
        #expect(try vosctl.fails("list", "remove", "fraud", "--file", bad).contains("line 4: '10O4'"))
        #expect(try vosctl.fails("list", "add", "fraud", "--kind", "black", "--numbers", "1006,12x").contains("invalid --numbers number '12x'"))
        #expect(try vosctl.fails("list", "add", "fraud", "--kind", "black", "--file", scratch.child("missing.txt")).contains("cannot read the file"))
        #expect(try vosctl.fails("list", "add", "fraud", "--kind", "white", "--numbers", "1006").contains("number list 'fraud' is a black list"))
        #expect(try vosctl.fails("list", "add", "bad name", "--kind", "black", "--numbers", "1").contains("invalid list name 'bad name'"))
        let both = try vosctl.run(["list", "add", "fraud", "--kind", "black", "--numbers", "1", "--file", bad])
        #expect(both.status == 64 && both.stderr.contains("either --numbers N,... or --file FILE"))
        #expect(try vosctl.run(["list", "add", "fraud", "--kind", "grey", "--numbers", "1"]).status != 0)
        #expect(try generation(vosctl) == before, "nothing was written")
        let lists = try #require(try vosctl.json("list", "show") as? [[String: Any]])
        #expect(lists.map { $0["name"] as? String } == ["fraud"] && lists.first?["count"] as? Int == 1)
    }

    @Test func gatewaysOfBothKindsTakeListsFiltersAndGroups() throws {
        let (scratch, vosctl) = try initialised()
        defer { withExtendedLifetime(scratch) {} }
        try vosctl.ok("list", "add", "fraud", "--kind", "black", "--numbers", "1900123")
        try vosctl.ok("list", "add", "vip", "--kind", "white", "--target", "caller", "--numbers", "447700900001")
        #expect(try vosctl.ok("number-group", "add", "uk-mobile", "--prefixes", "447,4475,447")
            .contains("number group uk-mobile: added 2 prefixes (1 already in it); 2 in all"))
        try vosctl.ok("number-group", "add", "premium", "--prefixes", "449")

        try vosctl.ok("gateway", "set", "cust", "--list-groups", "fraud,vip", "--callee-allow", "33,@uk-mobile", "--callee-deny", "@premium")
        try vosctl.ok("gateway", "set", "ven", "--blacklist-groups", "fraud", "--caller-deny", "1900,@premium", "--callee-allow", "@uk-mobile")
        let customer = try gateway(vosctl, "cust")
        #expect(customer["listGroups"] as? [String] == ["fraud", "vip"])
        #expect(customer["calleeFilter"] as? [String: [String]] == ["allow": ["33"], "allowGroups": ["uk-mobile"], "deny": [], "denyGroups": ["premium"]])
        let vendor = try gateway(vosctl, "ven")
        #expect(vendor["listGroups"] as? [String] == ["fraud"], "--blacklist-groups is --list-groups' older name")
        #expect(vendor["callerFilter"] as? [String: [String]] == ["allow": [], "deny": ["1900"], "denyGroups": ["premium"]])
        #expect(vendor["calleeFilter"] as? [String: [String]] == ["allow": [], "allowGroups": ["uk-mobile"], "deny": []])
        let customerRows = rows(try vosctl.ok("gateway", "show", "cust"))
        #expect(customerRows["list-groups"] == "fraud,vip" && customerRows["callee-allow"] == "33,@uk-mobile" && customerRows["callee-deny"] == "@premium")
        #expect(customerRows["caller-allow"] == "- (all)")
        let vendorRows = rows(try vosctl.ok("gateway", "show", "ven"))
        #expect(vendorRows["caller-deny"] == "1900,@premium" && vendorRows["callee-allow"] == "@uk-mobile" && vendorRows["list-groups"] == "fraud")

        let lists = try #require(try vosctl.json("list", "show") as? [[String: Any]])
        #expect(lists.first { $0["name"] as? String == "fraud" }?["gateways"] as? [String] == ["cust", "ven"])
        let groups = try #require(try vosctl.json("number-group", "show") as? [[String: Any]])
        #expect(groups.map { $0["name"] as? String } == ["premium", "uk-mobile"])
        #expect(groups.first?["gateways"] as? [String] == ["cust", "ven"])
        let group = try #require(try vosctl.json("number-group", "show", "uk-mobile") as? [String: Any])
        #expect(group["prefixes"] as? [String] == ["447", "4475"])

        let before = try generation(vosctl)
        #expect(try vosctl.fails("list", "delete", "fraud").contains("number list 'fraud' is assigned to gateways cust, ven"))
        #expect(try vosctl.fails("number-group", "delete", "premium").contains("number group 'premium' is used by the filters of gateways cust, ven"))
        #expect(try vosctl.fails("gateway", "set", "ven", "--list-groups", "ghost").contains("number list 'ghost' does not exist"))
        #expect(try vosctl.fails("gateway", "set", "ven", "--callee-deny", "@ghost").contains("number group 'ghost' does not exist"))
        #expect(try vosctl.fails("gateway", "set", "ven", "--callee-deny", "@bad name").contains("invalid --callee-deny number group 'bad name'"))
        #expect(try vosctl.fails("gateway", "set", "ven", "--list-groups", "fraud", "--blacklist-groups", "fraud").contains("give one of them"))
        #expect(try vosctl.fails("number-group", "add", "g", "--prefixes", "44x").contains("invalid --prefixes '44x'"))
        #expect(try vosctl.fails("number-group", "remove", "ghost", "--prefixes", "44").contains("number group 'ghost' does not exist"))
        #expect(try generation(vosctl) == before, "nothing was written")

        try vosctl.ok("gateway", "set", "cust", "--list-groups", "", "--callee-allow", "", "--callee-deny", "")
        try vosctl.ok("gateway", "set", "ven", "--list-groups", "", "--caller-deny", "", "--callee-allow", "")
        #expect(try gateway(vosctl, "cust")["calleeFilter"] as? [String: [String]] == ["allow": [], "deny": []])
        #expect(try vosctl.ok("number-group", "remove", "premium", "--prefixes", "449,448").contains("removed 1 prefixes (1 not in it); 0 left"))
        try vosctl.ok("number-group", "delete", "premium")
        try vosctl.ok("list", "delete", "fraud")
        #expect((try vosctl.json("list", "show") as? [[String: Any]])?.map { $0["name"] as? String } == ["vip"])
    }
}
