/// Bilateral reconciliation (`vosctl reconcile`, docs/BILLING.md): a vendor's CDR export against
/// the calls vos routed to that vendor. Pure: the command reads both sides, this pairs them and
/// says where they disagree.
///
/// A pair is the same callee (the number vos sent), the same caller when the vendor's file names
/// one, and the vendor's start within the time tolerance of vos's answer time. Each row pairs at
/// most once: every admissible pair is ranked by time gap (then duration gap) and taken greedily,
/// nearest first, so two calls to one number a minute apart each find their own row.
public enum Reconciliation {
    /// One answered call on vos's side, as the vendor should have billed it.
    public struct Call: Sendable, Hashable, Codable {
        public var cdrID: UInt64
        public var callID: String
        /// Epoch milliseconds.
        public var answerTime: Int64
        /// The numbers as sent to the vendor.
        public var caller: String
        public var callee: String
        public var durationSeconds: Int
        /// The vendor cost vos charged itself (adjustments included).
        public var cost: Money

        public init(cdrID: UInt64, callID: String, answerTime: Int64, caller: String, callee: String,
                    durationSeconds: Int, cost: Money) {
            self.cdrID = cdrID
            self.callID = callID
            self.answerTime = answerTime
            self.caller = caller
            self.callee = callee
            self.durationSeconds = durationSeconds
            self.cost = cost
        }

        /// Nil for an unanswered call: the vendor bills none.
        public init?(_ record: CallDetailRecord) {
            guard let answer = record.answerTime else { return nil }
            self.init(cdrID: record.id, callID: record.callID, answerTime: answer, caller: record.callerSent,
                      callee: record.calleeSent, durationSeconds: record.durationSeconds, cost: record.vendorCost)
        }
    }

    public struct Tolerance: Sendable, Hashable, Codable {
        /// Largest gap, in seconds, between the vendor's start and vos's answer time of one call.
        public var timeSeconds: Int
        /// Largest duration difference, in seconds, that is not reported.
        public var durationSeconds: Int
        /// Largest cost difference that is not reported.
        public var cost: Money

        public init(timeSeconds: Int = 5, durationSeconds: Int = 1, cost: Money = .zero) {
            self.timeSeconds = timeSeconds
            self.durationSeconds = durationSeconds
            self.cost = cost
        }
    }

    public enum Difference: String, Sendable, Hashable, Codable { case duration, cost }

    /// A vos call and the vendor's row for it. Differences are the vendor's value less vos's.
    public struct Pair: Sendable, Hashable, Codable {
        public var ours: Call
        public var theirs: VendorCDR
        /// Vendor start - vos answer, milliseconds.
        public var startOffsetMilliseconds: Int64
        public var durationDifference: Int
        public var costDifference: Money
        /// What is beyond tolerance; empty for a clean match.
        public var differences: [Difference]
    }

    public struct Side: Sendable, Hashable, Codable {
        public var calls = 0
        public var seconds = 0
        public var cost = Money.zero

        mutating func add(seconds: Int, cost: Money) {
            calls += 1
            self.seconds += seconds
            self.cost += cost
        }
    }

    public struct Totals: Sendable, Hashable, Codable {
        public var ours = Side()
        public var theirs = Side()
        /// What the vendor bills beyond what vos booked (negative: less).
        public var costDifference: Money { theirs.cost - ours.cost }

        enum CodingKeys: String, CodingKey { case ours, theirs, costDifference }

