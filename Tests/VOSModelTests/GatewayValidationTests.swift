import Testing
@testable import VOSModel

@Suite struct GatewayValidationTests {
    @Test func routingGatewayRanges() throws {
        var gateway = RoutingGateway(name: "ven1", address: SIPAddress(host: "198.51.100.7"), prefixes: ["44"])
        try gateway.validate()
        gateway.priority = 0
        #expect(throws: ModelError.self) { try gateway.validate() }
        gateway.priority = 1
        gateway.prefixes = ["44a"]
        #expect(throws: ModelError.self) { try gateway.validate() }
        gateway.prefixes = ["44"]
        gateway.lineLimit = -1
        #expect(throws: ModelError.self) { try gateway.validate() }
    }

    @Test func defaultStopSwitchingSet() {
        let gateway = RoutingGateway(name: "v", address: SIPAddress(host: "198.51.100.7"), prefixes: ["1"])
        #expect(gateway.stopsSwitching(on: 404))
        #expect(gateway.stopsSwitching(on: 486))
        #expect(!gateway.stopsSwitching(on: 408))
        #expect(!gateway.stopsSwitching(on: 480))
        #expect(!gateway.stopsSwitching(on: 503))
        #expect(gateway.stopsSwitching(on: 603))
    }

    @Test func namesArePlain() {
        #expect(throws: ModelError.self) { try GatewayName.validate("") }
        #expect(throws: ModelError.self) { try GatewayName.validate("has space") }
        #expect(throws: ModelError.self) { try GatewayName.validate("-dash") }
        #expect(throws: Never.self) { try GatewayName.validate("Vendor_1.uk-east") }
    }

    @Test func mappingGatewayNeedsAnAddress() {
        #expect(throws: ModelError.self) { try MappingGateway(name: "c", ips: []).validate() }
    }

    @Test func g723IsRefusedWithAReason() throws {
        #expect(throws: ModelError.self) { try Codec(parsing: "G723") }
        #expect(try Codec(parsing: "pcma") == .pcma)
    }
}
