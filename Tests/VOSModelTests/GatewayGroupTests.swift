import Foundation
import Testing
import VOSModel

/// Gateway groups with reserved lines (issue 16): validation, and the admission rule as a table.
@Suite struct GatewayGroupTests {
    /// 10 lines: acme keeps 3, globex 2, so 5 are shared.
    let group = GatewayGroup(name: "uk", lineLimit: 10, reservations: [
        GatewayGroup.Reservation(account: "globex", lines: 2), GatewayGroup.Reservation(account: "acme", lines: 3),
    ])

    @Test func sharedLinesAreTheLimitLessTheReservations() throws {
        try group.validate()
        #expect(group.reservedLines == 5 && group.sharedLines == 5)
        #expect(group.reservations.map(\.account) == ["acme", "globex"], "kept sorted")
        #expect(group.reservation(for: "acme") == 3 && group.reservation(for: "initech") == 0 && group.reservation(for: nil) == 0)
        #expect(try JSONRoundTrip.decode(GatewayGroup.self, try JSONRoundTrip.encode(group)) == group)
    }

    @Test func badGroupsAreRefusedWithTheReason() throws {
        let cases: [(GatewayGroup, String)] = [
            (GatewayGroup(name: "g", lineLimit: 0), "--lines 0 is out of range"),
            (GatewayGroup(name: "g", lineLimit: -3), "--lines -3 is out of range"),
            (GatewayGroup(name: "g g", lineLimit: 3), "group name"),
            (GatewayGroup(name: "g", lineLimit: 4, reservations: [.init(account: "acme", lines: 3), .init(account: "globex", lines: 2)]),
             "reserves 5 lines (acme=3, globex=2) but has only 4"),
            (GatewayGroup(name: "g", lineLimit: 4, reservations: [.init(account: "acme", lines: 0)]), "--reserve acme lines 0"),
            (GatewayGroup(name: "g", lineLimit: 4, reservations: [.init(account: "acme", lines: 1), .init(account: "acme", lines: 1)]),
             "reserves lines for account 'acme' twice"),
            (GatewayGroup(name: "g", lineLimit: 4, reservations: [.init(account: "no such", lines: 1)]), "--reserve account"),
        ]
        for (bad, reason) in cases {
            #expect("refused: \(reason)", performing: { try bad.validate() }, throws: { "\($0)".contains(reason) })
        }
        // Reserving every line is allowed: nothing is shared.
        try GatewayGroup(name: "g", lineLimit: 3, reservations: [.init(account: "acme", lines: 3)]).validate()
    }

    @Test func reserveSetsAndRemoves() throws {
        var changed = group
        changed.reserve(4, for: "acme")
        changed.reserve(1, for: "initech")
        changed.reserve(0, for: "globex")
        #expect(changed.reservations == [.init(account: "acme", lines: 4), .init(account: "initech", lines: 1)])
        changed.removeAllReservations()
        #expect(changed.reservations.isEmpty && changed.sharedLines == 10)
    }

    @Test(arguments: [
        // (calling account, active calls per account, admitted, why)
        ("acme", [:], true, "an idle group admits anyone"),
        ("acme", ["acme": 2], true, "acme still has a reserved line"),
        ("acme", ["acme": 3], true, "acme's reserved lines are busy but the shared pool is free"),
        ("acme", ["acme": 3, "initech": 5], false, "acme's reserved lines and the shared pool are busy"),
        ("acme", ["acme": 2, "initech": 5], true, "the shared pool is busy but acme has a reserved line"),
        ("acme", ["acme": 8], false, "acme holds its 3 and all 5 shared"),
        ("initech", ["initech": 4], true, "4 of 5 shared busy"),
        ("initech", ["initech": 5], false, "5 of 5 shared busy: the reserved lines are kept"),
        ("initech", ["acme": 3, "globex": 2, "initech": 4], true, "reservations in use take no shared line"),
        ("initech", ["acme": 4, "initech": 4], false, "acme's fourth call is on a shared line"),
        ("globex", ["acme": 4, "initech": 4], true, "globex's reserved lines are free"),
        ("globex", ["globex": 2, "acme": 4, "initech": 4], false, "globex's reserved and the shared lines are busy"),
        (nil, ["": 4], true, "calls without an account share the pool"),
        (nil, ["": 4, "initech": 1], false, "calls without an account have no reservation"),
        ("initech", ["acme": 0, "initech": 0], true, "zero counts are idle"),
    ] as [(String?, [String: Int], Bool, String)])
    func admission(account: String?, active: [String: Int], admitted: Bool, why: String) {
        #expect(group.admits(account: account, activeByAccount: active) == admitted, "\(why)")
        #expect(group.admission(account: account, activeByAccount: active).admitted == admitted, "\(why)")
    }

    @Test func theReasonCountsSharedAndReservedLines() {
        let busy = group.admission(account: "initech", activeByAccount: ["initech": 5, "acme": 2])
        #expect(!busy.admitted)
        #expect(busy.reason == "group uk: no line free to this call (5 of 5 shared lines busy; 1 line reserved for acme free; 2 lines reserved for globex free)")
        let reserved = group.admission(account: "acme", activeByAccount: ["initech": 5, "acme": 2])
        #expect(reserved.admitted)
        #expect(reserved.reason == "group uk: a reserved line (2 of 3 lines reserved for acme busy; 5 of 5 shared lines busy; 2 lines reserved for globex free)")
        let shared = group.admission(account: "initech", activeByAccount: ["initech": 3])
        #expect(shared.reason == "group uk: a shared line (3 of 5 shared lines busy; 3 lines reserved for acme free; 2 lines reserved for globex free)")
    }

    @Test func accountOptionsDecodeFromOlderRecords() throws {
        let old = #"{"antiOverdraft":true,"balance":"0","concurrentLimit":0,"kind":"prepaid","limitMoney":"0","name":"acme","status":"Normal"}"#
        let account = try JSONRoundTrip.decode(Account.self, Data(old.utf8))
        #expect(account.marginProtection == nil && !account.protectsMargin)
        var protected = account
        protected.marginProtection = true
        #expect(try JSONRoundTrip.decode(Account.self, try JSONRoundTrip.encode(protected)).protectsMargin)
    }

    @Test func routingGatewaysDecodeWithoutScheduleOrGroup() throws {
        let gateway = try JSONRoundTrip.decode(RoutingGateway.self, Data(GatewayDecodingTests.legacyRouting.utf8))
        #expect(gateway.schedule == nil && gateway.group == nil)
        var named = gateway
        named.schedule = "office"
        named.group = "uk"
        try named.validate()
        let again = try JSONRoundTrip.decode(RoutingGateway.self, try JSONRoundTrip.encode(named))
        #expect(again.schedule == "office" && again.group == "uk")
        named.schedule = "bad name"
        #expect(performing: { try named.validate() }, throws: { "\($0)".contains("--schedule") })
    }
}
