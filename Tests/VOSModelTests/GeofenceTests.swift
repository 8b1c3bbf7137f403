import Foundation
import Testing
@testable import VOSModel

/// Geofence ranges (validation, text forms), the verdict lookup and the country-range file parser.
@Suite struct GeofenceRangeTests {
    private func ip(_ text: String) throws -> IPAddress { try IPAddress(parsing: text) }

    @Test func startAndCountCidrAndStartEndDescribeTheSameRange() throws {
        let counted = try GeofenceRange(start: ip("203.0.113.0"), count: 256, mode: .forbidden, label: "XX")
        let prefixed = try GeofenceRange(prefix: IPPrefix(parsing: "203.0.113.0/24"), mode: .forbidden, label: "XX")
        let spanned = try GeofenceRange(start: ip("203.0.113.0"), last: ip("203.0.113.255"), mode: .forbidden, label: "XX")
        #expect(counted == prefixed && prefixed == spanned)
        #expect(counted.count == "256")
        #expect(counted.description == "203.0.113.0-203.0.113.255 (forbidden, XX)")
        #expect(try GeofenceRange(start: ip("192.0.2.7"), count: 1, mode: .allow).description == "192.0.2.7 (allow)")
    }

    @Test func ipv6RangesCountPastSixtyFourBits() throws {
        let range = try GeofenceRange(prefix: IPPrefix(parsing: "2001:db8::/32"), mode: .allow)
        #expect(range.last == (try ip("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")))
        #expect(range.count == "79228162514264337593543950336")  // 2^96
        let everything = try GeofenceRange(prefix: IPPrefix(parsing: "::/0"), mode: .ignore)
        #expect(everything.count == "340282366920938463463374607431768211456")
        let counted = try GeofenceRange(start: ip("2001:db8::ff00"), count: 512, mode: .forbidden)
        #expect(counted.last == (try ip("2001:db8::1:ff")))
    }

    @Test func invalidRangesAreRefusedWithTheReason() throws {
        #expect(throws: ModelError.outOfRange(field: "count", value: "0", range: "1 or more addresses")) {
            try GeofenceRange(start: try ip("192.0.2.1"), count: 0, mode: .forbidden)
        }
        let pastTheEnd = #expect(throws: ModelError.self) { try GeofenceRange(start: try ip("255.255.255.0"), count: 257, mode: .forbidden) }
        #expect(pastTheEnd?.description.contains("at most 256 addresses from 255.255.255.0") == true)
        #expect(pastTheEnd?.description.contains("255.255.255.255") == true)
        #expect(throws: Never.self) { try GeofenceRange(start: try ip("255.255.255.0"), count: 256, mode: .forbidden) }
        let hostBits = #expect(throws: ModelError.self) { try GeofenceRange(prefix: try IPPrefix(parsing: "10.1.2.3/16"), mode: .allow) }
        #expect(hostBits?.description.contains("10.1.0.0/16") == true)
        let backwards = #expect(throws: ModelError.self) { try GeofenceRange(start: try ip("10.0.0.9"), last: try ip("10.0.0.1"), mode: .allow) }
        #expect(backwards?.description.contains("at or after the start") == true)
        #expect(throws: ModelError.self) { try GeofenceRange(start: try ip("10.0.0.1"), last: try ip("::1"), mode: .allow) }
        #expect(throws: ModelError.self) { try GeofenceRange(start: try ip("10.0.0.1"), count: 1, mode: .allow, label: "bad\u{7}label") }
        #expect(throws: ModelError.self) {
            try GeofenceRange(start: try ip("10.0.0.1"), count: 1, mode: .allow, label: String(repeating: "x", count: 65))
        }
    }

    @Test func codableRoundTripAndCountInput() throws {
        let range = try GeofenceRange(prefix: IPPrefix(parsing: "2001:db8::/48"), mode: .forbidden, label: "CN")
        let encoded = try JSONRoundTrip.encode(range)
        #expect(try JSONRoundTrip.decode(GeofenceRange.self, encoded) == range)
        #expect(String(decoding: encoded, as: UTF8.self)
            == #"{"count":"1208925819614629174706176","label":"CN","last":"2001:db8:0:ffff:ffff:ffff:ffff:ffff","mode":"forbidden","start":"2001:db8::"}"#)
        let written = #"{"start":"198.51.100.0","count":"64","mode":"allow"}"#
        let decoded = try JSONRoundTrip.decode(GeofenceRange.self, Data(written.utf8))
        #expect(decoded.last == (try ip("198.51.100.63")) && decoded.label == nil)
    }
}

