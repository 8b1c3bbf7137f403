import Foundation
import Testing
import VOSModel
@testable import VOSStore

/// Route schedules, work calendars, gateway groups and per-prefix sort rules in the store (issue
/// 16): round trips, reference checks both ways, refusals that change nothing, the generation,
/// and backup/restore.
@Suite struct RoutingConfigurationStoreTests {
    func makeStore(_ directory: TemporaryDirectory) throws -> Store {
        let store = try Store.initialize(directory: directory.child("data")).store
        try store.write { transaction in
            try transaction.addAccount(Account(name: "acme", kind: .prepaid))
            try transaction.addAccount(Account(name: "globex", kind: .postpaid))
            try transaction.addRoutingGateway(RoutingGateway(name: "ven", address: SIPAddress(host: "198.51.100.7"), prefixes: ["44"]))
        }
        return store
    }

    func day(_ text: String) throws -> LocalDate { try LocalDate(parsing: text) }

    func office() throws -> RouteSchedule {
        RouteSchedule(name: "office", windows: [try ScheduleWindow(parsing: "mon-fri 08:00-18:00")], calendar: "de")
    }

    @Test func calendarsSchedulesGroupsAndSortRulesRoundTrip() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        let before = try store.generation()
        try store.write { try $0.addWorkCalendar(WorkCalendar(name: "de")) }
        try store.write { try $0.addHoliday(WorkCalendar.Holiday(first: try day("2026-12-24"), last: try day("2026-12-26"), label: "Christmas"), toCalendar: "de") }
        try store.write { try $0.addRouteSchedule(try office()) }
        try store.write { try $0.addGatewayGroup(GatewayGroup(name: "uk", lineLimit: 10, reservations: [.init(account: "acme", lines: 3)])) }
        try store.write { try $0.addRouteSortRule(RouteSortRule(prefix: "44", sort: .lcr)) }
        try store.write { try $0.addRouteSortRule(RouteSortRule(prefix: "4420", sort: .quality)) }
        try store.write { transaction in
            var gateway = try #require(try transaction.routingGateway(named: "ven"))
            gateway.schedule = "office"
            gateway.group = "uk"
            try transaction.saveRoutingGateway(gateway)
            try transaction.requireScheduleAndGroup(of: gateway)
        }
        #expect(try store.generation() == before + 7, "each is configuration: the controller reloads")

        try store.read { (transaction: Transaction) throws in
            #expect(try transaction.workCalendar(named: "de")?.holidays.first?.label == "Christmas")
            #expect(try transaction.routeSchedule(named: "office") == (try office()))
            #expect(try transaction.gatewayGroup(named: "uk")?.reservation(for: "acme") == 3)
            #expect(try transaction.gatewayGroupMembers(named: "uk") == ["ven"])
            #expect(try transaction.routeSortRules() == [RouteSortRule(prefix: "44", sort: .lcr), RouteSortRule(prefix: "4420", sort: .quality)])
            #expect(try transaction.routeSortRule(prefix: "4420")?.sort == .quality)
            let book = try transaction.routeScheduleBook()
            #expect(book.isActive("office", at: try LocalTime(parsing: "2026-12-22 09:00")))
            #expect(!book.isActive("office", at: try LocalTime(parsing: "2026-12-24 09:00")), "the calendar came along")
            let gateway = try #require(try transaction.routingGateway(named: "ven"))
            #expect(gateway.schedule == "office" && gateway.group == "uk")
        }

