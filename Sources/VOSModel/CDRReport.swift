/// What one CDR contributes to a traffic report (requirements §10): the fields every report
/// column is computed from and nothing else, so a million of them fit in memory and read fast.
/// VOSStore keeps one per CDR in a compact binary index ordered by setup time
/// (`CDRReportIndex`); this type and `CDRReportAccumulator` are the pure arithmetic and do no I/O.
public struct CDRReportFact: Sendable, Hashable {
    public var id: UInt64
    /// Unix epoch milliseconds, as in the CDR.
    public var setupTime: Int64
    /// INVITE to the first 180/183 (or to the answer when the vendor sent none); nil when the
    /// call neither rang nor was answered.
    public var postDialDelayMilliseconds: Int?
    public var answered: Bool
    /// Connected seconds (answer to end), as in the CDR.
    public var durationSeconds: Int
    /// Seconds the customer was charged for, as in the CDR.
    public var billedSeconds: Int
    /// The SIP code the caller saw.
    public var sipCode: Int
    public var endReason: EndReason
    public var mappingGateway: String
    /// The vendor gateway that connected the call, else the last one tried; nil when none was.
    public var routingGateway: String?
    public var account: String?
    public var customerCost: Money
    public var vendorCost: Money

    public init(id: UInt64, setupTime: Int64, postDialDelayMilliseconds: Int?, answered: Bool, durationSeconds: Int,
                billedSeconds: Int, sipCode: Int, endReason: EndReason, mappingGateway: String, routingGateway: String?,
                account: String?, customerCost: Money, vendorCost: Money) {
        self.id = id
        self.setupTime = setupTime
        self.postDialDelayMilliseconds = postDialDelayMilliseconds
        self.answered = answered
        self.durationSeconds = durationSeconds
        self.billedSeconds = billedSeconds
        self.sipCode = sipCode
        self.endReason = endReason
        self.mappingGateway = mappingGateway
        self.routingGateway = routingGateway
        self.account = account
        self.customerCost = customerCost
        self.vendorCost = vendorCost
    }

    /// The fact of a stored CDR. Records written before the PDD field existed get it from their
    /// ringing time, which the B2BUA has always set the same way.
    public init(_ record: CallDetailRecord) {
        self.init(id: record.id, setupTime: record.setupTime,
                  postDialDelayMilliseconds: record.postDialDelayMilliseconds
                      ?? CallDetailRecord.postDialDelay(setupTime: record.setupTime, ringingTime: record.ringingTime),
                  answered: record.answerTime != nil, durationSeconds: record.durationSeconds,
                  billedSeconds: record.billedSeconds, sipCode: record.sipCode, endReason: record.endReason,
                  mappingGateway: record.mappingGateway, routingGateway: record.routingGateway, account: record.account,
                  customerCost: record.customerCost, vendorCost: record.vendorCost)
    }

    /// Whether the network delivered the call to the called user, ITU-T E.425 style: answered,
    /// user busy (486, 600), no answer (480; vos's own ringing timeout; the caller giving up
    /// while it rang) or rejected by the user (603). Everything else (no route, vendor errors,
    /// timeouts before ringing, vos's own refusals, the caller hanging up before it rang) is a
    /// network failure. NER = effective calls / attempts.
    public var isNetworkEffective: Bool {
        if answered { return true }
        switch sipCode {
        case 480, 486, 600, 603: return true
        default: break
        }
        switch endReason {
        case .ringingTimeout: return true
        case .callerCancel: return postDialDelayMilliseconds != nil
        default: return false
        }
    }
}

extension CallDetailRecord {
    /// Post-dial delay from the setup and first-ringing wall-clock times; never negative (a
    /// wall-clock step between the two must not produce a negative delay).
    public static func postDialDelay(setupTime: Int64, ringingTime: Int64?) -> Int? {
        guard let ringingTime else { return nil }
        return Int(max(0, ringingTime - setupTime))
    }
}

/// What rows a report has: one per value of this field, or a single total row when nil.
public enum CDRReportGrouping: String, Sendable, CaseIterable, Codable {
    /// The routing (vendor) gateway that connected the call, else the last one tried.
    case gateway
    /// The mapping (customer) gateway the call came in through.
    case mapping
    case account
    /// The end reason (`EndReason` names).
    case reason
    /// The UTC hour of the setup time.
    case hour
    /// The UTC day of the setup time.
    case day

