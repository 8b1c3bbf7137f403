import VOSModel

/// `vosctl route explain NUMBER --from MAPPING_GATEWAY [--at TIME] [--json]`: every routing
/// gateway whose prefix matches the callee, in the order a call would try them, and why each is
/// tried, skipped or left out. Computed by the planner (`RoutePlanner.plan`, `explaining`) and
/// a walk of the call's own `FailoverPlan` in which every attempt is taken as failed, so the
/// order and the reasons are the controller's, not a second implementation of them.
/// Encoded (`--json`) as a list of entries in that order, each with its `name`.
public struct RouteExplanation: Sendable, Equatable, Codable {
    public struct Entry: Sendable, Equatable, Codable {
        public var name: String
        /// 1-based place in the try order; nil when the call would not try the gateway.
        public var position: Int?
        /// A candidate of the plan (tried, or skipped at try time); false: left out when planning.
        public var included: Bool
        /// Why the gateway would not be tried (`SkipReason` or `RouteExclusion.Reason` text);
        /// nil when it would.
        public var reason: String?
        public var matchedPrefix: String
        /// The callee this vendor would be sent (after its dial plan); nil when not computed.
        public var calleeOut: String?
        public var priority: Int
        public var pricePerMinute: Money?
        /// The gateway's windowed quality; nil when quality is not calculated.
        public var quality: GatewayScore?
        public var activeCalls: Int
        /// 0 = unlimited.
        public var lineLimit: Int
        public var protectRoute: Bool
        /// The sort mode of the call, and what chose it: `SS_ROUTING_SORT` or `rule PREFIX`.
        public var sort: RoutingSort
        public var sortSource: String
    }

    public var callee: String
    public var sort: RoutingSort
    /// The route sort rule's prefix that chose `sort`; nil: `SS_ROUTING_SORT`.
    public var sortRule: String?
    public var entries: [Entry]
    /// What the caller would get when no gateway would be tried; nil when one would.
    public var refusal: EndReason?
    public var refusalCode: Int?

    /// Explains a call to `callee` (after the mapping gateway's dial plans) from `caller`, with
    /// the same inputs the controller plans with; `status`, `quality` and `isScheduled` answer
    /// for the moment explained (`--at`).
    public static func explain(callee: String, caller: String? = nil, index: RouteIndex, options: RouteOptions,
                               screening: NumberScreening = .none, switchLimit: Int,
                               status: (String) -> GatewayStatus, quality: (String) -> GatewayScore?,
                               isScheduled: (RoutingGateway) -> Bool) -> RouteExplanation {
        let route = RoutePlanner.plan(for: callee, caller: caller, index: index, options: options, screening: screening,
                                      explaining: true, status: status, quality: quality, isScheduled: isScheduled)
        var plan = FailoverPlan(route: route, switchLimit: switchLimit)
        var positions: [String: Int] = [:]
        var tried = 0
        var refusal: (reason: EndReason, code: Int)?
        walk: while true {
            switch plan.next(status: status) {
            case let .tryGateway(candidate):
                tried += 1
                positions[candidate.gateway.name] = positions[candidate.gateway.name] ?? tried
                plan.assumeFailed(candidate)
            case let .fail(reason, code):
                if tried == 0 { refusal = (reason, code) }
                break walk
            }
        }
        var skipped: [String: SkipReason] = [:]
        for (gateway, reason) in plan.skipped where skipped[gateway] == nil { skipped[gateway] = reason }
        let sortSource = route.sortRule.map { "rule \($0)" } ?? SystemParameter.routingSort.rawValue

        var entries: [Entry] = []
        for candidate in plan.order {
            let gateway = candidate.gateway
            let position = positions[gateway.name]
            entries.append(Entry(name: gateway.name, position: position, included: true,
                                 reason: position == nil ? skipped[gateway.name]?.rawValue ?? "not reached" : nil,
                                 matchedPrefix: candidate.matchedPrefix, calleeOut: candidate.calleeOut, priority: gateway.priority,
                                 pricePerMinute: candidate.price, quality: candidate.quality,
                                 activeCalls: status(gateway.name).activeCalls, lineLimit: gateway.lineLimit,
                                 protectRoute: gateway.protectRoute, sort: route.sort, sortSource: sortSource))
        }
        for exclusion in route.excluded {
            let gateway = index.gateways[exclusion.position]
            entries.append(Entry(name: exclusion.gateway, position: nil, included: false, reason: exclusion.reason.rawValue,
                                 matchedPrefix: exclusion.matchedPrefix, calleeOut: nil, priority: gateway.priority,
                                 pricePerMinute: exclusion.price, quality: exclusion.quality,
                                 activeCalls: status(gateway.name).activeCalls, lineLimit: gateway.lineLimit,
                                 protectRoute: gateway.protectRoute, sort: route.sort, sortSource: sortSource))
        }
        return RouteExplanation(callee: callee, sort: route.sort, sortRule: route.sortRule, entries: entries,
                                refusal: refusal?.reason, refusalCode: refusal?.code)
    }

