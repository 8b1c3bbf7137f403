import Foundation
import Synchronization
import VOSModel

/// The appliance's wall clock (`SS_TIME_ZONE`; empty = the host's zone): instants (epoch
/// milliseconds) to the `LocalTime` route schedules judge, and the monthly periods packages
/// count in. Foundation's zone data lives here so VOSModel stays pure.
///
/// Thread-safe and shared (`Sendable`): one instance per configuration load serves every thread.
/// `localTime(at:)` is asked per call, so it remembers the answer for the current wall-clock
/// minute behind a `Mutex` and only asks the zone for its offset when the minute changes.
public final class LocalClock: Sendable {
    /// The zone's identifier as Foundation knows it (`Europe/Berlin`, or the host's).
    public let zoneName: String
    private let zone: TimeZone
    private let cache = Mutex(Cached(from: 1, until: 0, time: LocalTime(localMinutes: 0)))

    private struct Cached {
        /// The instants [from, until) (epoch ms) that share one local minute.
        var from: Int64
        var until: Int64
        var time: LocalTime
    }

    /// `parameter` as `SS_TIME_ZONE` holds it: an IANA name, or empty for the host's zone.
    public init(zoneName parameter: String) throws(ModelError) {
        if parameter.trimmingSpaces.isEmpty {
            zone = TimeZone.current
        } else {
            guard TimeZoneName.isWellFormed(parameter), let named = TimeZone(identifier: parameter) else {
                throw ModelError.invalid(field: SystemParameter.timeZone.rawValue, value: parameter,
                                         expected: "an IANA time zone installed under \(TimeZoneName.zoneInfoDirectory), or empty for the host's")
            }
            zone = named
        }
        zoneName = zone.identifier
    }

    /// The clock of the zone a store's `SS_TIME_ZONE` names.
    public convenience init(parameters: ParameterSet) throws(ModelError) {
        try self.init(zoneName: parameters.text(.timeZone))
    }

    /// Seconds east of UTC at `milliseconds`.
    public func offsetSeconds(at milliseconds: Int64) -> Int {
        zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    /// The local date, weekday and minute at an instant.
    public func localTime(at milliseconds: Int64) -> LocalTime {
        if let known = cache.withLock({ $0.from <= milliseconds && milliseconds < $0.until ? $0.time : nil }) { return known }
        let local = milliseconds + Int64(offsetSeconds(at: milliseconds)) * 1000
        let intoMinute = local - Self.floor(local, 60_000) * 60_000
        let time = LocalTime(localMinutes: Self.floor(local, 60_000))
        // Zones change offset on whole minutes, so the rest of this local minute shares it.
        let from = milliseconds - intoMinute
        cache.withLock { $0 = Cached(from: from, until: from + 60_000, time: time) }
        return time
    }

    /// The instant a local wall-clock time names. In an overlap (clocks going back) the earlier
    /// of the two; in a gap (clocks going forward) the time does not exist, and the instant is
    /// the wall time read at the offset before the change (so `localTime(at:)` of it is later
    /// than `time`, and `exists(time)` is false).
    public func instant(of time: LocalTime) -> Int64 {
        let wall = time.localMinutes * 60_000
        // No zone changes its offset twice within a day, so the offsets a day either side are
        // the only candidates.
        let before = wall - Int64(offsetSeconds(at: wall - 86_400_000)) * 1000
        let after = wall - Int64(offsetSeconds(at: wall + 86_400_000)) * 1000
        let showsBefore = localTime(at: before) == time, showsAfter = localTime(at: after) == time
        switch (showsBefore, showsAfter) {
        case (true, true): return min(before, after)
        case (false, true): return after
        default: return before
        }
    }

    /// Whether `time` exists in this zone (not in a clocks-forward gap).
    public func exists(_ time: LocalTime) -> Bool { localTime(at: instant(of: time)) == time }

    /// `YYYY-MM` of the local month an instant falls in: the period package usage, rent and
    /// minimum consumption are counted in.
    public func period(of milliseconds: Int64) -> String {
        let date = localTime(at: milliseconds).date
        return Self.period(year: date.year, month: date.month)
    }

    public static func period(year: Int, month: Int) -> String {
        let text = String(year), monthText = String(month)
        return String(repeating: "0", count: max(0, 4 - text.count)) + text + "-" + (month < 10 ? "0" : "") + monthText
    }

    /// The instant local midnight of the first of `month` begins: the first instant of the
    /// period (where clocks jump forward at midnight, the instant of the jump). Month 13 or 0
    /// roll over into the next or previous year.
    public func monthStart(year: Int, month: Int) -> Int64 {
        let months = year * 12 + (month - 1)
        let normalizedYear = months >= 0 ? months / 12 : (months - 11) / 12
        let normalizedMonth = months - normalizedYear * 12 + 1
        guard let first = try? LocalDate(year: normalizedYear, month: normalizedMonth, day: 1),
              let midnight = try? LocalTime(date: first, minuteOfDay: 0) else { return 0 }
        return instant(of: midnight)
    }

    /// The instants [start, end) of the local month `milliseconds` falls in.
    public func monthBounds(of milliseconds: Int64) -> (start: Int64, end: Int64) {
        let date = localTime(at: milliseconds).date
        return (monthStart(year: date.year, month: date.month), monthStart(year: date.year, month: date.month + 1))
    }

    private static func floor(_ value: Int64, _ divisor: Int64) -> Int64 {
        value >= 0 ? value / divisor : (value - divisor + 1) / divisor
    }
}