    /// The column heading of the group key.
    public var heading: String {
        switch self {
        case .gateway: "GATEWAY"
        case .mapping: "MAPPING"
        case .account: "ACCOUNT"
        case .reason: "REASON"
        case .hour: "HOUR (UTC)"
        case .day: "DAY (UTC)"
        }
    }

    public var isTime: Bool { self == .hour || self == .day }
}

/// A SIP code and how many unanswered calls the caller saw it on.
public struct CDRFailureCount: Sendable, Hashable, Codable {
    public var code: Int
    public var count: Int

    public init(code: Int, count: Int) {
        self.code = code
        self.count = count
    }
}

/// One report row. Ratios are fractions (0...1); nil where their denominator is zero.
public struct CDRReportRow: Sendable, Hashable, Codable {
    /// The group's value: a name, an end reason, `2026-11-30T13:00Z` (hour) or `2026-11-30`
    /// (day); "-" for CDRs without one (no vendor tried, no account); "total" for the total row.
    public var key: String
    public var attempts: Int
    public var answered: Int
    /// Calls counted as effective for NER (`CDRReportFact.isNetworkEffective`).
    public var effective: Int
    /// answered / attempts.
    public var asr: Double?
    /// effective / attempts.
    public var ner: Double?
    /// Connected seconds / answered calls.
    public var acdSeconds: Double?
    /// Nearest-rank percentiles (exact) over the calls that have a PDD.
    public var pddP50Milliseconds: Int?
    public var pddP95Milliseconds: Int?
    /// How many calls had a PDD (rang or were answered).
    public var pddCalls: Int
    public var connectedSeconds: Int
    public var billedSeconds: Int
    /// Customer charges.
    public var revenue: Money
    /// Vendor charges.
    public var cost: Money
    /// revenue - cost.
    public var margin: Money
    /// The most frequent SIP codes of unanswered calls, most frequent first (ties: lower code first).
    public var topFailureCodes: [CDRFailureCount]

    /// Billed minutes (billed seconds / 60), for display.
    public var billedMinutes: Double { Double(billedSeconds) / 60 }
}

/// A finished report: rows in display order and their total.
public struct CDRReport: Sendable, Hashable, Codable {
    public var grouping: CDRReportGrouping?
    public var rows: [CDRReportRow]
    public var total: CDRReportRow
}

/// Folds facts into a report, one pass, in any order. PDD percentiles are exact: each group keeps
/// its delays (4 bytes a call) and sorts them once at the end, which for a million calls is a few
/// megabytes and milliseconds, so no histogram approximation is needed.
public struct CDRReportAccumulator: Sendable {
    public let grouping: CDRReportGrouping?
    /// How many failure codes each row lists.
    public let topFailureCodes: Int
    private var groups: [GroupKey: Tally] = [:]
    private var total = Tally()

    public init(grouping: CDRReportGrouping?, topFailureCodes: Int = 3) {
        self.grouping = grouping
        self.topFailureCodes = max(0, topFailureCodes)
    }

    static let hourMilliseconds: Int64 = 3_600_000
    static let dayMilliseconds: Int64 = 86_400_000

    private enum GroupKey: Hashable {
        case name(String)
        case time(Int64)
    }

    private struct Tally: Sendable {
        var attempts = 0
        var answered = 0
        var effective = 0
        var connectedSeconds = 0
        var billedSeconds = 0
        var revenueUnits: Int64 = 0
        var costUnits: Int64 = 0
        var delays: [Int32] = []
        var failures: [Int: Int] = [:]

        mutating func add(_ fact: CDRReportFact) {
            attempts += 1
            if fact.answered {
                answered += 1
                connectedSeconds += fact.durationSeconds
            } else {
                failures[fact.sipCode, default: 0] += 1
            }
            if fact.isNetworkEffective { effective += 1 }
            billedSeconds += fact.billedSeconds
            revenueUnits += fact.customerCost.units
            costUnits += fact.vendorCost.units
            if let delay = fact.postDialDelayMilliseconds { delays.append(Int32(clamping: delay)) }
        }
    }

