import ArgumentParser
import VOSModel
import VOSStore

/// `vosctl schedule`: route schedules, the weekly windows (and holidays) in which a routing
/// gateway that names one (`gateway set NAME --schedule S`) may be tried. Times are local to
/// SS_TIME_ZONE (empty: the host's zone); `schedule check` answers for any moment.
struct ScheduleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule", abstract: "Route schedules: when routing gateways on them may be tried.",
        discussion: """
        A window is "DAYS HH:MM-HH:MM": days mon tue wed thu fri sat sun, comma-separated, with \
        ranges (mon-fri, fri-mon); left out, every day. The end is excluded; 24:00 ends at midnight. \
        An end at or before the start crosses midnight and belongs to the day it starts: \
        "fri 22:00-06:00" runs from Friday 22:00 to Saturday 06:00. Windows may overlap: the \
        schedule is active while any is open.
        """,
        subcommands: [ScheduleAdd.self, ScheduleSet.self, ScheduleShow.self, ScheduleList.self, ScheduleRemove.self, ScheduleCheck.self])
}

extension RouteSchedule.Holidays: ExpressibleByArgument {}

enum ScheduleRows {
    static let headers = ["SCHEDULE", "WINDOWS", "CALENDAR", "HOLIDAYS", "GATEWAYS"]

    static func windows(_ schedule: RouteSchedule) -> String {
        schedule.windows.isEmpty ? "- (holidays only)" : schedule.windows.map(\.description).joined(separator: "; ")
    }

    static func holidays(_ mode: RouteSchedule.Holidays) -> String {
        switch mode {
        case .off: return "off (closed on holidays)"
        case .only: return "only (open all day on holidays)"
        case .ignore: return "ignore (calendar not consulted)"
        }
    }

    static func summary(_ schedule: RouteSchedule, gateways: [String]) -> [String] {
        [schedule.name, windows(schedule), schedule.calendar ?? "-", schedule.holidays.rawValue, GatewayRows.list(gateways)]
    }

    static func parseWindows(_ texts: [String]) throws -> [ScheduleWindow] {
        try texts.map { try ScheduleWindow(parsing: $0, field: "--window") }
    }
}

struct ScheduleAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Add a schedule.",
        discussion: """
        vosctl schedule add office --window "mon-fri 08:00-18:00" --calendar de
        vosctl schedule add night --window "mon-sun 22:00-06:00"
        vosctl schedule add holiday-route --calendar de --holidays only
        """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Schedule name.") var name: String
    @Option(name: .customLong("window"), help: "\"DAYS HH:MM-HH:MM\"; repeat for more.") var windows: [String] = []
    @Option(help: "A work calendar whose holidays apply.") var calendar: String?
    @Option(help: "off: closed on holidays (default); only: open all day on holidays and never otherwise (no --window); ignore: calendar not consulted.")
    var holidays: RouteSchedule.Holidays = .off

    func run() throws {
        try runReportingErrors {
            let schedule = RouteSchedule(name: name, windows: try ScheduleRows.parseWindows(windows), calendar: calendar, holidays: holidays)
            try global.openStore().write { try $0.addRouteSchedule(schedule) }
            print("added schedule \(name): \(ScheduleRows.windows(schedule))")
        }
    }
}

struct ScheduleSet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Change a schedule; fields not named keep their values.",
        discussion: "--window replaces every window (repeat it for several); --no-calendar clears the calendar.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Schedule name.") var name: String
    @Option(name: .customLong("window"), help: "\"DAYS HH:MM-HH:MM\"; repeat for more. Replaces the windows.") var windows: [String] = []
    @Option(help: "A work calendar whose holidays apply.") var calendar: String?
    @Flag(name: .customLong("no-calendar"), help: "Consult no calendar.") var noCalendar = false
    @Option(help: "off, only or ignore.") var holidays: RouteSchedule.Holidays?

    func run() throws {
        try runReportingErrors {
            if calendar != nil && noCalendar { throw ValidationError("give --calendar NAME or --no-calendar, not both") }
            guard !windows.isEmpty || calendar != nil || noCalendar || holidays != nil else {
                throw ValidationError("nothing to change: give --window, --calendar, --no-calendar or --holidays")
            }
            let newWindows = try ScheduleRows.parseWindows(windows)
            let schedule = try global.openStore().write { transaction in
                var schedule = try transaction.requireRouteSchedule(named: name)
                if !newWindows.isEmpty { schedule.windows = newWindows }
                if let calendar { schedule.calendar = calendar }
                if noCalendar { schedule.calendar = nil }
                if let holidays {
                    schedule.holidays = holidays
                    // Holidays-only schedules have no windows; leaving that mode needs new ones.
                    if holidays == .only && newWindows.isEmpty { schedule.windows = [] }
                }
                try transaction.saveRouteSchedule(schedule)
                return schedule
            }
            print("updated schedule \(name): \(ScheduleRows.windows(schedule))")
        }
    }
}

