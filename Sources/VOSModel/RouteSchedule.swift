/// Route schedules (issue 16, time-based routing): when a routing gateway that names one may be
/// tried, as weekly windows of local time and a work calendar's holidays. Values, parsing,
/// validation and the pure `isActive` answer; the local time comes from VOSStore's `LocalClock`
/// (`SS_TIME_ZONE`), storage is VOSStore's, and what an inactive gateway means for a call is
/// the route planner's.
public struct RouteSchedule: Sendable, Hashable, Codable {
    /// How the calendar's holidays bear on the windows.
    public enum Holidays: String, Sendable, Hashable, Codable, CaseIterable {
        /// Inactive all day on a holiday (the default): a window starting on a holiday does not open.
        case off
        /// Active all day on holidays and at no other time; the schedule has no windows.
        case only
        /// The calendar is not consulted.
        case ignore
    }

    public var name: String
    /// A `WorkCalendar` by name; nil: no day is a holiday.
    public var calendar: String?
    public var windows: [ScheduleWindow]
    public var holidays: Holidays

    public init(name: String, windows: [ScheduleWindow], calendar: String? = nil, holidays: Holidays = .off) {
        self.name = name
        self.windows = windows
        self.calendar = calendar
        self.holidays = holidays
    }

    public static let maximumWindows = 100

    /// Overlapping windows are harmless (the schedule is active while any is open); an exact
    /// duplicate is refused as the typo it almost certainly is.
    public func validate() throws(ModelError) {
        try GatewayName.validate(name, field: "schedule name")
        if let calendar { try GatewayName.validate(calendar, field: "schedule '\(name)' --calendar") }
        switch holidays {
        case .only:
            guard calendar != nil else {
                throw ModelError.inconsistent("schedule '\(name)' has --holidays only but no --calendar: it would never be active")
            }
            guard windows.isEmpty else {
                throw ModelError.inconsistent("schedule '\(name)' has --holidays only, which is active all day on holidays: give no --window")
            }
        case .off, .ignore:
            guard !windows.isEmpty else {
                throw ModelError.missing(field: "schedule '\(name)' --window (at least one, such as \"mon-fri 08:00-18:00\")")
            }
        }
        guard windows.count <= Self.maximumWindows else {
            throw ModelError.outOfRange(field: "schedule '\(name)' windows", value: String(windows.count), range: "1-\(Self.maximumWindows)")
        }
        for window in windows { try window.validate(schedule: name) }
        for (index, window) in windows.enumerated() where windows[..<index].contains(window) {
            throw ModelError.inconsistent("schedule '\(name)' lists window \(window) twice")
        }
    }

    /// Whether a gateway on this schedule may be tried at local time `time`. `calendar` is the
    /// one `self.calendar` names (nil when it names none). Allocates nothing: asked per call and
    /// gateway.
    public func isActive(at time: LocalTime, calendar: WorkCalendar?) -> Bool {
        if holidays == .only { return calendar?.isHoliday(time.date) ?? false }
        let consulted = holidays == .off ? calendar : nil
        for window in windows {
            guard let startDay = window.startDay(containing: time) else { continue }
            if let consulted, consulted.isHoliday(startDay == .today ? time.date : time.date.adding(days: -1)) { continue }
            return true
        }
        return false
    }

    /// `isActive` with the reason, for `schedule check` and `route explain` (which name the
    /// time themselves): "in window mon-fri 08:00-18:00", "window mon-fri 08:00-18:00 would be
    /// open, but 2026-12-24 is holiday ...".
    public func activity(at time: LocalTime, calendar: WorkCalendar?) -> Activity {
        let calendarName = self.calendar.map { "'\($0)'" } ?? "(none)"
        if holidays == .only {
            if let holiday = calendar?.holiday(on: time.date) {
                return Activity(isActive: true, reason: "holiday \(holiday) in calendar \(calendarName), and the schedule is active only on holidays")
            }
            return Activity(isActive: false, reason: "\(time.date) is not a holiday in calendar \(calendarName), and the schedule is active only on holidays")
        }
        let consulted = holidays == .off ? calendar : nil
        var closedBy: String?
        for window in windows {
            guard let startDay = window.startDay(containing: time) else { continue }
            let day = startDay == .today ? time.date : time.date.adding(days: -1)
            if let consulted, let holiday = consulted.holiday(on: day) {
                closedBy = closedBy ?? "window \(window) would be open, but \(day) is holiday \(holiday) in calendar \(calendarName) (--holidays off)"
                continue
            }
            let since = startDay == .today ? "" : " (opened \(day.weekday.shortName) \(day))"
            return Activity(isActive: true, reason: "in window \(window)\(since)")
        }
        if let closedBy { return Activity(isActive: false, reason: closedBy) }
        return Activity(isActive: false, reason: "in no window (\(windows.map(\.description).joined(separator: "; ")))")
    }

    public struct Activity: Sendable, Hashable {
        public var isActive: Bool
        public var reason: String