    public mutating func add(_ fact: CDRReportFact) {
        total.add(fact)
        guard let grouping else { return }
        let key: GroupKey
        switch grouping {
        case .gateway: key = .name(fact.routingGateway ?? "-")
        case .mapping: key = .name(fact.mappingGateway)
        case .account: key = .name(fact.account ?? "-")
        case .reason: key = .name(fact.endReason.rawValue)
        case .hour: key = .time(CDRReportAccumulator.floor(fact.setupTime, to: CDRReportAccumulator.hourMilliseconds))
        case .day: key = .time(CDRReportAccumulator.floor(fact.setupTime, to: CDRReportAccumulator.dayMilliseconds))
        }
        groups[key, default: Tally()].add(fact)
    }

    public func report() -> CDRReport {
        let rows = groups.map { key, tally -> (GroupKey, CDRReportRow) in (key, row(label(key), tally)) }
            .sorted { left, right in
                switch (left.0, right.0) {
                case let (.time(a), .time(b)): return a < b
                default:
                    if left.1.attempts != right.1.attempts { return left.1.attempts > right.1.attempts }
                    return left.1.key < right.1.key
                }
            }
            .map(\.1)
        return CDRReport(grouping: grouping, rows: rows, total: row("total", total))
    }

    private func label(_ key: GroupKey) -> String {
        switch key {
        case .name(let name): return name
        case .time(let start):
            return grouping == .hour ? CDRReportAccumulator.hourLabel(start) : CDRReportAccumulator.dayLabel(start)
        }
    }

    private func row(_ key: String, _ tally: Tally) -> CDRReportRow {
        let delays = tally.delays.sorted()
        let failures = tally.failures.map { CDRFailureCount(code: $0.key, count: $0.value) }
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0.code < $1.code }
        return CDRReportRow(
            key: key, attempts: tally.attempts, answered: tally.answered, effective: tally.effective,
            asr: CDRReportAccumulator.ratio(tally.answered, tally.attempts),
            ner: CDRReportAccumulator.ratio(tally.effective, tally.attempts),
            acdSeconds: CDRReportAccumulator.ratio(tally.connectedSeconds, tally.answered),
            pddP50Milliseconds: CDRReportAccumulator.percentile(50, of: delays).map { Int($0) },
            pddP95Milliseconds: CDRReportAccumulator.percentile(95, of: delays).map { Int($0) },
            pddCalls: delays.count, connectedSeconds: tally.connectedSeconds, billedSeconds: tally.billedSeconds,
            revenue: Money(units: tally.revenueUnits), cost: Money(units: tally.costUnits),
            margin: Money(units: tally.revenueUnits - tally.costUnits),
            topFailureCodes: Array(failures.prefix(topFailureCodes)))
    }

    static func ratio(_ numerator: Int, _ denominator: Int) -> Double? {
        denominator == 0 ? nil : Double(numerator) / Double(denominator)
    }

    /// Nearest-rank percentile of sorted values: the smallest value with at least `percent` % of
    /// the values at or below it. Always one of the values, never interpolated.
    public static func percentile<Value>(_ percent: Int, of sorted: [Value]) -> Value? {
        guard !sorted.isEmpty else { return nil }
        let rank = (percent * sorted.count + 99) / 100
        return sorted[min(sorted.count - 1, max(0, rank - 1))]
    }

    static func floor(_ value: Int64, to step: Int64) -> Int64 {
        let remainder = value % step
        return remainder < 0 ? value - remainder - step : value - remainder
    }

    /// `2026-11-30T13:00Z`.
    static func hourLabel(_ start: Int64) -> String {
        let hour = (start - floor(start, to: dayMilliseconds)) / hourMilliseconds
        return dayLabel(start) + "T" + twoDigits(Int(hour)) + ":00Z"
    }

    /// `2026-11-30` (proleptic Gregorian, UTC).
    static func dayLabel(_ start: Int64) -> String {
        let days = floor(start, to: dayMilliseconds) / dayMilliseconds
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        let yearText = String(year)
        return String(repeating: "0", count: max(0, 4 - yearText.count)) + yearText + "-" + twoDigits(month) + "-" + twoDigits(day)
    }

    private static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// Days since 1970-01-01 to a calendar date (H. Hinnant's civil_from_days), so VOSModel
    /// needs no calendar library.
    static func civilDate(daysSinceEpoch: Int64) -> (year: Int, month: Int, day: Int) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }
}