@Suite struct GeofenceVerdictTests {
    private func range(_ cidr: String, _ mode: GeofenceRange.Mode) throws -> GeofenceRange {
        try GeofenceRange(prefix: IPPrefix(parsing: cidr), mode: mode)
    }

    private func verdict(_ fence: Geofence, _ text: String) throws -> Geofence.Verdict {
        fence.verdict(for: try IPAddress(parsing: text))
    }

    @Test func noRangesRefuseNothing() throws {
        let fence = Geofence()
        #expect(fence.isEmpty)
        #expect(try verdict(fence, "203.0.113.1") == .allowed(nil))
    }

    @Test func forbiddenRangesRefuseOnlyTheirAddresses() throws {
        let forbidden = try range("203.0.113.0/24", .forbidden)
        let fence = Geofence([forbidden])
        #expect(try verdict(fence, "203.0.113.77") == .forbidden(forbidden))
        #expect(try verdict(fence, "203.0.114.0") == .allowed(nil))
        #expect(try verdict(fence, "2001:db8::1") == .allowed(nil))
    }

    @Test func allowRangesRefuseEveryOtherAddressButIgnoredOnes() throws {
        let allowed = try range("198.51.100.0/24", .allow)
        let ignored = try range("10.0.0.0/8", .ignore)
        let forbidden = try range("198.51.101.0/24", .forbidden)
        let fence = Geofence([forbidden, allowed, ignored])
        #expect(fence.hasAllowRanges)
        #expect(try verdict(fence, "198.51.100.9") == .allowed(allowed))
        #expect(try verdict(fence, "10.20.30.40") == .ignored(ignored))
        #expect(try verdict(fence, "198.51.101.1") == .forbidden(forbidden))
        #expect(try verdict(fence, "192.0.2.1") == .notAllowed)
        // Allow ranges of one family still refuse the other family's addresses.
        #expect(try verdict(fence, "2001:db8::1") == .notAllowed)
        #expect(try verdict(fence, "192.0.2.1").refuses && !(try verdict(fence, "10.0.0.1").refuses))
    }

    @Test func theBinarySearchFindsEachBoundaryAndNothingBetween() throws {
        // 100 ranges of 10 addresses with gaps of 6: every first, last and gap address.
        var ranges: [GeofenceRange] = []
        for index in 0..<100 {
            ranges.append(try GeofenceRange(start: .v4(UInt32(1000 + 16 * index)), count: 10, mode: index % 2 == 0 ? .forbidden : .ignore))
        }
        let fence = Geofence(ranges.shuffled())
        for (index, range) in ranges.enumerated() {
            let start = 1000 + 16 * UInt32(index)
            #expect(fence.verdict(for: .v4(start)) == (index % 2 == 0 ? .forbidden(range) : .ignored(range)))
            #expect(fence.verdict(for: .v4(start + 9)) == (index % 2 == 0 ? .forbidden(range) : .ignored(range)))
            #expect(fence.verdict(for: .v4(start + 10)) == .allowed(nil))
            #expect(fence.verdict(for: .v4(start - 1)) == .allowed(nil))
        }
        #expect(fence.verdict(for: .v4(0)) == .allowed(nil))
        #expect(fence.verdict(for: .v4(.max)) == .allowed(nil))
        let top = try GeofenceRange(start: .v4(.max - 1), count: 2, mode: .forbidden)
        let bottom = try GeofenceRange(start: .v4(0), count: 1, mode: .forbidden)
        let edges = Geofence([top, bottom])
        #expect(edges.verdict(for: .v4(.max)) == .forbidden(top) && edges.verdict(for: .v4(0)) == .forbidden(bottom))
        #expect(edges.verdict(for: .v4(1)) == .allowed(nil))
    }

