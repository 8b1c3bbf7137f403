import ArgumentParser
import VOSModel
import VOSStore

/// `vosctl calendar`: work calendars, named sets of holiday date ranges that route schedules
/// consult (`schedule add --calendar NAME --holidays off|only|ignore`).
struct CalendarCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calendar", abstract: "Work calendars: holidays that route schedules consult.",
        subcommands: [CalendarAdd.self, CalendarHolidayCommand.self, CalendarShow.self, CalendarList.self, CalendarRemove.self])
}

struct CalendarHolidayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "holiday", abstract: "Add or remove a calendar's holiday date ranges.",
        subcommands: [CalendarHolidayAdd.self, CalendarHolidayRemove.self])
}

enum CalendarRows {
    static func holiday(_ holiday: WorkCalendar.Holiday) -> [String] {
        let days = holiday.last.dayNumber - holiday.first.dayNumber + 1
        return ["\(holiday.first)", "\(holiday.last)", String(days), holiday.label ?? "-"]
    }

    static let holidayHeaders = ["FIRST", "LAST", "DAYS", "LABEL"]
}

struct CalendarAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Create an empty calendar (add days with `calendar holiday add`).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Calendar name.") var name: String

    func run() throws {
        try runReportingErrors {
            try global.openStore().write { try $0.addWorkCalendar(WorkCalendar(name: name)) }
            print("added calendar \(name)")
        }
    }
}

struct CalendarHolidayAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Add a holiday: one day, or FIRST to LAST inclusive.",
        discussion: "Dates are YYYY-MM-DD in SS_TIME_ZONE's calendar. A range overlapping one already in the calendar is refused, naming both.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Calendar name.") var name: String
    @Argument(help: "First day off, YYYY-MM-DD.") var first: String
    @Argument(help: "Last day off, YYYY-MM-DD (default: FIRST).") var last: String?
    @Option(help: "What the holiday is called, e.g. 'Christmas'.") var label: String?

    func run() throws {
        try runReportingErrors {
            let firstDay = try LocalDate(parsing: first, field: "FIRST")
            let lastDay = try last.map { try LocalDate(parsing: $0, field: "LAST") } ?? firstDay
            let holiday = WorkCalendar.Holiday(first: firstDay, last: lastDay, label: label.map { $0.trimmingSpaces })
            let calendar = try global.openStore().write { try $0.addHoliday(holiday, toCalendar: name) }
            print("calendar \(name): added holiday \(holiday); \(calendar.holidays.count) in all")
        }
    }
}

struct CalendarHolidayRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove the holiday that starts on FIRST.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Calendar name.") var name: String
    @Argument(help: "The holiday's first day, YYYY-MM-DD.") var first: String

    func run() throws {
        try runReportingErrors {
            let firstDay = try LocalDate(parsing: first, field: "FIRST")
            let removed = try global.openStore().write { try $0.removeHoliday(startingOn: firstDay, fromCalendar: name) }
            print("calendar \(name): removed holiday \(removed)")
        }
    }
}

struct CalendarShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "A calendar's holidays and the schedules using it.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Calendar name.") var name: String
    @Flag(help: "Print JSON.") var json = false

    struct Shown: Encodable {
        let calendar: WorkCalendar
        let schedules: [String]

        enum Keys: String, CodingKey { case schedules }

        func encode(to encoder: any Encoder) throws {
            try calendar.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(schedules, forKey: .schedules)
        }
    }

    func run() throws {
        try runReportingErrors {
            let shown = try global.openStore().read { transaction in
                Shown(calendar: try transaction.requireWorkCalendar(named: name),
                      schedules: try transaction.routeSchedules().filter { $0.calendar == name }.map(\.name))
            }
            if json { return try printJSON(shown) }
            print("calendar \(name): \(shown.calendar.holidays.count) holidays; used by schedules: \(GatewayRows.list(shown.schedules, empty: "none"))")
            printTable(CalendarRows.holidayHeaders, shown.calendar.holidays.map(CalendarRows.holiday))
        }
    }
}

struct CalendarList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List calendars.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try runReportingErrors {
            let (calendars, schedules) = try global.openStore().read { (try $0.workCalendars(), try $0.routeSchedules()) }
            if json { return try printJSON(calendars) }
            printTable(["CALENDAR", "HOLIDAYS", "DAYS", "FIRST", "LAST", "SCHEDULES"], calendars.map { calendar in
                let days = calendar.holidays.reduce(0) { $0 + $1.last.dayNumber - $1.first.dayNumber + 1 }
                return [calendar.name, String(calendar.holidays.count), String(days),
                        calendar.holidays.first.map { "\($0.first)" } ?? "-", calendar.holidays.last.map { "\($0.last)" } ?? "-",
                        GatewayRows.list(schedules.filter { $0.calendar == calendar.name }.map(\.name))]
            })
        }
    }
}

struct CalendarRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a calendar no schedule uses.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Calendar name.") var name: String

    func run() throws {
        try runReportingErrors {
            try global.openStore().write { try $0.removeWorkCalendar(named: name) }
            print("removed calendar \(name)")
        }
    }
}
