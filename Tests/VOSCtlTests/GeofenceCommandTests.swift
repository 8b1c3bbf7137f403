import Foundation
import Testing
import VOSTestSupport

/// `vosctl geofence`: every form of adding a range, listing, checking, removing, and importing
/// country-range files all or nothing.
@Suite struct GeofenceCommandTests {
    private func initialized(_ scratch: Scratch) throws -> Vosctl {
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try vosctl.ok("init")
        return vosctl
    }

    private func listed(_ vosctl: Vosctl) throws -> [[String: Any]] {
        try #require(try vosctl.json("geofence", "list") as? [[String: Any]])
    }

    @Test func addListCheckAndRemove() throws {
        let scratch = try Scratch()
        let vosctl = try initialized(scratch)
        #expect(try vosctl.ok("geofence", "add", "--start", "203.0.113.0", "--count", "256", "--mode", "forbidden", "--label", "XX")
            == "added geofence range 203.0.113.0-203.0.113.255 (forbidden, XX)\n")
        try vosctl.ok("geofence", "add", "--cidr", "2001:db8::/32", "--mode", "allow")
        try vosctl.ok("geofence", "add", "--start", "10.0.0.1", "--end", "10.0.0.9", "--mode", "ignore")
        let ranges = try listed(vosctl)
        #expect(ranges.map { $0["start"] as? String } == ["10.0.0.1", "203.0.113.0", "2001:db8::"])
        #expect(ranges.map { $0["count"] as? String } == ["9", "256", "79228162514264337593543950336"])
        #expect(ranges.map { $0["mode"] as? String } == ["ignore", "forbidden", "allow"])
        #expect(ranges[1]["label"] as? String == "XX" && ranges[0]["label"] == nil)
        let table = try vosctl.ok("geofence", "list")
        #expect(table.hasPrefix("START") && table.contains("203.0.113.255") && table.contains("forbidden"))

        #expect(try vosctl.ok("geofence", "check", "203.0.113.9").contains("refused, in the forbidden range 203.0.113.0-203.0.113.255"))
        #expect(try vosctl.ok("geofence", "check", "198.51.100.1").contains("refused, outside every allow range"))
        let check = try #require(try vosctl.json("geofence", "check", "10.0.0.5") as? [String: Any])
        #expect(check["refused"] as? Bool == false && check["verdict"] as? String == "ignored")

