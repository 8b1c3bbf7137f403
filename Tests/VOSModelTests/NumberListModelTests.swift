import Foundation
import Testing
import VOSModel

/// Packed numbers, number sets and their binary form, list files, and the gateway fields that
/// name lists and groups (with the records written before them).
@Suite struct NumberListModelTests {
    @Test func packingKeepsEveryDialStringAndItsOrder() throws {
        let texts = ["0", "1", "44", "447700900123", "+8801711000001", "*21#", "#", "1234567890123456", "12345678901234567",
                     String(repeating: "9", count: 32)]
        for text in texts {
            let packed = try #require(PackedNumber(text), "\(text)")
            #expect(packed.string == text)
            #expect(packed.length == text.count)
            #expect(packed.isWellFormed)
        }
        let sorted = texts.compactMap(PackedNumber.init).sorted().map(\.string)
        // The alphabet's order is 0 < 1 < ... < 9 < + < * < #, and a prefix comes before its extensions.
        #expect(sorted == ["0", "1", "1234567890123456", "12345678901234567", "44", "447700900123", String(repeating: "9", count: 32),
                           "+8801711000001", "*21#", "#"])
        for bad in ["", "44a", "sipp", "44 1", String(repeating: "1", count: 33)] { #expect(PackedNumber(bad) == nil, "\(bad)") }
        // What a damaged record could hold: a gap, a code past '#', no first character, a low word before a full high one.
        for (high, low) in [(0x2030_0000_0000_0000, 0), (0xE000_0000_0000_0000, 0), (0x2F00_0000_0000_0000, 0), (0, 0x2000_0000_0000_0000),
                            (0x2000_0000_0000_0000, 0x2000_0000_0000_0000)] as [(UInt64, UInt64)] {
            #expect(!PackedNumber(high: high, low: low).isWellFormed, "\(String(high, radix: 16)) \(String(low, radix: 16))")
        }
        #expect(PackedNumber(high: 0x2222_2222_2222_2222, low: 0x3D00_0000_0000_0000).isWellFormed)
        #expect(PackedNumber(high: 0x2222_2222_2222_2222, low: 0x3D00_0000_0000_0000).string == "11111111111111112#")
    }

    @Test func leadingDialCharactersArePackedForPrefixMatching() throws {
        let (packed, length) = PackedNumber.leading("4477abc")
        #expect(length == 4 && packed.string == "4477")
        #expect(PackedNumber.leading("anonymous").length == 0)
        let long = try #require(PackedNumber("123456789012345678"))
        #expect(long.prefix(17).string == "12345678901234567")
        #expect(long.prefix(16).string == "1234567890123456")
        #expect(long.prefix(3).string == "123")
        #expect(long.prefix(32) == long)
    }

    @Test func aSetIsSortedUniqueAndFindsItsNumbers() throws {
        let set = try NumberSet(validating: ["4420", "333", "4420", "+1", "12345678901234567890"], field: "n")
        #expect(set.count == 4)
        #expect(set.numbers() == ["12345678901234567890", "333", "4420", "+1"])
        for member in ["4420", "333", "+1", "12345678901234567890"] { #expect(set.contains(member), "\(member)") }
        for other in ["442", "44201", "3", "1", "sipp", ""] { #expect(!set.contains(other), "\(other)") }
        #expect(throws: ModelError.invalid(field: "n", value: "44x", expected: "1-32 characters of 0-9, +, *, #")) {
            try NumberSet(validating: ["44x"], field: "n")
        }
        let more = try NumberSet(validating: ["333", "555"], field: "n")
        #expect(set.union(more).numbers() == ["12345678901234567890", "333", "4420", "555", "+1"])
        #expect(set.subtracting(more).numbers() == ["12345678901234567890", "4420", "+1"])
        #expect(set.numbers(limit: 2).count == 2)
    }

    @Test func theBinaryFormRoundTripsAndRefusesDamage() throws {
        var generator = SystemRandomNumberGenerator()
        let numbers = (0..<5000).map { _ in String(UInt64.random(in: 10_000_000_000...99_999_999_999, using: &generator)) }
        let set = try NumberSet(validating: numbers + ["+44#"], field: "n")
        let bytes = set.binary
        #expect(bytes.count == 8 + 16 * set.count)
        let back = try bytes.withUnsafeBytes { try NumberSet(binary: $0) }
        #expect(back == set)
        #expect(try [UInt8]("VNS1\0\0\0\0".utf8).withUnsafeBytes { try NumberSet(binary: $0) }.isEmpty)
        #expect(throws: ModelError.self) { try Array(bytes.dropLast()).withUnsafeBytes { try NumberSet(binary: $0) } }
        #expect(throws: ModelError.self) { try ([0] + Array(bytes.dropFirst())).withUnsafeBytes { try NumberSet(binary: $0) } }
        var swapped = bytes
        swapped.replaceSubrange(8..<24, with: bytes[24..<40])
        #expect(throws: ModelError.self, "out of order") { try swapped.withUnsafeBytes { try NumberSet(binary: $0) } }
    }

    @Test func aListFileTakesNumbersCommentsAndBlankLines() throws {
        let text = "\u{FEFF}# fraud numbers\n447700900001\n\n  447700900002  \r\n447700900001\n+8801711 # a comment\n\t\n*21#\n"
        let numbers = try NumberListFile.parse(text)
        #expect(numbers.map(\.string) == ["447700900001", "447700900002", "447700900001", "+8801711", "*21#"])
        #expect(try NumberListFile.parse("").isEmpty)
        #expect(try NumberListFile.parse("123").map(\.string) == ["123"], "no final newline")
    }

    @Test func aBadLineIsNamedWithItsText() {
        #expect(throws: NumberListFile.LineError(line: 3, text: "44770o900003")) {
            try NumberListFile.parse("447700900001\n# ok\n44770o900003\n447700900004\n")
        }
        #expect(throws: NumberListFile.LineError(line: 2, text: "4477 4478")) { try NumberListFile.parse("1\n4477 4478\n") }
        #expect(throws: NumberListFile.LineError(line: 1, text: String(repeating: "1", count: 33))) {
            try NumberListFile.parse(String(repeating: "1", count: 33))
        }
        let error = NumberListFile.LineError(line: 3, text: "44770o900003")
        #expect(error.description.hasPrefix("line 3: '44770o900003' is not a number"))
    }

    /// A million lines (how fast: tools/bench/number-lists, not a timed test): every number is
    /// found, around every block of the search's fences too, and its neighbours are not.
    @Test func aMillionLinesParseAndEveryNumberIsFound() throws {
        var text = ""
        text.reserveCapacity(14_000_000)
        // Even numbers only, so each odd neighbour is a near miss inside the same block.
        for index in 0..<1_000_000 { text += "4477\(10_000_000 + 2 * index)\n" }
        let set = NumberSet(unordered: try NumberListFile.parse(text))
        #expect(set.count == 1_000_000)
        var missed: [String] = []
        for index in 0..<1_000_000 {
            let member = "4477\(10_000_000 + 2 * index)"
            if !set.contains(member) { missed.append(member) }
            if set.contains("4477\(10_000_000 + 2 * index + 1)") { missed.append("neighbour of " + member) }
        }
        #expect(missed.isEmpty, "\(missed.prefix(10))")
        for outside in ["4477", "447709999999", "447730000000", "1", "+44"] { #expect(!set.contains(outside), "\(outside)") }
    }

    @Test func gatewaysNameListsAndGroupsAndOldRecordsLoad() throws {
        let legacy = #"{"name":"cust1","ips":["203.0.113.5"],"blacklistGroups":["fraud"],"whitelistGroups":["vip"],"callerFilter":{"allow":[],"deny":["1900"]}}"#
        let mapping = try JSONDecoder().decode(MappingGateway.self, from: Data(legacy.utf8))
        #expect(mapping.listGroups == ["fraud"], "blacklistGroups loads as listGroups; whitelistGroups was never settable and is ignored")
        #expect(mapping.callerFilter == PrefixFilter(deny: ["1900"]))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let written = String(decoding: try encoder.encode(mapping), as: UTF8.self)
        #expect(written.contains(#""listGroups":["fraud"]"#) && !written.contains("blacklistGroups"))
        #expect(written.contains(#""callerFilter":{"allow":[],"deny":["1900"]}"#), "a filter without groups is written as before")

        let routing = #"{"name":"v","address":{"host":"198.51.100.7","port":5060,"transport":"udp"},"prefixes":["44"],"calleeFilter":{"allow":["44"],"deny":[]}}"#
        let vendor = try JSONDecoder().decode(RoutingGateway.self, from: Data(routing.utf8))
        #expect(vendor.calleeFilter.allow == ["44"] && vendor.listGroups.isEmpty)
        var grouped = vendor
        grouped.calleeFilter.denyGroups = ["premium"]
        let again = try JSONDecoder().decode(RoutingGateway.self, from: try encoder.encode(grouped))
        #expect(again.calleeFilter == PrefixFilter(allow: ["44"], denyGroups: ["premium"]))
    }

    @Test func namesAreValidated() throws {
        var mapping = MappingGateway(name: "m", ips: [try IPAddress(parsing: "192.0.2.9")])
        mapping.listGroups = ["fraud", "fraud"]
        #expect(throws: ModelError.self) { try mapping.validate() }
        mapping.listGroups = ["bad name"]
        #expect(throws: ModelError.self) { try mapping.validate() }
        var routing = RoutingGateway(name: "r", address: SIPAddress(host: "198.51.100.9"), prefixes: ["44"])
        routing.callerFilter.allowGroups = ["-x"]
        #expect(throws: ModelError.self) { try routing.validate() }
        #expect(throws: ModelError.self) { try NumberGroup(name: "g", prefixes: ["44a"]).validate() }
        #expect(NumberGroup(name: "g", prefixes: ["447", "44", "447"]).prefixes == ["44", "447"])
        #expect(throws: ModelError.self) { try NumberList(name: "", kind: .black).validate() }
    }
}
