import Foundation
import Testing
import VOSModel
import VOSStore

/// `LocalClock`: instants to local wall-clock time in `SS_TIME_ZONE`, across a zone without
/// daylight saving and Europe/Berlin on both of its change days; monthly periods.
@Suite struct LocalClockTests {
    /// Epoch milliseconds of a UTC wall time.
    func utc(_ text: String) throws -> Int64 {
        try LocalTime(parsing: text).localMinutes * 60_000
    }

    func local(_ text: String) throws -> LocalTime { try LocalTime(parsing: text) }

    @Test func aZoneWithoutDaylightSavingIsAFixedOffset() throws {
        let tokyo = try LocalClock(zoneName: "Asia/Tokyo")
        #expect(tokyo.zoneName == "Asia/Tokyo")
        #expect(tokyo.localTime(at: try utc("2026-12-31 14:59")) == (try local("2026-12-31 23:59")))
        #expect(tokyo.localTime(at: try utc("2026-12-31 15:00")) == (try local("2027-01-01 00:00")))
        #expect(tokyo.localTime(at: try utc("2026-12-31 15:00")).weekday == .friday)
        #expect(tokyo.localTime(at: try utc("2026-06-30 15:00") + 59_999) == (try local("2026-07-01 00:00")), "seconds do not matter")
        #expect(tokyo.instant(of: try local("2027-01-01 00:00")) == (try utc("2026-12-31 15:00")))
        let utcClock = try LocalClock(zoneName: "UTC")
        #expect(utcClock.localTime(at: 0) == (try local("1970-01-01 00:00")))
        #expect(utcClock.period(of: try utc("2026-02-28 23:59")) == "2026-02")
    }

    @Test func berlinSpringsForwardAtOneUTC() throws {
        // 2026-03-29: 02:00 CET becomes 03:00 CEST at 01:00 UTC.
        let berlin = try LocalClock(zoneName: "Europe/Berlin")
        #expect(berlin.localTime(at: try utc("2026-03-29 00:59")) == (try local("2026-03-29 01:59")))
        #expect(berlin.localTime(at: try utc("2026-03-29 01:00")) == (try local("2026-03-29 03:00")))
        #expect(berlin.localTime(at: try utc("2026-03-29 01:00") - 1) == (try local("2026-03-29 01:59")), "the last millisecond before")
        #expect(berlin.offsetSeconds(at: try utc("2026-03-29 00:59")) == 3600)
        #expect(berlin.offsetSeconds(at: try utc("2026-03-29 01:00")) == 7200)
        #expect(!berlin.exists(try local("2026-03-29 02:30")), "skipped by the clocks")
        #expect(berlin.exists(try local("2026-03-29 03:00")))
        #expect(berlin.exists(try local("2026-03-29 01:59")))
        #expect(berlin.instant(of: try local("2026-03-29 03:00")) == (try utc("2026-03-29 01:00")))
        #expect(berlin.localTime(at: berlin.instant(of: try local("2026-03-29 02:30"))) == (try local("2026-03-29 03:30")))
        // A schedule switching at 03:00 local switches at 01:00 UTC that day.
        let schedule = RouteSchedule(name: "day", windows: [try ScheduleWindow(parsing: "sun 03:00-12:00")])
        #expect(!schedule.isActive(at: berlin.localTime(at: try utc("2026-03-29 00:59")), calendar: nil))
        #expect(schedule.isActive(at: berlin.localTime(at: try utc("2026-03-29 01:00")), calendar: nil))
    }

    @Test func berlinFallsBackAtOneUTC() throws {
        // 2026-10-25: 03:00 CEST becomes 02:00 CET at 01:00 UTC; 02:xx happens twice.
        let berlin = try LocalClock(zoneName: "Europe/Berlin")
        #expect(berlin.localTime(at: try utc("2026-10-25 00:30")) == (try local("2026-10-25 02:30")))
        #expect(berlin.localTime(at: try utc("2026-10-25 01:30")) == (try local("2026-10-25 02:30")))
        #expect(berlin.localTime(at: try utc("2026-10-25 00:59")) == (try local("2026-10-25 02:59")))
        #expect(berlin.localTime(at: try utc("2026-10-25 01:00")) == (try local("2026-10-25 02:00")))
        #expect(berlin.instant(of: try local("2026-10-25 02:30")) == (try utc("2026-10-25 00:30")), "the earlier of the two")
        #expect(berlin.exists(try local("2026-10-25 02:30")))
    }

    @Test func theCachedMinuteIsNeverStale() throws {
        let berlin = try LocalClock(zoneName: "Europe/Berlin")
        let start = try utc("2026-03-29 00:58")
        // Every second across the change, in order and back again.
        var expected: [Int64: LocalTime] = [:]
        for second in Int64(0)..<240 {
            let instant = start + second * 1000
            expected[instant] = berlin.localTime(at: instant)
        }
        for second in stride(from: Int64(239), through: 0, by: -7) {
            let instant = start + second * 1000
            #expect(berlin.localTime(at: instant) == expected[instant])
        }
        #expect(expected[start + 119_000] == (try local("2026-03-29 01:59")))
        #expect(expected[start + 120_000] == (try local("2026-03-29 03:00")))
    }

    @Test func monthlyPeriodsFollowTheLocalCalendar() throws {
        let berlin = try LocalClock(zoneName: "Europe/Berlin")
        // 2026-02-28 23:30 UTC is already March 1st in Berlin.
        #expect(berlin.period(of: try utc("2026-02-28 22:59")) == "2026-02")
        #expect(berlin.period(of: try utc("2026-02-28 23:30")) == "2026-03")
        #expect(berlin.monthStart(year: 2026, month: 3) == (try utc("2026-02-28 23:00")))
        #expect(berlin.monthStart(year: 2026, month: 4) == (try utc("2026-03-31 22:00")), "summer time by April")
        #expect(berlin.monthStart(year: 2026, month: 13) == (try utc("2026-12-31 23:00")), "month 13 is next January")
        #expect(berlin.monthStart(year: 2027, month: 0) == (try utc("2026-11-30 23:00")), "month 0 is last December")
        let bounds = berlin.monthBounds(of: try utc("2026-10-25 12:00"))
        #expect(bounds.start == (try utc("2026-09-30 22:00")))
        #expect(bounds.end == (try utc("2026-10-31 23:00")))
        #expect(LocalClock.period(year: 2026, month: 3) == "2026-03" && LocalClock.period(year: 2026, month: 11) == "2026-11")
    }

    @Test func theZoneComesFromTheParameter() throws {
        #expect(try LocalClock(parameters: ParameterSet(overrides: [.timeZone: "Europe/Berlin"])).zoneName == "Europe/Berlin")
        #expect(try LocalClock(zoneName: "").zoneName == TimeZone.current.identifier, "empty: the host's zone")
        for bad in ["Mars/Olympus_Mons", "../etc/passwd", "Europe/"] {
            #expect(performing: { try LocalClock(zoneName: bad) }, throws: { "\($0)".contains("SS_TIME_ZONE") })
        }
    }
}