struct ScheduleShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a schedule and the gateways on it.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Schedule name.") var name: String
    @Flag(help: "Print JSON.") var json = false

    struct Shown: Encodable {
        let schedule: RouteSchedule
        let gateways: [String]

        enum Keys: String, CodingKey { case gateways }

        func encode(to encoder: any Encoder) throws {
            try schedule.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(gateways, forKey: .gateways)
        }
    }

    func run() throws {
        try runReportingErrors {
            let shown = try global.openStore().read { transaction in
                Shown(schedule: try transaction.requireRouteSchedule(named: name),
                      gateways: try transaction.routingGateways().filter { $0.schedule == name }.map(\.name))
            }
            if json { return try printJSON(shown) }
            let schedule = shown.schedule
            printTable(["FIELD", "VALUE"], [["name", schedule.name]] + schedule.windows.map { ["window", $0.description] }
                + [["calendar", schedule.calendar ?? "-"], ["holidays", ScheduleRows.holidays(schedule.holidays)],
                   ["gateways", GatewayRows.list(shown.gateways, empty: "none")]])
        }
    }
}

struct ScheduleList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List schedules.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try runReportingErrors {
            let (schedules, gateways) = try global.openStore().read { (try $0.routeSchedules(), try $0.routingGateways()) }
            if json { return try printJSON(schedules) }
            printTable(ScheduleRows.headers, schedules.map { schedule in
                ScheduleRows.summary(schedule, gateways: gateways.filter { $0.schedule == schedule.name }.map(\.name))
            })
        }
    }
}

struct ScheduleRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a schedule no gateway is on.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Schedule name.") var name: String

    func run() throws {
        try runReportingErrors {
            try global.openStore().write { try $0.removeRouteSchedule(named: name) }
            print("removed schedule \(name)")
        }
    }
}

struct ScheduleCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Whether a schedule is active at a local time, and why.",
        discussion: "--at is wall-clock time in SS_TIME_ZONE (empty: the host's zone); without it, now.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Schedule name.") var name: String
    @Option(help: "Local time \"YYYY-MM-DD HH:MM\" (default: now).") var at: String?
    @Flag(help: "Print JSON.") var json = false

    struct Checked: Encodable {
        let schedule: String
        let at: String
        let weekday: String
        let timeZone: String
        let active: Bool
        let reason: String
        /// Only when the wall time does not exist (clocks went forward over it).
        let note: String?
    }

    func run() throws {
        try runReportingErrors {
            let given = try at.map { try LocalTime(parsing: $0, field: "--at") }
            let (book, parameters) = try global.openStore().read { transaction in
                _ = try transaction.requireRouteSchedule(named: name)
                return (try transaction.routeScheduleBook(), try transaction.parameters())
            }
            let clock = try LocalClock(parameters: parameters)
            let time = given ?? clock.localTime(at: wallClockMilliseconds)
            let note = clock.exists(time) ? nil
                : "\(time) does not exist in \(clock.zoneName) (clocks go forward over it); a call then would be judged at \(clock.localTime(at: clock.instant(of: time)))"
            let activity = book.activity(name, at: time)
            let checked = Checked(schedule: name, at: time.description, weekday: time.weekday.shortName, timeZone: clock.zoneName,
                                  active: activity.isActive, reason: activity.reason, note: note)
            if json { return try printJSON(checked) }
            print("schedule \(name) is \(activity.isActive ? "active" : "inactive") at \(time.weekday.shortName) \(time) (\(clock.zoneName)): \(activity.reason)")
            if let note { print("note: \(note)") }
        }
    }
}
