import Foundation
import Testing
import VOSModel

/// Local dates and times, work calendars and route schedules (issue 16, time-based routing):
/// parsing, every refused input with its reason, and `isActive` across midnight and holidays.
@Suite struct LocalTimeTests {
    func at(_ text: String) throws -> LocalTime { try LocalTime(parsing: text) }

    @Test func datesParseAndRefuseDaysThatDoNotExist() throws {
        let date = try LocalDate(parsing: "2028-02-29")
        #expect(date.year == 2028 && date.month == 2 && date.day == 29 && date.description == "2028-02-29")
        let refusals: [(String, String)] = [
            ("2026-02-29", "a date that exists"), ("2026-02-30", "a date that exists"), ("2100-02-29", "a date that exists"),
            ("2026-13-01", "a date that exists"), ("2026-04-31", "a date that exists"), ("2026-00-10", "a date that exists"),
            ("1969-12-31", "1970-01-01"), ("2026-2-3", "YYYY-MM-DD"), ("26-02-03", "YYYY-MM-DD"), ("2026/02/03", "YYYY-MM-DD"),
            ("tomorrow", "YYYY-MM-DD"), ("", "YYYY-MM-DD"),
        ]
        for (text, reason) in refusals {
            #expect(performing: { try LocalDate(parsing: text, field: "FIRST") }, throws: { error in
                "\(error)".contains("FIRST") && "\(error)".contains(reason)
            })
        }
    }

    @Test func dayNumbersAndWeekdaysAgreeWithTheCalendar() throws {
        #expect(try LocalDate(parsing: "1970-01-01").dayNumber == 0)
        #expect(try LocalDate(parsing: "1970-01-01").weekday == .thursday)
        #expect(try LocalDate(parsing: "2026-12-25").weekday == .friday)
        #expect(try LocalDate(parsing: "2000-02-29").weekday == .tuesday)
        #expect(try LocalDate(parsing: "2026-03-01").adding(days: -1) == LocalDate(parsing: "2026-02-28"))
        #expect(try LocalDate(parsing: "2028-03-01").adding(days: -1) == LocalDate(parsing: "2028-02-29"))
        #expect(try LocalDate(parsing: "2026-12-31").adding(days: 1) == LocalDate(parsing: "2027-01-01"))
        // Every day for 60 years round-trips and steps its weekday by one.
        var previous = LocalDate(dayNumber: 0)
        for number in 1..<(366 * 60) {
            let date = LocalDate(dayNumber: number)
            #expect(date.dayNumber == number)
            #expect(date.weekday == previous.weekday.next)
            #expect(previous < date)
            previous = date
        }
    }

    @Test func localTimesParseAndCountMinutes() throws {
        let time = try at("2026-12-24 18:30")
        #expect(time.year == 2026 && time.month == 12 && time.day == 24 && time.hour == 18 && time.minute == 30)
        #expect(time.minuteOfDay == 18 * 60 + 30 && time.weekday == .thursday && time.description == "2026-12-24 18:30")
        #expect(try at("2026-12-24T18:30") == time)
        #expect(LocalTime(localMinutes: time.localMinutes) == time)
        for bad in ["2026-12-24", "2026-12-24 24:00", "2026-12-24 18:60", "2026-12-24 1830", "2026-12-32 10:00", "2026-12-24 -1:00"] {
            #expect(throws: ModelError.self, "'\(bad)' is refused") { try LocalTime(parsing: bad) }
        }
        #expect(throws: ModelError.self) { try LocalTime(date: LocalDate(parsing: "2026-01-01"), minuteOfDay: 1440) }
    }
}

@Suite struct WorkCalendarTests {
    func day(_ text: String) throws -> LocalDate { try LocalDate(parsing: text) }

    func holiday(_ first: String, _ last: String? = nil, _ label: String? = nil) throws -> WorkCalendar.Holiday {
        WorkCalendar.Holiday(first: try day(first), last: try day(last ?? first), label: label)
    }

