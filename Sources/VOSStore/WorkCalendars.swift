import VOSModel

/// Work calendars (configuration, written by vosctl): their holidays, and the references route
/// schedules hold to them. Checks and stores; what a holiday means is `RouteSchedule`'s.
extension Transaction {
    public func workCalendars() throws -> [WorkCalendar] {
        try records(WorkCalendar.self, in: .workCalendars)
    }

    public func workCalendar(named name: String) throws -> WorkCalendar? {
        try record(WorkCalendar.self, in: .workCalendars, key: name)
    }

    public func requireWorkCalendar(named name: String) throws -> WorkCalendar {
        guard let calendar = try workCalendar(named: name) else { throw StoreError.notFound(kind: "calendar", name: name) }
        return calendar
    }

    public func addWorkCalendar(_ calendar: WorkCalendar) throws {
        if try workCalendar(named: calendar.name) != nil { throw StoreError.duplicate(kind: "calendar", name: calendar.name) }
        try saveWorkCalendar(calendar)
    }

    /// Validates (dates in order, no overlapping ranges) and writes (insert or replace).
    public func saveWorkCalendar(_ calendar: WorkCalendar) throws {
        do { try calendar.validate() } catch { throw StoreError.invalid(error) }
        try putRecord(calendar, in: .workCalendars, key: calendar.name)
    }

    /// Adds a holiday range to a calendar; one overlapping a range already there is refused,
    /// naming both.
    @discardableResult
    public func addHoliday(_ holiday: WorkCalendar.Holiday, toCalendar name: String) throws -> WorkCalendar {
        var calendar = try requireWorkCalendar(named: name)
        do { try calendar.addHoliday(holiday) } catch { throw StoreError.invalid(error) }
        try saveWorkCalendar(calendar)
        return calendar
    }

    /// Removes the holiday range that starts on `first`.
    @discardableResult
    public func removeHoliday(startingOn first: LocalDate, fromCalendar name: String) throws -> WorkCalendar.Holiday {
        var calendar = try requireWorkCalendar(named: name)
        guard let removed = calendar.removeHoliday(startingOn: first) else {
            let starts = calendar.holidays.map { "\($0.first)" }
            throw StoreError.conflict("calendar '\(name)' has no holiday starting on \(first)" +
                                      (starts.isEmpty ? " (it has none)" : " (holidays start on \(starts.joined(separator: ", ")))"))
        }
        try saveWorkCalendar(calendar)
        return removed
    }

    /// Refused while a schedule consults the calendar.
    public func removeWorkCalendar(named name: String) throws {
        _ = try requireWorkCalendar(named: name)
        let users = try routeSchedules().filter { $0.calendar == name }.map(\.name)
        guard users.isEmpty else {
            throw StoreError.conflict("calendar '\(name)' is used by schedule\(users.count == 1 ? "" : "s") \(users.map { "'\($0)'" }.joined(separator: ", ")): point \(users.count == 1 ? "it" : "them") elsewhere first (`vosctl schedule set \(users[0]) --no-calendar`)")
        }
        try delete(.workCalendars, Array(name.utf8))
    }
}
