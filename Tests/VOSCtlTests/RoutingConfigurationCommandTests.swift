import Foundation
import Testing
import VOSModel
import VOSStore
import VOSTestSupport

/// `vosctl calendar`, `schedule`, `group`, `route sort`, and the gateway and account options that
/// point at them (issue 16): set, shown, cleared; `schedule check` in SS_TIME_ZONE; every bad
/// input refused with its reason and nothing changed.
@Suite struct RoutingConfigurationCommandTests {
    func initialised() throws -> (Scratch, Vosctl) {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try vosctl.ok("init")
        try vosctl.ok("account", "add", "acme", "--type", "prepaid")
        try vosctl.ok("account", "add", "globex", "--type", "postpaid")
        try vosctl.ok("gateway", "add", "mapping", "cust", "--ip", "203.0.113.5", "--account", "acme")
        try vosctl.ok("gateway", "add", "routing", "uk", "--address", "198.51.100.7:5060", "--prefix", "44")
        try vosctl.ok("gateway", "add", "routing", "uk2", "--address", "198.51.100.8:5060", "--prefix", "44")
        return (scratch, vosctl)
    }

    func generation(_ vosctl: Vosctl) throws -> UInt64 { try Store(directory: vosctl.dataDirectory).generation() }

    func object(_ value: Any) throws -> [String: Any] { try #require(value as? [String: Any]) }

    /// Runs a refused command and checks its message and that the store did not change.
    func refused(_ vosctl: Vosctl, _ arguments: [String], _ reason: String) throws {
        let before = try generation(vosctl)
        let result = try vosctl.run(arguments)
        #expect(result.status != 0, "vosctl \(arguments.joined(separator: " ")) must fail")
        #expect(result.stderr.contains(reason), "vosctl \(arguments.joined(separator: " ")): \(result.stderr) lacks '\(reason)'")
        #expect(try generation(vosctl) == before, "refused: nothing changed")
    }

    @Test func calendarsHoldHolidayRangesAndRefuseOverlaps() throws {
        let (scratch, vosctl) = try initialised()
        defer { withExtendedLifetime(scratch) {} }
        try vosctl.ok("calendar", "add", "de")
        #expect(try vosctl.ok("calendar", "holiday", "add", "de", "2026-12-24", "2026-12-26", "--label", "Christmas")
            .contains("added holiday 2026-12-24..2026-12-26 (Christmas)"))
        try vosctl.ok("calendar", "holiday", "add", "de", "2026-10-03", "--label", "Unity Day")
        try vosctl.ok("calendar", "holiday", "add", "de", "2027-01-01")

        let shown = try object(try vosctl.json("calendar", "show", "de"))
        let holidays = try #require(shown["holidays"] as? [[String: Any]])
        #expect(holidays.compactMap { $0["first"] as? String } == ["2026-10-03", "2026-12-24", "2027-01-01"], "kept in date order")
        #expect(holidays[1]["last"] as? String == "2026-12-26" && holidays[1]["label"] as? String == "Christmas")
        #expect(holidays[2]["last"] as? String == "2027-01-01", "one day: first is last")
        let table = try vosctl.ok("calendar", "show", "de")
        #expect(table.contains("Christmas") && table.contains("Unity Day") && table.contains("used by schedules: none"))
        let christmasRow = try #require(table.split(separator: "\n").first { $0.hasPrefix("2026-12-24") })
        #expect(christmasRow.contains("2026-12-26") && christmasRow.contains("3"))
        let list = try vosctl.ok("calendar", "list")
        #expect(list.split(separator: "\n").first { $0.hasPrefix("de ") }?.contains("2026-10-03") == true)

        try refused(vosctl, ["calendar", "holiday", "add", "de", "2026-12-26", "2026-12-31", "--label", "Break"],
                    "calendar 'de' holiday 2026-12-26..2026-12-31 (Break) overlaps holiday 2026-12-24..2026-12-26 (Christmas)")
        try refused(vosctl, ["calendar", "holiday", "add", "de", "2026-12-20", "2026-12-24"], "overlaps holiday 2026-12-24..2026-12-26 (Christmas)")
        try refused(vosctl, ["calendar", "holiday", "add", "de", "2026-05-02", "2026-05-01"], "the first day is after the last")
        try refused(vosctl, ["calendar", "holiday", "add", "de", "2026-02-30"], "invalid FIRST '2026-02-30'")
        try refused(vosctl, ["calendar", "holiday", "add", "de", "2026-05-01", "May 3"], "invalid LAST 'May 3'")
        try refused(vosctl, ["calendar", "holiday", "add", "fr", "2026-05-01"], "calendar 'fr' does not exist")
        try refused(vosctl, ["calendar", "holiday", "remove", "de", "2026-12-25"], "no holiday starting on 2026-12-25 (holidays start on 2026-10-03, 2026-12-24, 2027-01-01)")
        try refused(vosctl, ["calendar", "add", "de"], "calendar 'de' already exists")
        try refused(vosctl, ["calendar", "add", "bad/name"], "calendar name")

        try vosctl.ok("calendar", "holiday", "remove", "de", "2026-10-03")
        #expect(try #require(try object(try vosctl.json("calendar", "show", "de"))["holidays"] as? [Any]).count == 2)
        try vosctl.ok("calendar", "remove", "de")
        #expect(try vosctl.fails("calendar", "show", "de").contains("calendar 'de' does not exist"))
    }

