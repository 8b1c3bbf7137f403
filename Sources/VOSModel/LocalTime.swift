/// Wall-clock dates and times in the appliance's zone (`SS_TIME_ZONE`), as route schedules and
/// work calendars read them. Pure: the conversion from an instant is VOSStore's `LocalClock`;
/// here are only the values, their text forms and calendar arithmetic (proleptic Gregorian).

/// A day of the week; raw values are ISO 8601's (Monday 1 ... Sunday 7).
public enum Weekday: Int, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case monday = 1, tuesday, wednesday, thursday, friday, saturday, sunday

    /// The three-letter name operators write in schedule windows (`mon-fri`).
    public var shortName: String {
        switch self {
        case .monday: return "mon"
        case .tuesday: return "tue"
        case .wednesday: return "wed"
        case .thursday: return "thu"
        case .friday: return "fri"
        case .saturday: return "sat"
        case .sunday: return "sun"
        }
    }

    /// Accepts the short name or the full English name, any case.
    public init?(name: String) {
        let lowered = name.lowercased()
        guard let day = Weekday.allCases.first(where: { $0.shortName == lowered || "\($0)" == lowered }) else { return nil }
        self = day
    }

    public var previous: Weekday { self == .monday ? .sunday : Weekday(rawValue: rawValue - 1) ?? .monday }
    public var next: Weekday { self == .sunday ? .monday : Weekday(rawValue: rawValue + 1) ?? .sunday }

    public static func < (lhs: Weekday, rhs: Weekday) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A calendar date (no time, no zone), written and stored as `YYYY-MM-DD`.
public struct LocalDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Refuses dates that do not exist (2026-02-30, month 13) and years outside 1970-9999.
    public init(year: Int, month: Int, day: Int, field: String = "date") throws(ModelError) {
        guard (1970...9999).contains(year), (1...12).contains(month),
              (1...LocalDate.daysIn(month: month, year: year)).contains(day) else {
            throw ModelError.invalid(field: field, value: LocalDate.text(year, month, day),
                                     expected: "a date that exists, YYYY-MM-DD between 1970-01-01 and 9999-12-31")
        }
        self.year = year
        self.month = month
        self.day = day
    }

    /// `YYYY-MM-DD`, exactly (four, two and two digits).
    public init(parsing text: String, field: String = "date") throws(ModelError) {
        let parts = text.trimmingSpaces.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }),
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]) else {
            throw ModelError.invalid(field: field, value: text, expected: "a date YYYY-MM-DD such as 2026-12-25")
        }
        try self.init(year: year, month: month, day: day, field: field)
    }

    /// Days since 1970-01-01 (negative never happens: years start at 1970).
    public init(dayNumber: Int) {
        // Howard Hinnant's civil_from_days.
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// Days since 1970-01-01 (Hinnant's days_from_civil).
    public var dayNumber: Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// 1970-01-01 was a Thursday.
    public var weekday: Weekday {
        let fromMonday = ((dayNumber % 7) + 7 + 3) % 7
        return Weekday(rawValue: fromMonday + 1) ?? .monday
    }

    public func adding(days: Int) -> LocalDate { LocalDate(dayNumber: dayNumber + days) }

    public var description: String { LocalDate.text(year, month, day) }

    public static func < (lhs: LocalDate, rhs: LocalDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func text(_ year: Int, _ month: Int, _ day: Int) -> String {
        padded(year, 4) + "-" + padded(month, 2) + "-" + padded(day, 2)
    }
}

extension LocalDate: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(parsing: text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A wall-clock moment: the local date and the minute of that day (0-1439). What a schedule is
/// judged at; seconds do not matter to any window.
public struct LocalTime: Sendable, Hashable, CustomStringConvertible {
    public let date: LocalDate
    public let minuteOfDay: Int
    /// Kept, not derived on each read: schedules ask it for every window of every gateway.
    public let weekday: Weekday

    public init(date: LocalDate, minuteOfDay: Int) throws(ModelError) {
        guard (0..<LocalTime.minutesPerDay).contains(minuteOfDay) else {
            throw ModelError.outOfRange(field: "minute of day", value: String(minuteOfDay), range: "0-1439")
        }
        self.init(checkedDate: date, minuteOfDay: minuteOfDay)
    }

    /// Minutes since 1970-01-01 00:00 of the local wall clock (an instant plus its zone's offset).
    public init(localMinutes: Int64) {
        let days = localMinutes >= 0 ? localMinutes / 1440 : (localMinutes - 1439) / 1440
        self.init(checkedDate: LocalDate(dayNumber: Int(days)), minuteOfDay: Int(localMinutes - days * 1440))
    }

    private init(checkedDate date: LocalDate, minuteOfDay: Int) {
        self.date = date
        self.minuteOfDay = minuteOfDay
        weekday = date.weekday
    }

    /// `YYYY-MM-DD HH:MM` (or `YYYY-MM-DDTHH:MM`), the form `schedule check --at` takes.
    public init(parsing text: String, field: String = "time") throws(ModelError) {
        let trimmed = text.trimmingSpaces
        let separator = trimmed.firstIndex(where: { $0 == " " || $0 == "T" })
        guard let separator else {
            throw ModelError.invalid(field: field, value: text, expected: "a local time YYYY-MM-DD HH:MM such as 2026-12-24 18:30")
        }
        let date = try LocalDate(parsing: String(trimmed[..<separator]), field: field)
        let clock = String(trimmed[trimmed.index(after: separator)...]).trimmingSpaces
        let minute = try LocalTime.parseClock(clock, field: field, allowingEndOfDay: false)
        self.init(checkedDate: date, minuteOfDay: minute)
    }

    public var year: Int { date.year }
    public var month: Int { date.month }
    public var day: Int { date.day }
    public var hour: Int { minuteOfDay / 60 }
    public var minute: Int { minuteOfDay % 60 }

    /// Minutes since 1970-01-01 00:00 of this wall clock.
    public var localMinutes: Int64 { Int64(date.dayNumber) * 1440 + Int64(minuteOfDay) }

    public var description: String { "\(date) \(LocalTime.clockText(minuteOfDay))" }

    public static let minutesPerDay = 1440

    /// `HH:MM` to a minute of the day; `24:00` only as the end of a window.
    public static func parseClock(_ text: String, field: String, allowingEndOfDay: Bool) throws(ModelError) -> Int {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        let expected = allowingEndOfDay ? "a time HH:MM from 00:00 to 24:00" : "a time HH:MM from 00:00 to 23:59"
        guard parts.count == 2, (1...2).contains(parts[0].count), parts[1].count == 2,
              parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }),
              let hour = Int(parts[0]), let minute = Int(parts[1]), minute < 60 else {
            throw ModelError.invalid(field: field, value: text, expected: expected)
        }
        let value = hour * 60 + minute
        guard value < minutesPerDay || (allowingEndOfDay && value == minutesPerDay) else {
            throw ModelError.invalid(field: field, value: text, expected: expected)
        }
        return value
    }

    /// `HH:MM`; 1440 is `24:00`.
    public static func clockText(_ minuteOfDay: Int) -> String {
        padded(minuteOfDay / 60, 2) + ":" + padded(minuteOfDay % 60, 2)
    }
}

/// Zero-padded decimal without Foundation's String(format:).
func padded(_ value: Int, _ width: Int) -> String {
    let digits = String(value)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}