    @Test func ipv6RangesAndIPv4MappedAddresses() throws {
        let forbidden = try range("2001:db8:bad::/48", .forbidden)
        let ipv4 = try range("192.0.2.0/24", .forbidden)
        let fence = Geofence([forbidden, ipv4])
        #expect(try verdict(fence, "2001:db8:bad:ffff:ffff:ffff:ffff:ffff") == .forbidden(forbidden))
        #expect(try verdict(fence, "2001:db8:bae::") == .allowed(nil))
        #expect(try verdict(fence, "::ffff:192.0.2.9") == .forbidden(ipv4), "a dual-stack socket's view of an IPv4 peer")
    }

    @Test func overlapsAreRefusedNamingBothRanges() throws {
        let existing = [try range("10.0.0.0/24", .forbidden), try range("10.0.2.0/24", .allow), try range("2001:db8::/32", .allow)]
        #expect(throws: Never.self) { try Geofence.checkAdditions([try range("10.0.1.0/24", .ignore), try range("2001:db9::/32", .allow)], to: existing) }
        let inside = #expect(throws: ModelError.self) { try Geofence.checkAdditions([try range("10.0.2.128/25", .forbidden)], to: existing) }
        #expect(inside?.description == "geofence range 10.0.2.128-10.0.2.255 (forbidden) overlaps the existing range 10.0.2.0-10.0.2.255 (allow)")
        let covering = #expect(throws: ModelError.self) { try Geofence.checkAdditions([try range("10.0.0.0/16", .forbidden)], to: existing) }
        #expect(covering?.description.contains("overlaps the existing range 10.0.0.0-10.0.0.255") == true)
        let spanning = try GeofenceRange(start: IPAddress(parsing: "10.0.1.0"), count: 300, mode: .forbidden)
        let later = #expect(throws: ModelError.self) { try Geofence.checkAdditions([spanning], to: existing) }
        #expect(later?.description.contains("10.0.2.0-10.0.2.255") == true)
        let twice = #expect(throws: ModelError.self) {
            try Geofence.checkAdditions([try range("192.0.2.0/24", .allow), try range("192.0.2.128/25", .allow)], to: [])
        }
        #expect(twice?.description.contains("also being added") == true)
        #expect(throws: ModelError.self) { try Geofence.checkAdditions([try range("2001:db8:1::/48", .allow)], to: existing) }
    }
}