    @Test func schedulesAreSetShownCheckedAndRemoved() throws {
        let (scratch, vosctl) = try initialised()
        defer { withExtendedLifetime(scratch) {} }
        try vosctl.ok("param", "set", "SS_TIME_ZONE", "Europe/Berlin")
        try vosctl.ok("calendar", "add", "de")
        try vosctl.ok("calendar", "holiday", "add", "de", "2026-12-24", "2026-12-26", "--label", "Christmas")
        let before = try generation(vosctl)
        try vosctl.ok("schedule", "add", "office", "--window", "mon-fri 08:00-18:00", "--calendar", "de")
        try vosctl.ok("schedule", "add", "night", "--window", "mon-sun 22:00-06:00", "--holidays", "ignore", "--calendar", "de")
        try vosctl.ok("schedule", "add", "xmas", "--calendar", "de", "--holidays", "only")
        #expect(try generation(vosctl) == before + 3, "a schedule is configuration")

        let office = try object(try vosctl.json("schedule", "show", "office"))
        #expect(office["calendar"] as? String == "de" && office["holidays"] as? String == "off")
        let windows = try #require(office["windows"] as? [[String: Any]])
        #expect(windows.first?["days"] as? [String] == ["mon", "tue", "wed", "thu", "fri"])
        #expect(windows.first?["start"] as? String == "08:00" && windows.first?["end"] as? String == "18:00")
        #expect(office["gateways"] as? [String] == [])
        let listed = try #require(try vosctl.json("schedule", "list") as? [[String: Any]])
        #expect(listed.compactMap { $0["name"] as? String } == ["night", "office", "xmas"])
        let table = try vosctl.ok("schedule", "list")
        #expect(table.split(separator: "\n").first { $0.hasPrefix("night") }?.contains("mon-sun 22:00-06:00") == true)

        // check: a Tuesday morning, Christmas Eve, a night crossing midnight, a holiday-only day.
        let active = try vosctl.ok("schedule", "check", "office", "--at", "2026-12-22 09:30")
        #expect(active.contains("schedule office is active at tue 2026-12-22 09:30 (Europe/Berlin)"), "\(active)")
        #expect(active.contains("in window mon-fri 08:00-18:00"))
        let holiday = try vosctl.ok("schedule", "check", "office", "--at", "2026-12-24 09:30")
        #expect(holiday.contains("is inactive") && holiday.contains("holiday 2026-12-24..2026-12-26 (Christmas)"), "\(holiday)")
        let evening = try vosctl.ok("schedule", "check", "office", "--at", "2026-12-22 18:00")
        #expect(evening.contains("is inactive") && evening.contains("in no window"), "the end is excluded: \(evening)")
        let night = try object(try vosctl.json("schedule", "check", "night", "--at", "2026-12-26 03:00"))
        #expect(night["active"] as? Bool == true && night["weekday"] as? String == "sat" && night["timeZone"] as? String == "Europe/Berlin")
        #expect((night["reason"] as? String)?.contains("opened fri 2026-12-25") == true, "crossing midnight, holidays ignored")
        #expect(try vosctl.ok("schedule", "check", "xmas", "--at", "2026-12-25 15:00").contains("is active"))
        #expect(try vosctl.ok("schedule", "check", "xmas", "--at", "2026-12-27 15:00").contains("is inactive"))
        // A wall time the clocks skip is named.
        let gap = try vosctl.ok("schedule", "check", "night", "--at", "2026-03-29 02:30")
        #expect(gap.contains("note: 2026-03-29 02:30 does not exist in Europe/Berlin"), "\(gap)")
        // Without --at: now, in the zone.
        #expect(try vosctl.ok("schedule", "check", "office").contains("(Europe/Berlin)"))

        // set: windows replaced, calendar cleared, holidays mode changed.
        try vosctl.ok("schedule", "set", "office", "--window", "mon-fri 09:00-17:00", "--window", "sat 10:00-14:00")
        try vosctl.ok("schedule", "set", "office", "--no-calendar")
        let changed = try object(try vosctl.json("schedule", "show", "office"))
        #expect(changed["calendar"] == nil)
        #expect((changed["windows"] as? [Any])?.count == 2)
        #expect(try vosctl.ok("schedule", "check", "office", "--at", "2026-12-24 09:30").contains("is active"), "no calendar: no holidays")
        let shownTable = try vosctl.ok("schedule", "show", "office")
        #expect(shownTable.contains("sat 10:00-14:00") && shownTable.contains("mon-fri 09:00-17:00"))

        // A gateway on the schedule: shown both ways, and the schedule cannot go.
        try vosctl.ok("gateway", "set", "uk", "--schedule", "office")
        #expect(try object(try vosctl.json("gateway", "show", "uk"))["gateway"].flatMap { ($0 as? [String: Any])?["schedule"] as? String } == "office")
        #expect(try vosctl.ok("gateway", "show", "uk").split(separator: "\n").contains { $0.hasPrefix("schedule") && $0.contains("office") })
        #expect(try object(try vosctl.json("schedule", "show", "office"))["gateways"] as? [String] == ["uk"])
        try refused(vosctl, ["schedule", "remove", "office"], "schedule 'office' is used by routing gateway 'uk'")
        try refused(vosctl, ["calendar", "remove", "de"], "calendar 'de' is used by schedules 'night', 'xmas'")
        try vosctl.ok("gateway", "set", "uk", "--no-schedule")
        #expect(try vosctl.ok("gateway", "show", "uk").split(separator: "\n").contains { $0.hasPrefix("schedule") && $0.contains("- (always)") })
        try vosctl.ok("schedule", "remove", "office")
        #expect(try vosctl.fails("schedule", "show", "office").contains("schedule 'office' does not exist"))
    }