        try store.write { try $0.removeHoliday(startingOn: try day("2026-12-24"), fromCalendar: "de") }
        try store.write { try $0.saveRouteSortRule(RouteSortRule(prefix: "44", sort: .mix)) }
        try store.write { try $0.removeRouteSortRule(prefix: "4420") }
        #expect(try store.read { try $0.routeSortRules() } == [RouteSortRule(prefix: "44", sort: .mix)])
        #expect(try store.read { try $0.workCalendar(named: "de") }?.holidays.isEmpty == true)
    }

    @Test func referencesMustExistAndUsedRowsCannotBeRemoved() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        try store.write { transaction in
            try transaction.addWorkCalendar(WorkCalendar(name: "de"))
            try transaction.addRouteSchedule(try office())
            try transaction.addGatewayGroup(GatewayGroup(name: "uk", lineLimit: 4, reservations: [.init(account: "acme", lines: 1)]))
            var gateway = try #require(try transaction.routingGateway(named: "ven"))
            gateway.schedule = "office"
            gateway.group = "uk"
            try transaction.saveRoutingGateway(gateway)
        }
        let generation = try store.generation()
        let refusals: [(String, (Transaction) throws -> Void)] = [
            ("calendar 'nope' given for schedule 'night' does not exist", { transaction in
                try transaction.addRouteSchedule(RouteSchedule(name: "night", windows: [try ScheduleWindow(parsing: "22:00-06:00")], calendar: "nope"))
            }),
            ("account 'initech' given in --reserve for group 'de-carriers' does not exist", { transaction in
                try transaction.addGatewayGroup(GatewayGroup(name: "de-carriers", lineLimit: 4, reservations: [.init(account: "initech", lines: 1)]))
            }),
            ("reserves 5 lines (acme=3, globex=2) but has only 4", { transaction in
                try transaction.addGatewayGroup(GatewayGroup(name: "de-carriers", lineLimit: 4,
                                                             reservations: [.init(account: "acme", lines: 3), .init(account: "globex", lines: 2)]))
            }),
            ("schedule 'weekend' given for routing gateway 'ven' does not exist", { transaction in
                var gateway = try #require(try transaction.routingGateway(named: "ven"))
                gateway.schedule = "weekend"
                try transaction.requireScheduleAndGroup(of: gateway)
            }),
            ("group 'fr' given for routing gateway 'ven' does not exist", { transaction in
                var gateway = try #require(try transaction.routingGateway(named: "ven"))
                gateway.group = "fr"
                try transaction.requireScheduleAndGroup(of: gateway)
            }),
            ("calendar 'de' is used by schedule 'office'", { try $0.removeWorkCalendar(named: "de") }),
            ("schedule 'office' is used by routing gateway 'ven'", { try $0.removeRouteSchedule(named: "office") }),
            ("group 'uk' has member gateway 'ven'", { try $0.removeGatewayGroup(named: "uk") }),
            ("account 'acme' has lines reserved in group 'uk'", { try $0.requireNoGatewayGroupReservation(for: "acme") }),
            ("calendar 'de' already exists", { try $0.addWorkCalendar(WorkCalendar(name: "de")) }),
            ("schedule 'office' already exists", { try $0.addRouteSchedule(try office()) }),
            ("group 'uk' already exists", { try $0.addGatewayGroup(GatewayGroup(name: "uk", lineLimit: 1)) }),
            ("calendar 'fr' does not exist", { try $0.removeWorkCalendar(named: "fr") }),
            ("schedule 'fr' does not exist", { try $0.removeRouteSchedule(named: "fr") }),
            ("group 'fr' does not exist", { try $0.removeGatewayGroup(named: "fr") }),
            ("calendar 'de' has no holiday starting on 2026-05-01 (it has none)", { transaction in
                try transaction.removeHoliday(startingOn: try LocalDate(parsing: "2026-05-01"), fromCalendar: "de")
            }),
            ("invalid route sort prefix", { try $0.addRouteSortRule(RouteSortRule(prefix: "44x", sort: .lcr)) }),
            ("route sort rule for prefix '33' does not exist", { try $0.removeRouteSortRule(prefix: "33") }),
        ]
        for (reason, change) in refusals {
            #expect("refused: \(reason)", performing: { try store.write(change) }, throws: { "\($0)".contains(reason) })
        }
        #expect(try store.generation() == generation, "nothing refused changed the store")
        try store.write { try $0.addRouteSortRule(RouteSortRule(prefix: "44", sort: .lcr)) }
        #expect(performing: { try store.write { try $0.addRouteSortRule(RouteSortRule(prefix: "44", sort: .quality)) } },
                throws: { "\($0)".contains("prefix 44 already sorts by lcr") })

        // Overlapping holidays through the store: refused naming both, nothing written.
        try store.write { try $0.addHoliday(WorkCalendar.Holiday(first: try day("2026-12-24"), last: try day("2026-12-26"), label: "Christmas"), toCalendar: "de") }
        #expect(performing: {
            try store.write { try $0.addHoliday(WorkCalendar.Holiday(first: try day("2026-12-26"), last: try day("2027-01-01"), label: "Break"), toCalendar: "de") }
        }, throws: { "\($0)".contains("2026-12-26..2027-01-01 (Break) overlaps holiday 2026-12-24..2026-12-26 (Christmas)") })
        #expect(try store.read { try $0.workCalendar(named: "de") }?.holidays.count == 1)

        // Once unused, each can go.
        try store.write { transaction in
            var gateway = try #require(try transaction.routingGateway(named: "ven"))
            gateway.schedule = nil
            gateway.group = nil
            try transaction.saveRoutingGateway(gateway)
            try transaction.removeRouteSchedule(named: "office")
            try transaction.removeWorkCalendar(named: "de")
            try transaction.removeGatewayGroup(named: "uk")
            try transaction.requireNoGatewayGroupReservation(for: "acme")
        }
        try store.read { (transaction: Transaction) throws in
            #expect(try transaction.routeSchedules().isEmpty)
            #expect(try transaction.workCalendars().isEmpty)
            #expect(try transaction.gatewayGroups().isEmpty)
        }
    }

    @Test func backupCarriesTheNewTables() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        try store.write { transaction in
            try transaction.addWorkCalendar(WorkCalendar(name: "de", holidays: [.init(first: try day("2026-12-25"), last: try day("2026-12-25"))]))
            try transaction.addRouteSchedule(try office())
            try transaction.addGatewayGroup(GatewayGroup(name: "uk", lineLimit: 4, reservations: [.init(account: "acme", lines: 1)]))
            try transaction.addRouteSortRule(RouteSortRule(prefix: "44", sort: .lcr))
        }
        let file = directory.child("node.vosbak")
        let manifest = try Backup.create(from: store, to: file)
        #expect(manifest.tables["route_schedules"] == 1 && manifest.tables["work_calendars"] == 1)
        #expect(manifest.tables["gateway_groups"] == 1 && manifest.tables["route_sort_rules"] == 1)
        _ = try Backup.restore(from: file, into: directory.child("restored"))
        let restored = try Store(directory: directory.child("restored"))
        try restored.read { (transaction: Transaction) throws in
            #expect(try transaction.routeSchedule(named: "office") == (try office()))
            #expect(try transaction.workCalendar(named: "de")?.isHoliday(try LocalDate(parsing: "2026-12-25")) == true)
            #expect(try transaction.gatewayGroup(named: "uk")?.sharedLines == 3)
            #expect(try transaction.routeSortRules() == [RouteSortRule(prefix: "44", sort: .lcr)])
        }
    }
}