    @Test func holidaysAreKeptInOrderAndLookedUp() throws {
        var calendar = WorkCalendar(name: "de")
        try calendar.addHoliday(try holiday("2026-12-24", "2026-12-26", "Christmas"))
        try calendar.addHoliday(try holiday("2026-01-01", nil, "New Year"))
        try calendar.addHoliday(try holiday("2026-10-03"))
        try calendar.addHoliday(try holiday("2026-12-31", "2027-01-01"))
        try calendar.validate()
        #expect(calendar.holidays.map { "\($0.first)" } == ["2026-01-01", "2026-10-03", "2026-12-24", "2026-12-31"])
        #expect(calendar.holiday(on: try day("2026-12-25"))?.label == "Christmas")
        #expect(calendar.holiday(on: try day("2026-12-24"))?.label == "Christmas", "the first day is included")
        #expect(calendar.holiday(on: try day("2026-12-26"))?.label == "Christmas", "the last day is included")
        #expect(calendar.holiday(on: try day("2026-12-27")) == nil)
        #expect(calendar.holiday(on: try day("2025-12-31")) == nil, "before every holiday")
        #expect(calendar.isHoliday(try day("2027-01-01")))
        #expect(!calendar.isHoliday(try day("2027-01-02")), "after every holiday")
        #expect(calendar.removeHoliday(startingOn: try day("2026-10-03"))?.first == (try day("2026-10-03")))
        #expect(calendar.removeHoliday(startingOn: try day("2026-10-03")) == nil)
        let decoded = try JSONRoundTrip.decode(WorkCalendar.self, try JSONRoundTrip.encode(calendar))
        #expect(decoded == calendar)
        let text = String(decoding: try JSONRoundTrip.encode(calendar), as: UTF8.self)
        #expect(text.contains(#""first":"2026-12-24""#) && text.contains(#""label":"Christmas""#), "stored readable: \(text)")
    }

    @Test func overlappingRangesAreRefusedNamingBoth() throws {
        var calendar = WorkCalendar(name: "de")
        try calendar.addHoliday(try holiday("2026-12-24", "2026-12-26", "Christmas"))
        let before = calendar
        for (first, last) in [("2026-12-26", "2026-12-28"), ("2026-12-20", "2026-12-24"), ("2026-12-25", "2026-12-25"), ("2026-12-01", "2026-12-31")] {
            #expect(performing: { try calendar.addHoliday(try holiday(first, last, "Break")) }, throws: { error in
                let text = "\(error)"
                return text.contains("calendar 'de'") && text.contains("overlaps") && text.contains("2026-12-24..2026-12-26 (Christmas)")
                    && text.contains(first)
            })
        }
        #expect(calendar == before, "a refused range changes nothing")
        // Adjacent ranges do not overlap.
        try calendar.addHoliday(try holiday("2026-12-27", "2026-12-28"))
        try calendar.addHoliday(try holiday("2026-12-23"))
    }

    @Test func badRangesAndLabelsAreRefused() throws {
        var calendar = WorkCalendar(name: "de")
        #expect(performing: { try calendar.addHoliday(try holiday("2026-12-26", "2026-12-24")) }, throws: { error in
            "\(error)".contains("2026-12-26..2026-12-24") && "\(error)".contains("the first day is after the last")
        })
        #expect(performing: { try calendar.addHoliday(try holiday("2026-12-24", nil, "two\nlines")) }, throws: { error in
            "\(error)".contains("label")
        })
        #expect(performing: { try calendar.addHoliday(try holiday("2026-12-24", nil, String(repeating: "x", count: 65))) }, throws: { error in
            "\(error)".contains("label")
        })
        #expect(calendar.holidays.isEmpty)
        #expect(throws: ModelError.self) { try WorkCalendar(name: "bad name").validate() }
        // A stored record with overlapping ranges (edited by hand) is refused by validate.
        let overlapping = #"{"name":"x","holidays":[{"first":"2026-01-01","last":"2026-01-05"},{"first":"2026-01-03","last":"2026-01-04"}]}"#
        let loaded = try JSONRoundTrip.decode(WorkCalendar.self, Data(overlapping.utf8))
        #expect(performing: { try loaded.validate() }, throws: { "\($0)".contains("overlaps") })
        let badDate = #"{"name":"x","holidays":[{"first":"2026-02-30","last":"2026-03-01"}]}"#
        #expect(throws: DecodingError.self) { try JSONRoundTrip.decode(WorkCalendar.self, Data(badDate.utf8)) }
    }
}