    @Test func badSchedulesAreRefusedWithTheReason() throws {
        let (scratch, vosctl) = try initialised()
        defer { withExtendedLifetime(scratch) {} }
        try vosctl.ok("schedule", "add", "office", "--window", "mon-fri 08:00-18:00")
        try refused(vosctl, ["schedule", "add", "s", "--window", "mon-fry 08:00-18:00"], "'fry'")
        try refused(vosctl, ["schedule", "add", "s", "--window", "mon-fri 08:00-25:00"], "end '25:00'")
        try refused(vosctl, ["schedule", "add", "s", "--window", "mon-fri 8h-18h"], "start '8h'")
        try refused(vosctl, ["schedule", "add", "s", "--window", "mon 08:00-08:00"], "starts and ends at the same time")
        try refused(vosctl, ["schedule", "add", "s"], "--window")
        try refused(vosctl, ["schedule", "add", "s", "--window", "mon 08:00-09:00", "--window", "mon 08:00-09:00"], "lists window mon 08:00-09:00 twice")
        try refused(vosctl, ["schedule", "add", "s", "--window", "mon 08:00-09:00", "--calendar", "nope"], "calendar 'nope' given for schedule 's' does not exist")
        try refused(vosctl, ["schedule", "add", "s", "--holidays", "only"], "no --calendar")
        try refused(vosctl, ["schedule", "add", "s", "--window", "mon 08:00-09:00", "--holidays", "sometimes"], "sometimes")
        try refused(vosctl, ["schedule", "add", "office", "--window", "mon 08:00-09:00"], "schedule 'office' already exists")
        try refused(vosctl, ["schedule", "set", "office"], "nothing to change")
        try refused(vosctl, ["schedule", "set", "office", "--calendar", "x", "--no-calendar"], "not both")
        try refused(vosctl, ["schedule", "check", "office", "--at", "2026-02-30 10:00"], "--at")
        try refused(vosctl, ["schedule", "check", "office", "--at", "tomorrow"], "--at")
        try refused(vosctl, ["schedule", "check", "nope"], "schedule 'nope' does not exist")
        try refused(vosctl, ["gateway", "set", "uk", "--schedule", "nope"], "schedule 'nope' given for routing gateway 'uk' does not exist")
        try refused(vosctl, ["gateway", "set", "cust", "--schedule", "office"], "--schedule applies to routing gateways")
        try refused(vosctl, ["gateway", "set", "uk", "--schedule", "office", "--no-schedule"], "not both")
        try refused(vosctl, ["gateway", "add", "routing", "fr", "--address", "198.51.100.9:5060", "--prefix", "33", "--schedule", "nope"],
                    "schedule 'nope' given for routing gateway 'fr' does not exist")
        #expect(try vosctl.fails("gateway", "show", "fr").contains("does not exist"), "the refused add left nothing behind")
    }

