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