        public init(isActive: Bool, reason: String) {
            self.isActive = isActive
            self.reason = reason
        }
    }

    private enum CodingKeys: String, CodingKey { case name, calendar, windows, holidays }

    public init(from decoder: any Decoder) throws {
        let stored = try decoder.container(keyedBy: CodingKeys.self)
        self.init(name: try stored.decode(String.self, forKey: .name),
                  windows: try stored.decodeIfPresent([ScheduleWindow].self, forKey: .windows) ?? [],
                  calendar: try stored.decodeIfPresent(String.self, forKey: .calendar),
                  holidays: try stored.decodeIfPresent(Holidays.self, forKey: .holidays) ?? .off)
    }
}

/// Days of the week as a bit set (bit n: `Weekday(rawValue: n)`), written `mon-fri`, `sat,sun`
/// or `fri-mon` (a range may wrap past Sunday).
public struct WeekdaySet: Sendable, Hashable, CustomStringConvertible {
    public private(set) var bits: UInt8

    public init(_ days: some Sequence<Weekday>) {
        bits = 0
        for day in days { bits |= 1 << UInt8(day.rawValue) }
    }

    public static let everyDay = WeekdaySet(Weekday.allCases)

    public func contains(_ day: Weekday) -> Bool { bits & (1 << UInt8(day.rawValue)) != 0 }

    public var isEmpty: Bool { bits == 0 }

    public var days: [Weekday] { Weekday.allCases.filter(contains) }

    /// Comma-separated days and ranges: `mon-fri`, `sat,sun`, `mon-wed,fri`, `fri-mon`.
    public init(parsing text: String, field: String) throws(ModelError) {
        let expected = "days such as mon-fri, sat,sun or fri-mon (mon tue wed thu fri sat sun)"
        var days: [Weekday] = []
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpaces }
        for item in items {
            let ends = item.split(separator: "-", omittingEmptySubsequences: false).map { String($0).trimmingSpaces }
            guard (1...2).contains(ends.count) else { throw ModelError.invalid(field: field, value: text, expected: expected) }
            var resolved: [Weekday] = []
            for end in ends {
                guard let day = Weekday(name: end) else {
                    throw ModelError.invalid(field: field, value: end.isEmpty ? text : end, expected: expected)
                }
                resolved.append(day)
            }
            var day = resolved[0]
            days.append(day)
            while day != resolved[resolved.count - 1] {
                day = day.next
                days.append(day)
            }
        }
        self.init(days)
    }

    /// Runs of three or more days as ranges (`mon-fri`), shorter ones listed (`sat,sun`).
    public var description: String {
        if self == .everyDay { return "mon-sun" }
        var parts: [String] = []
        var run: [Weekday] = []
        func flush() {
            if run.count >= 3, let first = run.first, let last = run.last {
                parts.append("\(first.shortName)-\(last.shortName)")
            } else {
                parts += run.map(\.shortName)
            }
            run = []
        }
        for day in Weekday.allCases {
            if contains(day) { run.append(day) } else { flush() }
        }
        flush()
        return parts.joined(separator: ",")
    }
}

/// One weekly window: on `days`, from `start` (included) to `end` (excluded), minutes of the day.
/// An end at or before the start crosses midnight, and the window belongs to the day it starts
/// on: `fri 22:00-06:00` is open from Friday 22:00 to Saturday 06:00, and a holiday on Friday
/// closes all of it.
public struct ScheduleWindow: Sendable, Hashable, CustomStringConvertible {
    public var days: WeekdaySet
    /// 0-1439.
    public var start: Int
    /// 0-1440 (24:00); never equal to `start`.
    public var end: Int

    public init(days: WeekdaySet, start: Int, end: Int) {
        self.days = days
        self.start = start
        self.end = end
    }

    /// `DAYS HH:MM-HH:MM`, or `HH:MM-HH:MM` for every day.
    public init(parsing text: String, field: String = "--window") throws(ModelError) {
        let trimmed = text.trimmingSpaces
        let expected = "\"DAYS HH:MM-HH:MM\" such as \"mon-fri 08:00-18:00\" or \"sat,sun 22:00-06:00\" (DAYS left out: every day)"
        let words = trimmed.split(separator: " ", omittingEmptySubsequences: true)
        guard (1...2).contains(words.count) else { throw ModelError.invalid(field: field, value: text, expected: expected) }
        days = words.count == 2 ? try WeekdaySet(parsing: String(words[0]), field: "\(field) '\(trimmed)' days") : .everyDay
        let range = words[words.count - 1].split(separator: "-", omittingEmptySubsequences: false)
        guard range.count == 2 else { throw ModelError.invalid(field: field, value: text, expected: expected) }
        start = try LocalTime.parseClock(String(range[0]), field: "\(field) '\(trimmed)' start", allowingEndOfDay: false)
        end = try LocalTime.parseClock(String(range[1]), field: "\(field) '\(trimmed)' end", allowingEndOfDay: true)
        try validate(schedule: nil)
    }