        #expect(try vosctl.ok("geofence", "remove", "--start", "203.0.113.0").contains("removed geofence range 203.0.113.0-203.0.113.255"))
        #expect(try vosctl.fails("geofence", "remove", "--start", "203.0.113.0").contains("geofence range starting at '203.0.113.0' does not exist"))
        #expect(try vosctl.ok("geofence", "remove", "--all") == "removed 2 geofence ranges\n")
        #expect(try listed(vosctl).isEmpty)
    }

    @Test func invalidAndOverlappingRangesAreRefusedAndChangeNothing() throws {
        let scratch = try Scratch()
        let vosctl = try initialized(scratch)
        try vosctl.ok("geofence", "add", "--cidr", "198.51.100.0/24", "--mode", "allow", "--label", "partner")
        let overlap = try vosctl.fails("geofence", "add", "--start", "198.51.100.200", "--count", "100", "--mode", "forbidden")
        #expect(overlap.contains("geofence range 198.51.100.200-198.51.101.43 (forbidden) overlaps the existing range 198.51.100.0-198.51.100.255 (allow, partner)"))
        #expect(try vosctl.fails("geofence", "add", "--start", "198.51.101.0", "--count", "0", "--mode", "forbidden").contains("count 0 is out of range"))
        #expect(try vosctl.fails("geofence", "add", "--start", "255.255.255.250", "--count", "7", "--mode", "forbidden")
            .contains("at most 6 addresses from 255.255.255.250"))
        #expect(try vosctl.fails("geofence", "add", "--cidr", "10.1.2.3/8", "--mode", "forbidden").contains("10.0.0.0/8"))
        #expect(try vosctl.fails("geofence", "add", "--start", "10.0.0.x", "--count", "1", "--mode", "forbidden").contains("invalid --start '10.0.0.x'"))
        #expect(try vosctl.fails("geofence", "add", "--start", "10.0.0.1", "--count", "many", "--mode", "forbidden").contains("invalid --count 'many'"))
        let combination = try vosctl.run(["geofence", "add", "--cidr", "10.0.0.0/8", "--count", "5", "--mode", "forbidden"])
        #expect(combination.status == 64 && combination.stderr.contains("--start with --count or --end, or --cidr alone"))
        #expect(try vosctl.run(["geofence", "add", "--cidr", "10.0.0.0/8", "--mode", "sometimes"]).status == 64)
        #expect(try listed(vosctl).count == 1)
    }

    @Test func importAddsEveryFormatAndAFilteredCountry() throws {
        let scratch = try Scratch()
        let vosctl = try initialized(scratch)
        let file = try scratch.write("countries.csv", """
            network,country_iso_code
            1.0.1.0/24,CN
            1.0.2.0,1.0.3.255,CN
            1.0.4.0,1024,AU
            "16781312","16781567","AU","Australia"
            apnic|CN|ipv4|1.0.8.0|2048|20110412|allocated
            2001:200::/32,JP

            """)
        #expect(try vosctl.ok("geofence", "import", file, "--country", "cn", "--mode", "allow")
            == "imported 3 geofence ranges (allow) from \(file)\n")
        #expect(try listed(vosctl).map { $0["mode"] as? String } == ["allow", "allow", "allow"])
        #expect(try vosctl.ok("geofence", "import", file, "--replace").contains("imported 6 geofence ranges (forbidden) from \(file) (replacing 3)"))
        #expect(try listed(vosctl).count == 6)
        #expect(try vosctl.ok("geofence", "remove", "--label", "au") == "removed 2 geofence ranges labelled au\n")
        #expect(try vosctl.json("geofence", "list", "--label", "JP") as? [[String: Any]] != nil)
        #expect(try listed(vosctl).count == 4)
    }

    @Test func aBadLineOrAnOverlapImportsNothing() throws {
        let scratch = try Scratch()
        let vosctl = try initialized(scratch)
        try vosctl.ok("geofence", "add", "--cidr", "192.0.2.0/24", "--mode", "ignore", "--label", "lab")
        let bad = try scratch.write("bad.csv", "1.0.1.0/24,CN\n1.0.2.0/24,CN\n1.0.3.0,1.0.3.x,CN\n1.0.4.0/24,CN\n")
        let message = try vosctl.fails("geofence", "import", bad)
        #expect(message.contains("line 3 '1.0.3.0,1.0.3.x,CN'") && message.contains("nothing was imported"))
        let inFile = try scratch.write("overlap.csv", "1.0.1.0/24,CN\n1.0.1.128/25,CN\n")
        #expect(try vosctl.fails("geofence", "import", inFile).contains("line 2 '1.0.1.128/25,CN': 1.0.1.128-1.0.1.255 overlaps 1.0.1.0-1.0.1.255 on line 1"))
        let stored = try scratch.write("stored.csv", "1.0.1.0/24,CN\n192.0.2.64/26,XX\n")
        let clash = try vosctl.fails("geofence", "import", stored)
        #expect(clash.contains("192.0.2.64-192.0.2.127 (forbidden, XX) overlaps the existing range 192.0.2.0-192.0.2.255 (ignore, lab)"))
        #expect(clash.contains("nothing was imported"))
        #expect(try vosctl.fails("geofence", "import", scratch.child("missing.csv")).contains("cannot read"))
        let empty = try scratch.write("empty.csv", "# nothing\n")
        #expect(try vosctl.fails("geofence", "import", empty).contains("no ranges found"))
        #expect(try listed(vosctl).map { $0["start"] as? String } == ["192.0.2.0"])
    }

    @Test func twoHundredThousandRangesImportQuickly() throws {
        let scratch = try Scratch()
        let vosctl = try initialized(scratch)
        var text = "start,end,country\n"
        text.reserveCapacity(8_000_000)
        for index in 0..<200_000 {
            let start = UInt32(0x0100_0000) + UInt32(index) * 256
            text += "\(start >> 24).\(start >> 16 & 0xff).\(start >> 8 & 0xff).0,\(start >> 24).\(start >> 16 & 0xff).\(start >> 8 & 0xff).255,C\(index % 200)\n"
        }
        let file = try scratch.write("world.csv", text)
        // How fast: docs/SUBSCRIBERS-AND-FRAUD.md (measured, not asserted here).
        #expect(try vosctl.ok("geofence", "import", file).hasPrefix("imported 200000 geofence ranges"))
        let check = try #require(try vosctl.json("geofence", "check", "4.13.63.200") as? [String: Any])
        #expect(check["refused"] as? Bool == true)
    }
}
