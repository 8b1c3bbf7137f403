import Testing
@testable import VOSModel

@Suite struct AddressTests {
    @Test func parsesIPv4AndIPv6Canonically() throws {
        #expect(try IPAddress(parsing: "203.0.113.5").description == "203.0.113.5")
        #expect(try IPAddress(parsing: "2001:DB8:0:0::5").description == "2001:db8::5")
        #expect(try IPPrefix(parsing: "10.0.0.0/8").description == "10.0.0.0/8")
        #expect(try IPPrefix(parsing: "::1").description == "::1/128")
    }

    @Test(arguments: ["300.1.1.1", "1.2.3", "host.example", "", "1.2.3.4/33", "::g"])
    func refusesBadAddresses(_ text: String) {
        #expect(throws: ModelError.self) { try IPPrefix(parsing: text) }
    }

    @Test func strictParsingTakesTheTextAsGiven() throws {
        #expect(IPAddress("203.0.113.5") == .v4(0xCB00_7105))
        #expect(IPAddress(" 203.0.113.5") == nil, "operator input is trimmed by init(parsing:), nothing else is")
        #expect(try IPAddress(parsing: " 203.0.113.5 ") == .v4(0xCB00_7105))
        #expect(IPAddress("[2001:db8::1]") == nil && IPAddress("host.example") == nil)
    }

    @Test(arguments: ["0.0.0.0", "203.0.113.5", "255.255.255.255", "::", "::1", "2001:db8::5", "fe80::1:2:3:4", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"])
    func byteAndKernelFormsRoundTrip(_ text: String) throws {
        let address = try IPAddress(parsing: text)
        #expect(address.bytes.count == address.bitWidth / 8)
        #expect(IPAddress(bytes: address.bytes) == address)
        #expect((address.isIPv4 ? IPAddress(address.inAddress) : IPAddress(address.in6Address)) == address)
        #expect(address.description == text)
    }

    @Test func bytesAreNetworkOrder() {
        #expect(IPAddress.v4(0xCB00_7105).bytes == [203, 0, 113, 5])
        #expect(IPAddress("2001:db8::5")?.bytes == [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [5])
        #expect(IPAddress(bytes: [1, 2, 3]) == nil)
    }

    @Test func prefixesKeepWhatWasWrittenAndKnowTheirNetwork() throws {
        let written = try IPPrefix(parsing: "10.1.2.3/8")
        #expect(written.description == "10.1.2.3/8" && written.network == IPAddress("10.0.0.0"))
        #expect(try written.contains(IPPrefix(parsing: "10.200.0.0/16")))
        #expect(try !written.contains(IPPrefix(parsing: "11.0.0.0/16")))
        #expect(try !written.contains(IPPrefix(parsing: "10.0.0.0/7")), "a wider prefix is not inside")
        #expect(try !written.contains(IPPrefix(parsing: "::/0")), "another family is not inside")
        #expect(try IPPrefix(parsing: "2001:db8::1/32").network == IPAddress("2001:db8::"))
        let upperHalf = try IPPrefix(parsing: "2001:db8:0:0:ffff:ffff:ffff:ffff/64")
        #expect(upperHalf.endExclusive == IPAddress("2001:db8:0:1::")?.bytes, "the low half carries into the high one")
        let everything = try IPPrefix(parsing: "::/0")
        #expect(everything.endExclusive == nil)
        #expect(IPPrefix.maskBytes(length: 20, byteCount: 4) == [255, 255, 240, 0])
        #expect(IPPrefix.normalized([written, try IPPrefix(parsing: "10.9.9.9"), try IPPrefix(parsing: "::1")]).map(\.description)
                == ["10.0.0.0/8", "::1/128"])
    }

    @Test func sipAddressForms() throws {
        let plain = try SIPAddress(parsing: "198.51.100.7:5070")
        #expect(plain.host == "198.51.100.7" && plain.port == 5070)
        #expect(try SIPAddress(parsing: "sbc.example.net").port == 5060)
        #expect(try SIPAddress(parsing: "[2001:db8::1]:5080").description == "[2001:db8::1]:5080")
        #expect(throws: ModelError.self) { try SIPAddress(parsing: "198.51.100.7:0") }
        #expect(throws: ModelError.self) { try SIPAddress(parsing: "198.51.100.7:abc") }
        #expect(throws: ModelError.self) { try SIPAddress(parsing: "999.1.1.1:5060") }
        #expect(throws: ModelError.self) { try SIPAddress(parsing: "bad_host!:5060") }
    }
}
