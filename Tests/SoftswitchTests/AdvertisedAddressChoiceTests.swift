import Softswitch
import Testing
import VOSModel

@Suite struct AdvertisedAddressChoiceTests {
    let customer = Self.ip("192.0.2.10")
    let vendor = Self.ip("198.51.100.20")
    let customerSide = Self.ip("192.0.2.1")
    let vendorSide = Self.ip("198.51.100.1")

    /// A literal of the test; an unparsable one becomes an address no assertion expects.
    static func ip(_ text: String) -> IPAddress { (try? IPAddress(parsing: text)) ?? .v6(high: .max, low: .max) }

    /// The appliance of the two-network lab: each peer is reached through its own interface.
    func route(_ peer: IPAddress) -> IPAddress? {
        switch peer {
        case customer: return customerSide
        case vendor: return vendorSide
        default: return nil
        }
    }

    @Test func eachPeerSeesTheAddressItsRouteLeavesFrom() throws {
        let choice = AdvertisedAddressChoice()
        #expect(choice.address(for: customer, routeSource: route) == customerSide)
        #expect(choice.address(for: vendor, routeSource: route) == vendorSide)
        #expect(choice.address(for: try IPAddress(parsing: "203.0.113.9"), routeSource: route) == nil)
    }

    @Test func aNATInFrontOfAnInterfaceIsAdvertisedForThatInterfaceOnly() throws {
        let publicAddress = try IPAddress(parsing: "203.0.113.7")
        let choice = AdvertisedAddressChoice(map: try AddressMap(parsing: "198.51.100.1=203.0.113.7"))
        #expect(choice.address(for: vendor, routeSource: route) == publicAddress)
        #expect(choice.address(for: customer, routeSource: route) == customerSide)
        // A leg bound to the NATed address is advertised as the public one; a wildcard leg follows signalling.
        #expect(choice.mediaAddress(local: vendorSide, for: vendor, routeSource: route) == publicAddress)
        #expect(choice.mediaAddress(local: try IPAddress(parsing: "0.0.0.0"), for: customer, routeSource: route) == customerSide)
    }

    @Test func aGatewaysOwnAddressWinsOverEverything() throws {
        let own = try IPAddress(parsing: "203.0.113.50")
        let choice = AdvertisedAddressChoice(gateway: own, fixed: try IPAddress(parsing: "203.0.113.60"),
                                             map: try AddressMap(parsing: "198.51.100.1=203.0.113.7"))
        #expect(choice.address(for: vendor, routeSource: route) == own)
        #expect(choice.mediaAddress(local: vendorSide, for: vendor, routeSource: route) == own)
    }

    @Test func aLoopbackOverrideIsNeverShownToARemotePeer() throws {
        let loopback = try IPAddress(parsing: "127.0.0.1")
        let choice = AdvertisedAddressChoice(fixed: loopback, listen: loopback)
        #expect(choice.address(for: vendor, routeSource: route) == vendorSide)
        #expect(choice.address(for: try IPAddress(parsing: "127.0.0.3"), routeSource: { _ in nil }) == loopback)
        let problem = choice.loopbackProblem(peers: [("uk", vendor)])
        #expect(problem?.contains("--sip-advertise 127.0.0.1 is a loopback address, but gateway uk is at 198.51.100.20") == true)
        #expect(choice.loopbackProblem(peers: [("local", try IPAddress(parsing: "127.0.0.3"))]) == nil)
        let listening = AdvertisedAddressChoice(listen: loopback)
        #expect(listening.loopbackProblem(peers: [("uk", vendor)])?.hasPrefix("--sip-listen 127.0.0.1 is a loopback address") == true)
    }

    @Test func addressMapsRefuseWhatNoPeerCouldUse() throws {
        #expect(throws: ModelError.self) { try AddressMap(parsing: "192.0.2.1=127.0.0.1") }
        #expect(throws: ModelError.self) { try AddressMap(parsing: "192.0.2.1=0.0.0.0") }
        #expect(throws: ModelError.self) { try AddressMap(parsing: "192.0.2.1=2001:db8::1") }
        #expect(throws: ModelError.self) { try AddressMap(parsing: "192.0.2.1=203.0.113.7,192.0.2.1=203.0.113.8") }
        #expect(throws: ModelError.self) { try AddressMap(parsing: "192.0.2.1") }
        #expect(try AddressMap(parsing: " 192.0.2.1 = 203.0.113.7 ,").description == "192.0.2.1=203.0.113.7")
    }

    @Test func gatewaysRefuseALoopbackAdvertiseForARemotePeer() throws {
        var mapping = MappingGateway(name: "acme", ips: [customer])
        mapping.advertise = try IPAddress(parsing: "127.0.0.1")
        #expect(throws: ModelError.self) { try mapping.validate() }
        var routing = RoutingGateway(name: "uk", address: SIPAddress(host: "198.51.100.20"), prefixes: ["44"])
        routing.advertise = try IPAddress(parsing: "0.0.0.0")
        #expect(throws: ModelError.self) { try routing.validate() }
        routing.advertise = try IPAddress(parsing: "203.0.113.7")
        try routing.validate()
    }
}