@Suite struct RouteScheduleTests {
    func at(_ text: String) throws -> LocalTime { try LocalTime(parsing: text) }

    func window(_ text: String) throws -> ScheduleWindow { try ScheduleWindow(parsing: text) }

    func schedule(_ windows: [String], holidays: RouteSchedule.Holidays = .off, calendar: String? = nil) throws -> RouteSchedule {
        RouteSchedule(name: "s", windows: try windows.map(window), calendar: calendar, holidays: holidays)
    }

    @Test func windowsParseAndPrintCanonically() throws {
        #expect(try window("mon-fri 08:00-18:00").description == "mon-fri 08:00-18:00")
        #expect(try window("Sat,SUN 22:00-06:00").description == "sat,sun 22:00-06:00")
        #expect(try window("fri-mon 00:00-24:00").description == "mon,fri-sun 00:00-24:00")
        #expect(try window("08:00-18:00").description == "mon-sun 08:00-18:00", "no days: every day")
        #expect(try window("mon,wed,fri 9:00-17:30").description == "mon,wed,fri 09:00-17:30")
        #expect(try window("monday-wednesday 08:00-09:00").days == WeekdaySet([.monday, .tuesday, .wednesday]))
        #expect(try window("tue 22:00-06:00").crossesMidnight)
        #expect(try window("tue 22:00-00:00").crossesMidnight)
        #expect(!(try window("tue 00:00-24:00").crossesMidnight))
        let stored = try schedule(["mon-fri 08:00-18:00", "sat 22:00-06:00"], calendar: "de")
        let text = String(decoding: try JSONRoundTrip.encode(stored), as: UTF8.self)
        #expect(text.contains(#"{"days":["mon","tue","wed","thu","fri"],"end":"18:00","start":"08:00"}"#), "\(text)")
        #expect(try JSONRoundTrip.decode(RouteSchedule.self, Data(text.utf8)) == stored)
    }