    @Test func groupsShareLinesAndReserveThemForCustomers() throws {
        let (scratch, vosctl) = try initialised()
        defer { withExtendedLifetime(scratch) {} }
        try vosctl.ok("group", "add", "uk-carriers", "--lines", "10", "--reserve", "acme=3", "--reserve", "globex=2")
        try vosctl.ok("gateway", "set", "uk", "--group", "uk-carriers")
        try vosctl.ok("gateway", "add", "routing", "uk3", "--address", "198.51.100.9:5060", "--prefix", "44", "--group", "uk-carriers")

        let shown = try object(try vosctl.json("group", "show", "uk-carriers"))
        #expect(shown["lineLimit"] as? Int == 10 && shown["sharedLines"] as? Int == 5)
        #expect(shown["members"] as? [String] == ["uk", "uk3"])
        let reservations = try #require(shown["reservations"] as? [[String: Any]])
        #expect(reservations.compactMap { $0["account"] as? String } == ["acme", "globex"])
        #expect(reservations.compactMap { $0["lines"] as? Int } == [3, 2])
        let table = try vosctl.ok("group", "show", "uk-carriers")
        #expect(table.contains("acme=3") && table.contains("globex=2") && table.contains("uk,uk3"))
        let list = try vosctl.ok("group", "list")
        #expect(list.split(separator: "\n").first { $0.hasPrefix("uk-carriers") }?.contains("acme=3,globex=2") == true)
        #expect(try vosctl.ok("gateway", "show", "uk").split(separator: "\n").contains { $0.hasPrefix("group") && $0.contains("uk-carriers") })

        try vosctl.ok("group", "set", "uk-carriers", "--reserve", "acme=4", "--reserve", "globex=0")
        let changed = try object(try vosctl.json("group", "show", "uk-carriers"))
        #expect((changed["reservations"] as? [[String: Any]])?.compactMap { $0["account"] as? String } == ["acme"])
        #expect(changed["sharedLines"] as? Int == 6)
        try vosctl.ok("group", "set", "uk-carriers", "--lines", "4", "--no-reservations", "--reserve", "globex=4")
        #expect(try object(try vosctl.json("group", "show", "uk-carriers"))["sharedLines"] as? Int == 0)

        try refused(vosctl, ["group", "set", "uk-carriers", "--reserve", "acme=1"], "group 'uk-carriers' reserves 5 lines (acme=1, globex=4) but has only 4")
        try refused(vosctl, ["group", "set", "uk-carriers", "--lines", "3"], "reserves 4 lines (globex=4) but has only 3")
        try refused(vosctl, ["group", "set", "uk-carriers", "--reserve", "acme=0"], "reserves no lines for account 'acme'")
        try refused(vosctl, ["group", "add", "g", "--lines", "5", "--reserve", "initech=1"], "account 'initech' given in --reserve for group 'g' does not exist")
        try refused(vosctl, ["group", "add", "g", "--lines", "0"], "--lines 0 is out of range")
        try refused(vosctl, ["group", "add", "g", "--lines", "5", "--reserve", "acme"], "expected ACCOUNT=LINES")
        try refused(vosctl, ["group", "add", "g", "--lines", "5", "--reserve", "acme=-1"], "expected ACCOUNT=LINES")
        try refused(vosctl, ["group", "add", "g", "--lines", "5", "--reserve", "acme=0"], "reserves nothing")
        try refused(vosctl, ["group", "add", "g", "--lines", "5", "--reserve", "acme=1", "--reserve", "acme=2"], "names account 'acme' twice")
        try refused(vosctl, ["group", "add", "uk-carriers", "--lines", "5"], "group 'uk-carriers' already exists")
        try refused(vosctl, ["group", "remove", "uk-carriers"], "group 'uk-carriers' has member gateways 'uk', 'uk3'")
        try refused(vosctl, ["gateway", "set", "uk2", "--group", "nope"], "group 'nope' given for routing gateway 'uk2' does not exist")
        try refused(vosctl, ["gateway", "set", "cust", "--group", "uk-carriers"], "--group applies to routing gateways")

        try vosctl.ok("gateway", "set", "uk", "--no-group")
        try vosctl.ok("gateway", "set", "uk3", "--no-group")
        #expect(try vosctl.ok("gateway", "show", "uk").split(separator: "\n").contains { $0.hasPrefix("group") && $0.hasSuffix("-") })
        try vosctl.ok("group", "remove", "uk-carriers")
        #expect(try vosctl.ok("group", "list").split(separator: "\n").count == 1, "header only")
    }

