/// A work calendar (issue 16, time-based routing): named holidays as ranges of local dates, which
/// route schedules consult (`RouteSchedule.Holidays`). Values, validation and the lookup only;
/// storage is VOSStore's and "today" comes from `LocalClock`.
public struct WorkCalendar: Sendable, Hashable, Codable {
    /// Days off from `first` to `last`, both included.
    public struct Holiday: Sendable, Hashable, Codable, CustomStringConvertible {
        public var first: LocalDate
        public var last: LocalDate
        /// What the operator calls it ("Christmas"); nil when none was given.
        public var label: String?

        public init(first: LocalDate, last: LocalDate, label: String? = nil) {
            self.first = first
            self.last = last
            self.label = label
        }

        public func contains(_ date: LocalDate) -> Bool { first <= date && date <= last }

        public func overlaps(_ other: Holiday) -> Bool { first <= other.last && other.first <= last }

        /// `2026-12-24..2026-12-26 (Christmas)`, or one date for a one-day holiday.
        public var description: String {
            (first == last ? "\(first)" : "\(first)..\(last)") + (label.map { " (\($0))" } ?? "")
        }

        public func validate(calendar: String) throws(ModelError) {
            guard first <= last else {
                throw ModelError.inconsistent("calendar '\(calendar)' holiday \(first)..\(last): the first day is after the last")
            }
            if let label {
                guard !label.isEmpty, label.count <= WorkCalendar.maximumLabelLength,
                      label.allSatisfy({ !$0.isNewline && $0.asciiValue.map { $0 >= 0x20 && $0 != 0x7f } ?? true }) else {
                    throw ModelError.invalid(field: "calendar '\(calendar)' holiday \(first) label", value: label,
                                             expected: "1-\(WorkCalendar.maximumLabelLength) characters on one line, no control characters")
                }
            }
        }
    }

    public var name: String
    /// Sorted by first day and never overlapping (`validate` refuses otherwise), so a lookup is a
    /// binary search.
    public private(set) var holidays: [Holiday]

    public init(name: String, holidays: [Holiday] = []) {
        self.name = name
        self.holidays = holidays.sorted { $0.first < $1.first }
    }

    public static let maximumLabelLength = 64
    /// Enough for decades of public holidays; a bound so a mistake cannot grow the record unboundedly.
    public static let maximumHolidays = 2000

    public func validate() throws(ModelError) {
        try GatewayName.validate(name, field: "calendar name")
        guard holidays.count <= Self.maximumHolidays else {
            throw ModelError.outOfRange(field: "calendar '\(name)' holidays", value: String(holidays.count), range: "0-\(Self.maximumHolidays)")
        }
        for holiday in holidays { try holiday.validate(calendar: name) }
        for (earlier, later) in zip(holidays, holidays.dropFirst()) {
            guard earlier.first < later.first else {
                throw ModelError.inconsistent("calendar '\(name)' holidays are not in date order: \(earlier) before \(later)")
            }
            if earlier.overlaps(later) { throw Self.overlap(later, earlier, calendar: name) }
        }
    }

    /// Adds a range; refuses one that is malformed or overlaps a range already in the calendar
    /// (both named), leaving the calendar as it was.
    public mutating func addHoliday(_ holiday: Holiday) throws(ModelError) {
        try holiday.validate(calendar: name)
        if let clash = holidays.first(where: { $0.overlaps(holiday) }) { throw Self.overlap(holiday, clash, calendar: name) }
        let index = holidays.firstIndex { holiday.first < $0.first } ?? holidays.endIndex
        holidays.insert(holiday, at: index)
        guard holidays.count <= Self.maximumHolidays else {
            holidays.remove(at: index)
            throw ModelError.outOfRange(field: "calendar '\(name)' holidays", value: String(holidays.count + 1), range: "0-\(Self.maximumHolidays)")
        }
    }

    /// Removes the range starting on `first`; nil when none does.
    @discardableResult
    public mutating func removeHoliday(startingOn first: LocalDate) -> Holiday? {
        guard let index = holidays.firstIndex(where: { $0.first == first }) else { return nil }
        return holidays.remove(at: index)
    }

    /// The holiday `date` falls in, if any: a binary search, since this is asked per call.
    public func holiday(on date: LocalDate) -> Holiday? {
        var low = 0, high = holidays.count
        // The last range whose first day is on or before `date`.
        while low < high {
            let middle = (low + high) / 2
            if holidays[middle].first <= date { low = middle + 1 } else { high = middle }
        }
        guard low > 0, holidays[low - 1].last >= date else { return nil }
        return holidays[low - 1]
    }

    public func isHoliday(_ date: LocalDate) -> Bool { holiday(on: date) != nil }

    private static func overlap(_ new: Holiday, _ existing: Holiday, calendar: String) -> ModelError {
        .inconsistent("calendar '\(calendar)' holiday \(new) overlaps holiday \(existing): remove one or change its days")
    }

    private enum CodingKeys: String, CodingKey { case name, holidays }

    /// Sorts what it reads, so a lookup's binary search holds even for a hand-edited record.
    public init(from decoder: any Decoder) throws {
        let stored = try decoder.container(keyedBy: CodingKeys.self)
        self.init(name: try stored.decode(String.self, forKey: .name),
                  holidays: try stored.decodeIfPresent([Holiday].self, forKey: .holidays) ?? [])
    }
}