    public var crossesMidnight: Bool { end <= start }

    public func validate(schedule: String?) throws(ModelError) {
        let owner = schedule.map { "schedule '\($0)' window" } ?? "window"
        guard !days.isEmpty else { throw ModelError.missing(field: "\(owner) days") }
        guard (0..<LocalTime.minutesPerDay).contains(start), (0...LocalTime.minutesPerDay).contains(end) else {
            throw ModelError.outOfRange(field: "\(owner) times", value: "\(start)-\(end) minutes", range: "start 00:00-23:59, end 00:00-24:00")
        }
        guard start != end else {
            throw ModelError.inconsistent("\(owner) \(self) starts and ends at the same time: for a whole day write 00:00-24:00")
        }
    }

    enum StartDay { case today, yesterday }

    /// Whether the window is open at `time`, and on which day the open span began.
    func startDay(containing time: LocalTime) -> StartDay? {
        let minute = time.minuteOfDay
        if !crossesMidnight {
            return minute >= start && minute < end && days.contains(time.weekday) ? .today : nil
        }
        if minute >= start && days.contains(time.weekday) { return .today }
        if minute < end && days.contains(time.weekday.previous) { return .yesterday }
        return nil
    }

    public func isOpen(at time: LocalTime) -> Bool { startDay(containing: time) != nil }

    public var description: String {
        "\(days) \(LocalTime.clockText(start))-\(LocalTime.clockText(end))"
    }
}

extension ScheduleWindow: Codable {
    private enum CodingKeys: String, CodingKey { case days, start, end }

    /// Stored readable (`{"days":["mon",...],"start":"08:00","end":"18:00"}`) for scripts reading `--json`.
    public init(from decoder: any Decoder) throws {
        let stored = try decoder.container(keyedBy: CodingKeys.self)
        let names = try stored.decode([String].self, forKey: .days)
        do {
            var days: [Weekday] = []
            for name in names {
                guard let day = Weekday(name: name) else { throw ModelError.invalid(field: "window day", value: name, expected: "mon-sun") }
                days.append(day)
            }
            self.init(days: WeekdaySet(days),
                      start: try LocalTime.parseClock(try stored.decode(String.self, forKey: .start), field: "window start", allowingEndOfDay: false),
                      end: try LocalTime.parseClock(try stored.decode(String.self, forKey: .end), field: "window end", allowingEndOfDay: true))
        } catch let error as ModelError {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(days.days.map(\.shortName), forKey: .days)
        try container.encode(LocalTime.clockText(start), forKey: .start)
        try container.encode(LocalTime.clockText(end), forKey: .end)
    }
}

/// Every schedule and calendar by name, built once per configuration load: what the route
/// planner's "is this gateway's schedule active" closure asks.
public struct RouteScheduleBook: Sendable {
    public let schedules: [String: RouteSchedule]
    public let calendars: [String: WorkCalendar]

    public init(schedules: [RouteSchedule], calendars: [WorkCalendar]) {
        self.schedules = Dictionary(schedules.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.calendars = Dictionary(calendars.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Whether schedule `name` is active at `time`. A name with no schedule (the store refuses
    /// that, so only a record edited by hand) is inactive: a gateway meant for certain hours
    /// must not be tried at all hours.
    public func isActive(_ name: String, at time: LocalTime) -> Bool {
        guard let schedule = schedules[name] else { return false }
        return schedule.isActive(at: time, calendar: schedule.calendar.flatMap { calendars[$0] })
    }

    public func activity(_ name: String, at time: LocalTime) -> RouteSchedule.Activity {
        guard let schedule = schedules[name] else {
            return RouteSchedule.Activity(isActive: false, reason: "schedule '\(name)' does not exist")
        }
        return schedule.activity(at: time, calendar: schedule.calendar.flatMap { calendars[$0] })
    }

    /// The schedule with its calendar, looked up once (when the snapshot is built, per gateway)
    /// so a call asks no dictionary; nil for a name with no schedule.
    public func resolved(_ name: String) -> ResolvedRouteSchedule? {
        guard let schedule = schedules[name] else { return nil }
        return ResolvedRouteSchedule(schedule: schedule, calendar: schedule.calendar.flatMap { calendars[$0] })
    }
}

/// A schedule and the calendar it names, ready to be asked per call.
public struct ResolvedRouteSchedule: Sendable, Hashable {
    public let schedule: RouteSchedule
    public let calendar: WorkCalendar?

    public init(schedule: RouteSchedule, calendar: WorkCalendar?) {
        self.schedule = schedule
        self.calendar = calendar
    }

    public func isActive(at time: LocalTime) -> Bool { schedule.isActive(at: time, calendar: calendar) }

    public func activity(at time: LocalTime) -> RouteSchedule.Activity { schedule.activity(at: time, calendar: calendar) }
}