    @Test func routeSortRulesOverrideTheSystemMode() throws {
        let (scratch, vosctl) = try initialised()
        defer { withExtendedLifetime(scratch) {} }
        try vosctl.ok("route", "sort", "add", "44", "lcr")
        try vosctl.ok("route", "sort", "add", "4420", "QUALITY")
        let rules = try #require(try vosctl.json("route", "sort", "list") as? [[String: Any]])
        #expect(rules.compactMap { $0["prefix"] as? String } == ["44", "4420"])
        #expect(rules.compactMap { $0["sort"] as? String } == ["lcr", "quality"])
        try vosctl.ok("param", "set", "SS_ROUTING_SORT", "quality")
        let table = try vosctl.ok("route", "sort", "list")
        #expect(table.contains("SS_ROUTING_SORT: quality"))
        #expect(table.split(separator: "\n").contains { $0.hasPrefix("4420") && $0.contains("quality") })
        try vosctl.ok("route", "sort", "set", "44", "mix")
        #expect((try vosctl.json("route", "sort", "list") as? [[String: Any]])?.first?["sort"] as? String == "mix")

        try refused(vosctl, ["route", "sort", "add", "44", "lcr"], "prefix 44 already sorts by mix")
        try refused(vosctl, ["route", "sort", "add", "33", "cheapest"], "cheapest")
        try refused(vosctl, ["route", "sort", "add", "3x", "lcr"], "invalid route sort prefix '3x'")
        try refused(vosctl, ["route", "sort", "set", "33", "lcr"], "route sort rule for prefix '33' does not exist")
        try refused(vosctl, ["route", "sort", "remove", "33"], "route sort rule for prefix '33' does not exist")
        try vosctl.ok("route", "sort", "remove", "4420")
        #expect((try vosctl.json("route", "sort", "list") as? [[String: Any]])?.count == 1)
    }

    @Test func marginProtectionIsAnAccountOption() throws {
        let (scratch, vosctl) = try initialised()
        defer { withExtendedLifetime(scratch) {} }
        func shown(_ name: String) throws -> String {
            try #require(try vosctl.ok("account", "show", name).split(separator: "\n").first { $0.hasPrefix("margin protect ") }).description
        }
        #expect(try shown("acme").hasSuffix("off"))
        #expect(try object(try vosctl.json("account", "show", "acme"))["marginProtection"] == nil)
        try vosctl.ok("account", "set", "acme", "--margin-protection")
        #expect(try shown("acme").hasSuffix("on"))
        #expect(try object(try vosctl.json("account", "show", "acme"))["marginProtection"] as? Bool == true)
        try vosctl.ok("account", "set", "acme", "--no-margin-protection")
        #expect(try shown("acme").hasSuffix("off"))
        try vosctl.ok("account", "add", "initech", "--type", "prepaid", "--margin-protection")
        #expect(try shown("initech").hasSuffix("on"))
    }
}