        public init() {}

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            ours = try container.decode(Side.self, forKey: .ours)
            theirs = try container.decode(Side.self, forKey: .theirs)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(ours, forKey: .ours)
            try container.encode(theirs, forKey: .theirs)
            try container.encode(costDifference, forKey: .costDifference)
        }
    }

    public struct Report: Sendable, Hashable, Codable {
        public var tolerance: Tolerance
        /// Pairs that agree within tolerance.
        public var matched: [Pair] = []
        /// Pairs whose duration or cost differ beyond tolerance, in vos's answer-time order.
        public var differing: [Pair] = []
        /// Vendor rows no vos call pairs with: calls the vendor bills that vos has no record of.
        public var missingOnOurSide: [VendorCDR] = []
        /// vos calls no vendor row pairs with: calls the vendor's file leaves out.
        public var missingOnTheirSide: [Call] = []
        public var totals = Totals()

        /// Nothing to report: every row paired, every pair within tolerance.
        public var agrees: Bool { differing.isEmpty && missingOnOurSide.isEmpty && missingOnTheirSide.isEmpty }
    }

    /// A leading `+` is not part of the number for matching: one side may write E.164 with it.
    static func matchable(_ number: String) -> Substring {
        number.hasPrefix("+") ? number.dropFirst() : number[...]
    }

    public static func match(ours: [Call], theirs: [VendorCDR], tolerance: Tolerance = Tolerance()) -> Report {
        var report = Report(tolerance: tolerance)
        for call in ours { report.totals.ours.add(seconds: call.durationSeconds, cost: call.cost) }
        for row in theirs { report.totals.theirs.add(seconds: row.durationSeconds, cost: row.cost) }

        // vos's calls by callee, in answer-time order, so each vendor row looks at a time window only.
        var byCallee: [Substring: [Int]] = [:]
        for (index, call) in ours.enumerated() { byCallee[matchable(call.callee), default: []].append(index) }
        for key in byCallee.keys { byCallee[key]?.sort { ours[$0].answerTime < ours[$1].answerTime } }

        struct Candidate {
            var gap: Int64
            var durationGap: Int
            var their: Int
            var our: Int
        }
        let window = Int64(max(0, tolerance.timeSeconds)) * 1000
        var candidates: [Candidate] = []
        for (theirIndex, row) in theirs.enumerated() {
            guard let indices = byCallee[matchable(row.callee)] else { continue }
            // First call answered at or after row.start - window (binary search), then forward.
            var low = 0
            var high = indices.count
            while low < high {
                let middle = (low + high) / 2
                if ours[indices[middle]].answerTime < row.startTime - window { low = middle + 1 } else { high = middle }
            }
            let caller = matchable(row.caller)
            for position in low..<indices.count {
                let call = ours[indices[position]]
                if call.answerTime > row.startTime + window { break }
                if !caller.isEmpty && matchable(call.caller) != caller { continue }
                candidates.append(Candidate(gap: abs(row.startTime - call.answerTime),
                                            durationGap: abs(row.durationSeconds - call.durationSeconds),
                                            their: theirIndex, our: indices[position]))
            }
        }
        candidates.sort {
            ($0.gap, $0.durationGap, theirs[$0.their].line, ours[$0.our].cdrID)
                < ($1.gap, $1.durationGap, theirs[$1.their].line, ours[$1.our].cdrID)
        }

        var theirTaken = [Bool](repeating: false, count: theirs.count)
        var ourTaken = [Bool](repeating: false, count: ours.count)
        for candidate in candidates where !theirTaken[candidate.their] && !ourTaken[candidate.our] {
            theirTaken[candidate.their] = true
            ourTaken[candidate.our] = true
            let call = ours[candidate.our]
            let row = theirs[candidate.their]
            var pair = Pair(ours: call, theirs: row, startOffsetMilliseconds: row.startTime - call.answerTime,
                            durationDifference: row.durationSeconds - call.durationSeconds,
                            costDifference: row.cost - call.cost, differences: [])
            if abs(pair.durationDifference) > tolerance.durationSeconds { pair.differences.append(.duration) }
            if Money(units: abs(pair.costDifference.units)) > tolerance.cost { pair.differences.append(.cost) }
            if pair.differences.isEmpty { report.matched.append(pair) } else { report.differing.append(pair) }
        }
        let byAnswer: (Pair, Pair) -> Bool = { ($0.ours.answerTime, $0.ours.cdrID) < ($1.ours.answerTime, $1.ours.cdrID) }
        report.matched.sort(by: byAnswer)
        report.differing.sort(by: byAnswer)
        report.missingOnOurSide = theirs.indices.filter { !theirTaken[$0] }.map { theirs[$0] }
            .sorted { ($0.startTime, $0.line) < ($1.startTime, $1.line) }
        report.missingOnTheirSide = ours.indices.filter { !ourTaken[$0] }.map { ours[$0] }
            .sorted { ($0.answerTime, $0.cdrID) < ($1.answerTime, $1.cdrID) }
        return report
    }
}
