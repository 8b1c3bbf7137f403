import Foundation
import Testing
import VOSTestSupport

@Suite struct GatewayCommandTests {
    func initialised() throws -> (Scratch, Vosctl) {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try vosctl.ok("init")
        try vosctl.ok("account", "add", "acme", "--type", "prepaid", "--balance", "100")
        return (scratch, vosctl)
    }

    @Test func addShowListSetRemove() throws {
        let (scratch, vosctl) = try initialised()
        defer { withExtendedLifetime(scratch) {} }
        try vosctl.ok("gateway", "add", "mapping", "cust1", "--ip", "203.0.113.5,2001:db8::5", "--port", "5080",
                      "--account", "acme", "--cps", "10", "--concurrent", "30", "--auth", "ip-port")
        try vosctl.ok("gateway", "add", "routing", "ven1", "--address", "198.51.100.7:5070", "--prefix", "44,33",
                      "--priority", "2", "--line-limit", "30", "--cps", "5", "--switch-until-connect", "off",
                      "--protect-route", "on", "--options-check", "off", "--callee-rewrite", "x:0044")

        let shown = try vosctl.json("gateway", "show", "cust1") as? [String: Any]
        let mapping = shown?["gateway"] as? [String: Any]
        #expect(shown?["kind"] as? String == "mapping")
        #expect(mapping?["ips"] as? [String] == ["203.0.113.5", "2001:db8::5"])
        #expect(mapping?["port"] as? Int == 5080)
        #expect(mapping?["authentication"] as? String == "ip-port")
        #expect(mapping?["cpsLimit"] as? Int == 10)
        #expect(mapping?["concurrentLimit"] as? Int == 30)

        let routing = (try vosctl.json("gateway", "show", "ven1") as? [String: Any])?["gateway"] as? [String: Any]
        #expect(routing?["prefixes"] as? [String] == ["44", "33"])
        #expect(routing?["priority"] as? Int == 2)
        #expect(routing?["lineLimit"] as? Int == 30)
        #expect(routing?["switchUntilConnect"] as? Bool == false)
        #expect(routing?["protectRoute"] as? Bool == true)
        #expect(routing?["optionsCheck"] as? Bool == false)
        #expect((routing?["calleeRewrite"] as? [[String: String]]) == [["from": "x", "to": "0044"]])

        let table = try vosctl.ok("gateway", "list")
        #expect(table.contains("cust1") && table.contains("198.51.100.7:5070/udp"))
        let routingOnly = try vosctl.json("gateway", "list", "--kind", "routing") as? [String: Any]
        #expect((routingOnly?["mapping"] as? [Any])?.isEmpty == true)
        #expect((routingOnly?["routing"] as? [Any])?.count == 1)
        #expect(try vosctl.ok("gateway", "show", "ven1").contains("switch-until-connect  off"))

        try vosctl.ok("gateway", "set", "ven1", "--line-limit", "60", "--prefix", "4477", "--switch-until-connect", "on")
        let updated = (try vosctl.json("gateway", "show", "ven1") as? [String: Any])?["gateway"] as? [String: Any]
        #expect(updated?["lineLimit"] as? Int == 60)
        #expect(updated?["prefixes"] as? [String] == ["4477"])
        #expect(updated?["priority"] as? Int == 2, "fields not named keep their values")

        try vosctl.ok("gateway", "remove", "ven1")
        #expect(try vosctl.fails("gateway", "show", "ven1").contains("gateway 'ven1' does not exist"))
    }

    @Test func badInputIsRefusedAndChangesNothing() throws {
        let (scratch, vosctl) = try initialised()
        defer { withExtendedLifetime(scratch) {} }
        try vosctl.ok("gateway", "add", "mapping", "cust1", "--ip", "203.0.113.5")
        #expect(try vosctl.fails("gateway", "add", "mapping", "bad", "--ip", "300.1.1.1").contains("invalid --ip '300.1.1.1'"))
        #expect(try vosctl.fails("gateway", "add", "mapping", "cust1", "--ip", "203.0.113.9").contains("already exists"))
        #expect(try vosctl.fails("gateway", "add", "routing", "cust1", "--address", "198.51.100.1", "--prefix", "1").contains("already exists"))
        #expect(try vosctl.fails("gateway", "add", "mapping", "cust2", "--ip", "203.0.113.5").contains("already identifies mapping gateway 'cust1'"))
        #expect(try vosctl.fails("gateway", "add", "mapping", "cust3", "--ip", "203.0.113.6", "--account", "ghost").contains("account 'ghost'"))
        #expect(try vosctl.fails("gateway", "add", "mapping", "cust4").contains("--ip"))
        #expect(try vosctl.fails("gateway", "add", "routing", "v", "--address", "198.51.100.1:99999", "--prefix", "1").contains("1-65535"))
        #expect(try vosctl.fails("gateway", "add", "routing", "v", "--address", "198.51.100.1", "--prefix", "4x").contains("--prefix"))
        #expect(try vosctl.fails("gateway", "add", "routing", "v", "--address", "198.51.100.1", "--prefix", "1", "--priority", "0").contains("priority 0 is out of range"))
        #expect(try vosctl.fails("gateway", "set", "cust1", "--line-limit", "3").contains("--line-limit applies to routing gateways"))
        #expect(try vosctl.fails("gateway", "set", "nobody", "--cps", "3").contains("gateway 'nobody' does not exist"))
        #expect(try vosctl.fails("gateway", "set", "cust1").contains("nothing to change"))
        #expect(try vosctl.fails("gateway", "remove", "nobody").contains("does not exist"))
        #expect(try vosctl.fails("gateway", "add", "routing", "v", "--address", "198.51.100.1", "--prefix", "1", "--switch-until-connect", "maybe").contains("switch-until-connect"))
        let listing = try vosctl.json("gateway", "list") as? [String: Any]
        #expect((listing?["mapping"] as? [Any])?.count == 1)
        #expect((listing?["routing"] as? [Any])?.isEmpty == true)
    }

    @Test func anUninitialisedStoreSaysHowToFixIt() throws {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("empty"))
        let message = try vosctl.fails("gateway", "list")
        #expect(message.contains("no vos store at") && message.contains("init"))
    }

    @Test func dataDirectoryComesFromTheEnvironment() throws {
        let scratch = try Scratch()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Vosctl.path)
        process.arguments = ["init"]
        process.environment = ["VOS_DATA_DIR": scratch.child("from-env")]
        process.standardOutput = Pipe()
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(FileManager.default.fileExists(atPath: scratch.child("from-env/data.mdb")))
    }
}