@Suite struct GeofenceCSVTests {
    @Test func everyCommonFormatParses() throws {
        let text = """
        # country ranges
        network,country
        1.0.1.0/24,CN
        1.0.2.0,1.0.3.255,CN
        1.0.8.0,2048,cn
        "16778240","16779263","AU","Australia, Commonwealth of"
        2001:200::/32,JP
        apnic|JP|ipv6|2001:218::|32|20000926|allocated
        apnic|CN|ipv4|1.0.32.0|8192|20110412|allocated

        """
        let ranges = try GeofenceCSV.parse(text, mode: .forbidden)
        #expect(ranges.map(\.span) == ["1.0.1.0-1.0.1.255", "1.0.2.0-1.0.3.255", "1.0.8.0-1.0.15.255", "1.0.4.0-1.0.7.255",
                                       "2001:200::-2001:200:ffff:ffff:ffff:ffff:ffff:ffff",
                                       "2001:218::-2001:218:ffff:ffff:ffff:ffff:ffff:ffff", "1.0.32.0-1.0.63.255"])
        #expect(ranges.map { $0.label ?? "" } == ["CN", "CN", "cn", "AU", "JP", "JP", "CN"])
        #expect(ranges.allSatisfy { $0.mode == .forbidden })
    }

    @Test func delegatedStatsHeadersSummariesAndASNsAreSkipped() throws {
        let text = """
        2|apnic|20240101|70000|19830613|20231231|+1000
        apnic|*|ipv4|*|50000|summary
        apnic|JP|asn|173|1|20020801|allocated
        apnic|CN|ipv4|1.0.1.0|256|20110414|allocated
        """
        #expect(try GeofenceCSV.parse(text, mode: .allow).map(\.description) == ["1.0.1.0-1.0.1.255 (allow, CN)"])
    }

    @Test func ip2locationIPv4MappedRangesBecomeIPv4() throws {
        // ::ffff:1.0.0.0 - ::ffff:1.0.0.255 as IP2Location's IPv6 file writes it.
        let ranges = try GeofenceCSV.parse("\"281470698520576\",\"281470698520831\",\"US\",\"United States\"\n", mode: .forbidden)
        #expect(ranges.map(\.span) == ["1.0.0.0-1.0.0.255"])
    }

    @Test func onlyTheNamedCountriesAreKept() throws {
        let text = "1.0.1.0/24,CN\n1.0.4.0/22,AU\n2001:200::/32,JP\n"
        #expect(try GeofenceCSV.parse(text, mode: .allow, labels: ["au", "JP"]).map { $0.label ?? "" } == ["AU", "JP"])
    }

    @Test func aBadLineIsNamedByNumberAndText() throws {
        let text = "1.0.1.0/24,CN\n\n1.0.2.0,1.0.2.x,CN\n1.0.4.0/22,AU\n"
        let error = #expect(throws: GeofenceCSV.LineError.self) { try GeofenceCSV.parse(text, mode: .forbidden) }
        #expect(error?.line == 3)
        #expect(error?.description.hasPrefix("line 3 '1.0.2.0,1.0.2.x,CN': invalid second field '1.0.2.x'") == true)
        let zero = #expect(throws: GeofenceCSV.LineError.self) { try GeofenceCSV.parse("1.0.1.0/24\n1.0.2.0,0\n", mode: .forbidden) }
        #expect(zero?.line == 2 && zero?.message.contains("1 or more") == true)
        let quote = #expect(throws: GeofenceCSV.LineError.self) { try GeofenceCSV.parse("1.0.1.0/24,\"CN\n", mode: .forbidden) }
        #expect(quote?.message == "unterminated quoted field")
        let lone = #expect(throws: GeofenceCSV.LineError.self) { try GeofenceCSV.parse("1.0.1.0/24\n1.0.2.0\n", mode: .forbidden) }
        #expect(lone?.line == 2)
    }

    @Test func overlappingLinesAreNamedByNumber() throws {
        let text = "10.0.0.0/24,A\n192.0.2.0/24,B\n10.0.0.128,10.0.1.10,C\n"
        let error = #expect(throws: GeofenceCSV.LineError.self) { try GeofenceCSV.parse(text, mode: .forbidden) }
        #expect(error?.line == 3)
        #expect(error?.message == "10.0.0.128-10.0.1.10 overlaps 10.0.0.0-10.0.0.255 on line 1")
    }

    @Test func twoHundredThousandLinesParseAndAreJudged() throws {
        var text = "start,end,country\n"
        text.reserveCapacity(8_000_000)
        for index in 0..<200_000 {
            let start = UInt32(0x0100_0000) + UInt32(index) * 256
            text += "\(IPAddress.v4(start)),\(IPAddress.v4(start + 255)),C\(index % 200)\n"
        }
        let ranges = try GeofenceCSV.parse(text, mode: .forbidden)
        #expect(ranges.count == 200_000)
        let fence = Geofence(ranges)
        #expect(fence.verdict(for: .v4(0x0100_0000 + 199_999 * 256 + 3)).refuses)
    }
}