    public init(callee: String, sort: RoutingSort, sortRule: String?, entries: [Entry], refusal: EndReason? = nil,
                refusalCode: Int? = nil) {
        self.callee = callee
        self.sort = sort
        self.sortRule = sortRule
        self.entries = entries
        self.refusal = refusal
        self.refusalCode = refusalCode
    }

    /// The gateways the call would try, in order.
    public var tryOrder: [String] { entries.filter { $0.position != nil }.map(\.name) }

    // MARK: Codable: the list of entries

    public func encode(to encoder: any Encoder) throws {
        var list = encoder.unkeyedContainer()
        for entry in entries { try list.encode(entry) }
    }

    /// The callee and refusal are not in the list: they decode empty.
    public init(from decoder: any Decoder) throws {
        var list = try decoder.unkeyedContainer()
        var entries: [Entry] = []
        while !list.isAtEnd { entries.append(try list.decode(Entry.self)) }
        let first = entries.first
        let rule = first.flatMap { $0.sortSource.hasPrefix("rule ") ? String($0.sortSource.dropFirst(5)) : nil }
        self.init(callee: "", sort: first?.sort ?? .priority, sortRule: rule, entries: entries)
    }

    // MARK: Text

    /// A plain-text table: one line per gateway in try order, then the refusal if any.
    public func table() -> String {
        let header = ["#", "gateway", "prefix", "priority", "price/min", "ASR", "attempts", "ACD", "calls", "verdict"]
        var rows: [[String]] = [header]
        for entry in entries {
            let quality = entry.quality
            rows.append([
                entry.position.map(String.init) ?? "-",
                entry.name + (entry.protectRoute ? " (protect)" : ""),
                entry.matchedPrefix,
                String(entry.priority),
                entry.pricePerMinute?.description ?? "-",
                quality.map { $0.attempts > 0 ? Self.percent($0.asr) + ($0.counts ? "" : "*") : "-" } ?? "-",
                quality.map { String($0.attempts) } ?? "-",
                quality?.acd.map { "\(Int($0.rounded())) s" } ?? "-",
                "\(entry.activeCalls)/" + (entry.lineLimit > 0 ? String(entry.lineLimit) : "-"),
                entry.position != nil ? "try" : (entry.included ? "skip: " : "out: ") + (entry.reason ?? "?"),
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        var lines = ["\(callee.isEmpty ? "route" : callee): sort \(sort.rawValue) ("
                     + (sortRule.map { "route sort rule \($0)" } ?? SystemParameter.routingSort.rawValue) + ")"]
        for row in rows {
            var line = ""
            for (column, cell) in row.enumerated() {
                line += column == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count + 2)
            }
            lines.append(line)
        }
        if entries.isEmpty { lines.append("no routing gateway has a prefix of the number") }
        if entries.contains(where: { $0.quality.map { !$0.counts && $0.attempts > 0 } ?? false }) {
            lines.append("* fewer attempts than SS_GATEWAY_QUALITY_MIN_CALLS: the score does not count yet")
        }
        if let refusal {
            lines.append("no gateway would be tried: \(refusal.rawValue)" + (refusalCode.map { " (SIP \($0))" } ?? ""))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func percent(_ ratio: Double) -> String {
        let tenths = Int((ratio * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10) %"
    }
}
