import Testing
import VOSModel

@Suite struct ClusterShareTests {
    @Test func eachNodeGetsTheLimitDividedRoundedUpAndNoLimitStaysNone() {
        let two = ClusterShare(nodes: 2), three = ClusterShare(nodes: 3)
        #expect(two.share(of: 5) == 3)
        #expect(three.share(of: 10) == 4)
        #expect(three.share(of: 1) == 1, "a positive limit never shares to 0")
        #expect(two.share(of: 0) == 0, "0 means no limit, on every node")
        #expect(ClusterShare(nodes: 0).share(of: 7) == 7, "fewer than one node counts as one")
        #expect(ClusterShare.whole.share(of: 7) == 7)
    }

    @Test func gatewaysAndGroupsCarryTheirShare() throws {
        let share = ClusterShare(nodes: 2)
        var vendor = RoutingGateway(name: "ven", address: SIPAddress(host: "198.51.100.7"), prefixes: ["44"])
        vendor.lineLimit = 9
        vendor.cpsLimit = 4
        let shared = share.applied(to: vendor)
        #expect(shared.lineLimit == 5 && shared.cpsLimit == 2)
        var customer = MappingGateway(name: "cust", ips: [try IPAddress(parsing: "203.0.113.5")])
        customer.concurrentLimit = 3
        customer.cpsLimit = 0
        let sharedCustomer = share.applied(to: customer)
        #expect(sharedCustomer.concurrentLimit == 2 && sharedCustomer.cpsLimit == 0)
        // 3 lines of 4 reserved: shares 2 of 2 reserved, so the group keeps 2 lines, not fewer.
        let group = GatewayGroup(name: "g", lineLimit: 4, reservations: [.init(account: "a", lines: 3)])
        let sharedGroup = share.applied(to: group)
        #expect(sharedGroup.lineLimit == 2 && sharedGroup.reservedLines == 2)
    }
}