    @Test func badWindowsAreRefusedNamingWhatIsWrong() throws {
        let refusals: [(String, String)] = [
            ("mon-fry 08:00-18:00", "'fry'"),
            ("funday 08:00-18:00", "'funday'"),
            ("mon- 08:00-18:00", "days such as mon-fri"),
            ("mon-fri 8-18", "expected"),
            ("mon-fri 08:00-25:00", "end"),
            ("mon-fri 24:00-06:00", "start"),
            ("mon-fri 08:60-09:00", "start"),
            ("mon-fri 08:00", "DAYS HH:MM-HH:MM"),
            ("mon-fri 08:00-18:00 extra", "DAYS HH:MM-HH:MM"),
            ("mon 08:00-08:00", "starts and ends at the same time"),
            ("", "DAYS HH:MM-HH:MM"),
        ]
        for (text, reason) in refusals {
            #expect("'\(text)' is refused with '\(reason)'", performing: { try ScheduleWindow(parsing: text, field: "--window") }, throws: { error in
                "\(error)".contains("window") && "\(error)".contains(reason)
            })
        }
    }

    @Test func schedulesAreValidated() throws {
        try schedule(["mon-fri 08:00-18:00", "mon 09:00-10:00"]).validate()
        let refusals: [(RouteSchedule, String)] = [
            (try schedule([]), "--window"),
            (try schedule(["mon-fri 08:00-18:00", "mon-fri 08:00-18:00"]), "lists window mon-fri 08:00-18:00 twice"),
            (try schedule([], holidays: .only), "no --calendar"),
            (try schedule(["mon 08:00-09:00"], holidays: .only, calendar: "de"), "give no --window"),
            (RouteSchedule(name: "bad name", windows: [try window("mon 08:00-09:00")]), "schedule name"),
            (try schedule(["mon 08:00-09:00"], calendar: "bad/name"), "--calendar"),
        ]
        for (bad, reason) in refusals {
            #expect("refused for \(reason)", performing: { try bad.validate() }, throws: { "\($0)".contains(reason) })
        }
        try schedule([], holidays: .only, calendar: "de").validate()
    }

    @Test func sameDayWindowsOpenAtTheStartAndCloseAtTheEnd() throws {
        let office = try schedule(["mon-fri 08:00-18:00"])
        // 2026-12-07 is a Monday.
        #expect(!office.isActive(at: try at("2026-12-07 07:59"), calendar: nil))
        #expect(office.isActive(at: try at("2026-12-07 08:00"), calendar: nil))
        #expect(office.isActive(at: try at("2026-12-07 17:59"), calendar: nil))
        #expect(!office.isActive(at: try at("2026-12-07 18:00"), calendar: nil), "the end is excluded")
        #expect(office.isActive(at: try at("2026-12-11 12:00"), calendar: nil), "Friday")
        #expect(!office.isActive(at: try at("2026-12-12 12:00"), calendar: nil), "Saturday")
        let wholeDay = try schedule(["sun 00:00-24:00"])
        #expect(wholeDay.isActive(at: try at("2026-12-13 00:00"), calendar: nil))
        #expect(wholeDay.isActive(at: try at("2026-12-13 23:59"), calendar: nil))
        #expect(!wholeDay.isActive(at: try at("2026-12-14 00:00"), calendar: nil))
    }

    @Test func aWindowCrossingMidnightBelongsToTheDayItStarts() throws {
        let night = try schedule(["fri 22:00-06:00"])
        #expect(!night.isActive(at: try at("2026-12-11 21:59"), calendar: nil))
        #expect(night.isActive(at: try at("2026-12-11 22:00"), calendar: nil), "Friday evening")
        #expect(night.isActive(at: try at("2026-12-11 23:59"), calendar: nil))
        #expect(night.isActive(at: try at("2026-12-12 00:00"), calendar: nil), "Saturday morning, opened on Friday")
        #expect(night.isActive(at: try at("2026-12-12 05:59"), calendar: nil))
        #expect(!night.isActive(at: try at("2026-12-12 06:00"), calendar: nil))
        #expect(!night.isActive(at: try at("2026-12-12 22:30"), calendar: nil), "Saturday evening is not Friday's")
        #expect(!night.isActive(at: try at("2026-12-11 03:00"), calendar: nil), "Friday morning belongs to Thursday's night")
        // Sunday night runs into Monday: the weekday wraps.
        let sunday = try schedule(["sun 23:00-01:00"])
        #expect(sunday.isActive(at: try at("2026-12-14 00:30"), calendar: nil))
        #expect(!sunday.isActive(at: try at("2026-12-15 00:30"), calendar: nil))
        #expect(sunday.activity(at: try at("2026-12-14 00:30"), calendar: nil).reason.contains("opened sun 2026-12-13"))
        // Overlapping windows are harmless: active while any is open.
        let overlapping = try schedule(["mon-fri 08:00-18:00", "mon 12:00-20:00"])
        #expect(overlapping.isActive(at: try at("2026-12-07 19:00"), calendar: nil))
        #expect(!overlapping.isActive(at: try at("2026-12-08 19:00"), calendar: nil))
    }

    @Test func holidaysOffOnlyAndIgnore() throws {
        var calendar = WorkCalendar(name: "de")
        try calendar.addHoliday(WorkCalendar.Holiday(first: try LocalDate(parsing: "2026-12-24"), last: try LocalDate(parsing: "2026-12-26"), label: "Christmas"))
        let windows = ["mon-fri 08:00-18:00", "thu 22:00-06:00"]
        let off = try schedule(windows, holidays: .off, calendar: "de")
        let ignore = try schedule(windows, holidays: .ignore, calendar: "de")
        let only = try schedule([], holidays: .only, calendar: "de")
        let christmasEve = try at("2026-12-24 10:00")  // Thursday, a holiday
        let ordinary = try at("2026-12-22 10:00")      // Tuesday
        #expect(!off.isActive(at: christmasEve, calendar: calendar), "off: closed on a holiday")
        #expect(off.isActive(at: ordinary, calendar: calendar))
        #expect(off.isActive(at: christmasEve, calendar: nil), "no calendar: no holidays")
        #expect(ignore.isActive(at: christmasEve, calendar: calendar), "ignore: the calendar is not consulted")
        #expect(only.isActive(at: christmasEve, calendar: calendar), "only: open on the holiday")
        #expect(only.isActive(at: try at("2026-12-26 03:00"), calendar: calendar), "only: all day, weekend included")
        #expect(!only.isActive(at: ordinary, calendar: calendar), "only: closed on an ordinary day")
        #expect(!only.isActive(at: christmasEve, calendar: nil))
        // The night window opened on Wednesday 23rd (not a holiday) runs into the 24th; the one
        // that would open on Thursday 24th (a holiday) stays closed into Friday.
        let thursdayNight = try schedule(["wed-thu 22:00-06:00"], holidays: .off, calendar: "de")
        #expect(thursdayNight.isActive(at: try at("2026-12-24 05:00"), calendar: calendar))
        #expect(!thursdayNight.isActive(at: try at("2026-12-24 23:00"), calendar: calendar))
        #expect(!thursdayNight.isActive(at: try at("2026-12-25 05:00"), calendar: calendar))
        let reason = off.activity(at: christmasEve, calendar: calendar)
        #expect(!reason.isActive && reason.reason.contains("holiday 2026-12-24..2026-12-26 (Christmas)") && reason.reason.contains("--holidays off"))
        #expect(only.activity(at: ordinary, calendar: calendar).reason.contains("not a holiday"))
        #expect(off.activity(at: ordinary, calendar: calendar).reason.contains("in window mon-fri 08:00-18:00"))
        #expect(off.activity(at: try at("2026-12-22 20:00"), calendar: calendar).reason.contains("in no window (mon-fri 08:00-18:00; thu 22:00-06:00)"))
    }

    @Test func theBookAnswersByName() throws {
        var calendar = WorkCalendar(name: "de")
        try calendar.addHoliday(WorkCalendar.Holiday(first: try LocalDate(parsing: "2026-12-25"), last: try LocalDate(parsing: "2026-12-25")))
        let book = RouteScheduleBook(schedules: [try schedule(["mon-sun 00:00-24:00"], calendar: "de")], calendars: [calendar])
        #expect(book.isActive("s", at: try at("2026-12-24 12:00")))
        #expect(!book.isActive("s", at: try at("2026-12-25 12:00")), "the schedule's calendar is applied")
        #expect(!book.isActive("missing", at: try at("2026-12-24 12:00")), "an unknown schedule is never active")
        #expect(book.activity("missing", at: try at("2026-12-24 12:00")).reason.contains("does not exist"))
        let resolved = try #require(book.resolved("s"))
        #expect(resolved.calendar == calendar)
        #expect(resolved.isActive(at: try at("2026-12-24 12:00")))
        #expect(!resolved.isActive(at: try at("2026-12-25 12:00")))
        #expect(book.resolved("missing") == nil)
    }
}
