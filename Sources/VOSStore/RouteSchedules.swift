import VOSModel

/// Route schedules (configuration, written by vosctl): stored with their calendar reference
/// checked, and refused removal while a routing gateway names them.
extension Transaction {
    public func routeSchedules() throws -> [RouteSchedule] {
        try records(RouteSchedule.self, in: .routeSchedules)
    }

    public func routeSchedule(named name: String) throws -> RouteSchedule? {
        try record(RouteSchedule.self, in: .routeSchedules, key: name)
    }

    public func requireRouteSchedule(named name: String) throws -> RouteSchedule {
        guard let schedule = try routeSchedule(named: name) else { throw StoreError.notFound(kind: "schedule", name: name) }
        return schedule
    }

    public func addRouteSchedule(_ schedule: RouteSchedule) throws {
        if try routeSchedule(named: schedule.name) != nil { throw StoreError.duplicate(kind: "schedule", name: schedule.name) }
        try saveRouteSchedule(schedule)
    }

    /// Validates and writes (insert or replace); its calendar, when named, must exist.
    public func saveRouteSchedule(_ schedule: RouteSchedule) throws {
        do { try schedule.validate() } catch { throw StoreError.invalid(error) }
        if let calendar = schedule.calendar, try workCalendar(named: calendar) == nil {
            throw StoreError.conflict("calendar '\(calendar)' given for schedule '\(schedule.name)' does not exist (create it with `vosctl calendar add \(calendar)`)")
        }
        try putRecord(schedule, in: .routeSchedules, key: schedule.name)
    }

    /// Refused while a routing gateway is on the schedule.
    public func removeRouteSchedule(named name: String) throws {
        _ = try requireRouteSchedule(named: name)
        let users = try routingGateways().filter { $0.schedule == name }.map(\.name)
        guard users.isEmpty else {
            throw StoreError.conflict("schedule '\(name)' is used by routing gateway\(users.count == 1 ? "" : "s") \(users.map { "'\($0)'" }.joined(separator: ", ")): take \(users.count == 1 ? "it" : "them") off first (`vosctl gateway set \(users[0]) --no-schedule`)")
        }
        try delete(.routeSchedules, Array(name.utf8))
    }

    /// What a routing gateway names beyond what `saveRoutingGateway` checks: its schedule and
    /// group must exist. vosctl calls it in the transaction that saves the gateway.
    public func requireScheduleAndGroup(of gateway: RoutingGateway) throws {
        if let schedule = gateway.schedule, try routeSchedule(named: schedule) == nil {
            throw StoreError.conflict("schedule '\(schedule)' given for routing gateway '\(gateway.name)' does not exist (create it with `vosctl schedule add \(schedule) --window \"mon-fri 08:00-18:00\"`)")
        }
        if let group = gateway.group, try gatewayGroup(named: group) == nil {
            throw StoreError.conflict("group '\(group)' given for routing gateway '\(gateway.name)' does not exist (create it with `vosctl group add \(group) --lines N`)")
        }
    }

    /// Every schedule and calendar by name, in one read: what the controller's snapshot holds.
    public func routeScheduleBook() throws -> RouteScheduleBook {
        RouteScheduleBook(schedules: try routeSchedules(), calendars: try workCalendars())
    }
}
