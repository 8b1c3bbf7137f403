import VOSModel

/// What the controller knows about a routing gateway at the moment a call is routed.
public struct GatewayStatus: Sendable, Equatable {
    public var activeCalls: Int
    public var online: Bool
    /// False when the gateway's own CPS limit has no token now.
    public var withinCPS: Bool
    /// False when `SERVER_VERIFY_CLEARING_CUSTOMER` is on and the vendor account is under the limit.
    public var vendorCreditOK: Bool
    /// False when the gateway's group (`RoutingGateway.group`) has no line this call may take:
    /// the group's shared limit is reached, or only lines reserved for other customers are left.
    public var groupLineAvailable: Bool

    public init(activeCalls: Int = 0, online: Bool = true, withinCPS: Bool = true, vendorCreditOK: Bool = true,
                groupLineAvailable: Bool = true) {
        self.activeCalls = activeCalls
        self.online = online
        self.withinCPS = withinCPS
        self.vendorCreditOK = vendorCreditOK
        self.groupLineAvailable = groupLineAvailable
    }
}

/// A routing gateway that matches the callee, with the prefix it matched on and the numbers its
/// dial plans make for this call.
public struct RouteCandidate: Sendable, Equatable {
    /// The gateway, shared with the `RouteIndex` it came from (a reference, not a copy per call).
    @usableFromInline let reference: GatewayReference
    @inlinable public var gateway: RoutingGateway { reference.gateway }
    public let matchedPrefix: String
    /// The callee sent to this vendor: the routed number after the gateway's callee dial plan.
    public let calleeOut: String
    /// The caller sent to this vendor (before a caller number pool replaces it): the caller after
    /// the gateway's caller dial plan; nil when the planner was not given the caller.
    public let callerOut: String?
    /// The vendor's price per minute for `calleeOut` (its clearing account's rate table); nil
    /// when unknown or when neither the sort mode nor margin protection needed it.
    public let price: Money?
    /// The gateway's windowed quality, when the sort mode, the ASR floor or an explanation asked.
    public let quality: GatewayScore?

    public init(gateway: RoutingGateway, matchedPrefix: String, calleeOut: String, callerOut: String? = nil,
                price: Money? = nil, quality: GatewayScore? = nil) {
        self.init(reference: GatewayReference(gateway), matchedPrefix: matchedPrefix, calleeOut: calleeOut, callerOut: callerOut,
                  price: price, quality: quality)
    }

    init(reference: GatewayReference, matchedPrefix: String, calleeOut: String, callerOut: String?, price: Money?,
         quality: GatewayScore?) {
        self.reference = reference
        self.matchedPrefix = matchedPrefix
        self.calleeOut = calleeOut
        self.callerOut = callerOut
        self.price = price
        self.quality = quality
    }

    public static func == (lhs: RouteCandidate, rhs: RouteCandidate) -> Bool {
        (lhs.reference === rhs.reference || lhs.gateway == rhs.gateway) && lhs.matchedPrefix == rhs.matchedPrefix
            && lhs.calleeOut == rhs.calleeOut && lhs.callerOut == rhs.callerOut && lhs.price == rhs.price && lhs.quality == rhs.quality
    }
}

/// Why a candidate was passed over without being tried (decided by `FailoverPlan.next`, from the
/// gateways' state at that moment).
public enum SkipReason: String, Sendable, Equatable {
    case lineLimit = "line limit"
    case groupLineLimit = "group line limit"
    case cpsLimit = "cps limit"
    case offline = "offline"
    case vendorCredit = "vendor balance"
    case protectRouteStandby = "protect route on standby"
    case switchLimit = "switch limit"
    /// The number is on this routing gateway's dynamic blacklist (DynamicBlacklistTracker).
    case dynamicBlacklist = "dynamic blacklist"
}

/// A gateway whose prefix matched the callee but that the planner left out of the plan, and why.
public struct RouteExclusion: Sendable, Equatable {
    public enum Reason: String, Sendable, Equatable, Codable {
        /// Only in explanations: disabled gateways are no match for a call.
        case disabled
        /// Only in explanations: the gateway's callee or caller dial plan denies the number.
        case dialPlan = "dial plan"
        /// Its prefix filters or number lists refuse the caller or callee.
        case screening
        /// Outside its route schedule (time of day, weekday, work calendar).
        case schedule = "time window"
        /// Its windowed ASR counts and is under `SS_GATEWAY_QUALITY_ASR_FLOOR`.
        case qualityFloor = "quality floor"
        /// Margin protection: its price for the number is above the customer's, or unknown.
        case margin
    }

    public let gateway: String
    /// The gateway's position in `RouteIndex.gateways` (or the gateway list planned over).
    public let position: Int
    public let matchedPrefix: String
    public let reason: Reason
    public let price: Money?
    public let quality: GatewayScore?
}

/// The gateways a call may try, and why there are none when there are none.
public struct RoutePlan: Sendable {
    /// In the order they are to be tried (before `FailoverPlan` puts protect routes last).
    public var candidates: [RouteCandidate]
    /// Enabled gateways whose prefix matched but whose prefix filters or number lists refused
    /// the caller or callee, by name.
    public var screenedOut: [String]
    /// Gateways matched the callee's prefix, and every one was refused only by its filters or
    /// lists: the call is Blacklisted (403), not NoAvailableRouter.
    public var refusedByScreening: Bool
    /// Gateways the planner left out, in gateway order (screening, schedule, quality floor,
    /// margin; with `explaining`, disabled gateways and dial-plan denials too).
    public var excluded: [RouteExclusion]
    /// No candidate is left and margin protection excluded at least one gateway: the call fails
    /// with MarginProtected (503).
    public var refusedByMargin: Bool
    /// The order the candidates are in, and the route sort rule's prefix that chose it (nil:
    /// `SS_ROUTING_SORT`).
    public var sort: RoutingSort
    public var sortRule: String?

    public init(candidates: [RouteCandidate], screenedOut: [String] = [], refusedByScreening: Bool = false,
                excluded: [RouteExclusion] = [], refusedByMargin: Bool = false, sort: RoutingSort = .priority,
                sortRule: String? = nil) {
        self.candidates = candidates
        self.screenedOut = screenedOut
        self.refusedByScreening = refusedByScreening
        self.excluded = excluded
        self.refusedByMargin = refusedByMargin
        self.sort = sort
        self.sortRule = sortRule
    }
}

/// The per-call values routing is decided with, besides the numbers.
public struct RouteOptions: Sendable, Equatable {
    /// `SS_ROUTING_SORT`: the mode where no route sort rule matches.
    public var systemSort: RoutingSort
    /// `SS_GATEWAY_QUALITY_CALCULATE`: off, no gateway has a score (quality sorting is priority
    /// order, mix sorting is price, no ASR floor).
    public var qualityEnabled: Bool
    /// `SS_GATEWAY_QUALITY_USE_ACD`: quality sorts by talk seconds per attempt, not ASR.
    public var useACD: Bool
    /// `SS_GATEWAY_QUALITY_ASR_FLOOR` (percent, 0 = none).
    public var asrFloorPercent: Int
    /// The customer's rate for the callee when margin protection is on for the account; nil: off.
    public var customerRate: RateEntry?

    public init(systemSort: RoutingSort = .priority, qualityEnabled: Bool = true, useACD: Bool = false,
                asrFloorPercent: Int = 0, customerRate: RateEntry? = nil) {
        self.systemSort = systemSort
        self.qualityEnabled = qualityEnabled
        self.useACD = useACD
        self.asrFloorPercent = asrFloorPercent
        self.customerRate = customerRate
    }

    public init(parameters: ParameterSet, customerRate: RateEntry? = nil) {
        self.init(systemSort: RoutingSort(parameter: parameters.text(.routingSort)),
                  qualityEnabled: parameters.bool(.gatewayQualityCalculate), useACD: parameters.bool(.gatewayQualityUseACD),
                  asrFloorPercent: parameters.int(.gatewayQualityASRFloor), customerRate: customerRate)
    }
}

public enum RoutePlanner {
    /// Every enabled gateway with a prefix of `callee` whose dial plans deny neither number,
    /// ordered as requirements §2 says: longest matching prefix, then priority (1 first), then
    /// load (active calls / line limit, least loaded first), then name, so the order is stable.
    /// `callee` and `caller` are the numbers after the mapping gateway's dial plans; without
    /// `caller`, caller dial plans are not applied.
    public static func candidates(for callee: String, caller: String? = nil, among gateways: [RoutingGateway],
                                  status: (String) -> GatewayStatus) -> [RouteCandidate] {
        plan(for: callee, caller: caller, among: gateways, screening: .none, status: status).candidates
    }

    /// `candidates`, less the gateways whose prefix filters or number lists (`screening.routing`)
    /// refuse the call. Filters judge the routed numbers (those `prefixes` match); lists judge
    /// them as routed and after the gateway's dial plans. Without `caller`, only the callee is judged.
    /// Scans every gateway's prefixes: the controller plans with a `RouteIndex` (same order).
    public static func plan(for callee: String, caller: String? = nil, among gateways: [RoutingGateway],
                            screening: NumberScreening, status: (String) -> GatewayStatus) -> RoutePlan {
        // Only the matching gateways are boxed (`RouteTables`): positions below are in `matched`.
        var matched: [RoutingGateway] = [], positions: [Int] = []
        var matches: [RouteIndex.Match] = []
        for (position, gateway) in gateways.enumerated() where gateway.enabled {
            var best: (slot: Int, length: Int)?
            for (slot, prefix) in gateway.prefixes.enumerated() where callee.hasPrefix(prefix) {
                let length = prefix.count
                if length > best?.length ?? -1 { best = (slot, length) }
            }
            guard let best else { continue }
            matches.append(RouteIndex.Match(gateway: Int32(matched.count), slot: best.slot, length: best.length))
            matched.append(gateway)
            positions.append(position)
        }
        let tables = RouteTables(gateways: matched, rates: [], nodePrefixes: [])
        var plan = matches.withUnsafeBufferPointer { matches in
            assemble(Request(callee: callee, caller: caller, sort: .priority, sortRule: nil, options: RouteOptions(), explaining: false),
                     tables: tables, matches: matches, probe: nil, screening: screening, status: status,
                     quality: { _ in nil }, isScheduled: { _ in true })
        }
        plan.excluded = plan.excluded.map { exclusion in
            RouteExclusion(gateway: exclusion.gateway, position: positions[exclusion.position], matchedPrefix: exclusion.matchedPrefix,
                           reason: exclusion.reason, price: exclusion.price, quality: exclusion.quality)
        }
        return plan
    }

    /// The plan for a call: the gateways of `index` with a prefix of `callee`, less those refused
    /// by dial plans, screening, schedule (`isScheduled`), the ASR floor or margin protection,
    /// ordered by the sort mode for the callee (the longest route sort rule, else
    /// `options.systemSort`):
    /// - priority: longest matching prefix, priority, load, name (as `plan(for:among:)`);
    /// - lcr: every matching gateway whatever its prefix length, by the vendor's price per
    ///   minute for the number it would be sent (`calleeOut`), unknown prices last; then priority,
    ///   load, name;
    /// - quality: gateways whose score does not count yet first (by priority, load, name: they
    ///   need traffic to be learned), then score (ASR, or talk seconds per attempt) best first,
    ///   then priority, load, name;
    /// - mix: price per answered call (price / ASR; ASR 1 for a gateway not scored yet), unknown
    ///   prices last, then priority, load, name.
    /// `isScheduled` says whether a gateway's route schedule is open now; it is asked only for
    /// gateways that name one (`RoutingGateway.schedule`), the others are always open.
    /// `quality` gives a gateway's windowed score by name (`GatewayQuality.score`); it is asked
    /// only when the mode, the floor or `explaining` needs it. With `explaining`, disabled
    /// gateways and dial-plan denials are listed in `excluded` and every candidate's price and
    /// quality are looked up (`RouteExplanation`).
    public static func plan(for callee: String, caller: String? = nil, index: RouteIndex, options: RouteOptions,
                            screening: NumberScreening = .none, explaining: Bool = false,
                            status: (String) -> GatewayStatus, quality: (String) -> GatewayScore?,
                            isScheduled: (RoutingGateway) -> Bool) -> RoutePlan {
        let (sort, rule) = index.sort(for: callee, system: options.systemSort)
        return index.withMatches(for: callee) { matches, probe in
            assemble(Request(callee: callee, caller: caller, sort: sort, sortRule: rule, options: options, explaining: explaining),
                     tables: index.tables, matches: matches, probe: probe, screening: screening,
                     status: status, quality: quality, isScheduled: isScheduled)
        }
    }

    struct Request {
        let callee: String
        let caller: String?
        let sort: RoutingSort
        let sortRule: String?
        let options: RouteOptions
        let explaining: Bool
    }

    /// A gateway kept for the plan: what its candidate is made of.
    private struct Kept {
        let match: RouteIndex.Match
        /// Set only when the gateway's dial plans changed the number (else: the request's), so
        /// most kept gateways hold no String to retain and release.
        let calleeRewritten: String?
        let callerRewritten: String?
        let price: Money?
        let quality: GatewayScore?
    }

    /// What a kept gateway is sorted by: integers compared in order (small, so sorting moves
    /// little and compares no String).
    private struct SortKey {
        /// The mode's own key: priority, the prefix length (longest first); lcr, the price
        /// (unknown last); mix, the price per answered call (unknown last); quality, 0 while
        /// learning, else the score (best first).
        var mode: UInt64
        var priority: UInt64
        /// Active calls / line limit, as the bits of a non-negative Double (same order); only
        /// computed for keys that tie on `mode` and `priority` (it asks `status`).
        var load: UInt64
        /// The gateway's name rank, then its place in the kept list (a total order).
        var last: UInt64

        @inline(__always)
        static func < (lhs: SortKey, rhs: SortKey) -> Bool {
            if lhs.mode != rhs.mode { return lhs.mode < rhs.mode }
            if lhs.priority != rhs.priority { return lhs.priority < rhs.priority }
            if lhs.load != rhs.load { return lhs.load < rhs.load }
            return lhs.last < rhs.last
        }
    }

    /// Active calls / line limit (per million calls without a limit), as the bits of a
    /// non-negative Double: the same order as the value.
    @inline(__always)
    private static func loadBits(_ reference: GatewayReference, _ status: (String) -> GatewayStatus) -> UInt64 {
        let active = Double(max(0, status(reference.gateway.name).activeCalls))
        let lineLimit = reference.gateway.lineLimit
        return (lineLimit > 0 ? active / Double(lineLimit) : active / 1_000_000).bitPattern
    }

    /// The one implementation of exclusions and order, for both ways of finding the matches.
    /// `probe` (from the index) lets prices come from the matches; without it they are looked up.
    static func assemble(_ request: Request, tables: RouteTables, matches: UnsafeBufferPointer<RouteIndex.Match>,
                         probe: RouteIndex.Probe?, screening: NumberScreening, status: (String) -> GatewayStatus,
                         quality: (String) -> GatewayScore?, isScheduled: (RoutingGateway) -> Bool) -> RoutePlan {
        let options = request.options
        let sort = request.sort
        let rates = tables.rates
        let references = tables.references
        let needsPrice = (sort == .lcr || sort == .mix || options.customerRate != nil || request.explaining) && !rates.isEmpty
        let needsQuality = options.qualityEnabled
            && (sort == .quality || sort == .mix || options.asrFloorPercent > 0 || request.explaining)
        var kept: [Kept] = []
        kept.reserveCapacity(matches.count)
        var keys: [SortKey] = []
        keys.reserveCapacity(matches.count)
        var excluded: [RouteExclusion] = []
        var screenedOut: [String] = []
        var prefixMatches = 0
        var marginExclusions = 0

        for match in matches {
            let position = Int(match.gateway)
            // Read through the shared reference: binding `reference.gateway` to a local would copy
            // the whole struct (some twenty retains) per match.
            let reference = references[position]
            func exclude(_ reason: RouteExclusion.Reason, price: Money? = nil, quality: GatewayScore? = nil) {
                excluded.append(RouteExclusion(gateway: reference.gateway.name, position: position, matchedPrefix: tables.prefix(of: match),
                                               reason: reason, price: price, quality: quality))
            }
            guard reference.gateway.enabled else {
                if request.explaining { exclude(.disabled) }
                continue
            }
            prefixMatches += 1
            var calleeRewritten: String?
            if !reference.gateway.calleeRewrite.isEmpty {
                guard case let .number(number) = reference.gateway.calleeRewrite.apply(to: request.callee) else {
                    if request.explaining { exclude(.dialPlan) }
                    continue
                }
                calleeRewritten = number
            }
            var callerRewritten: String?
            if let caller = request.caller, !reference.gateway.callerRewrite.isEmpty {
                guard case let .number(number) = reference.gateway.callerRewrite.apply(to: caller) else {
                    if request.explaining { exclude(.dialPlan) }
                    continue
                }
                callerRewritten = number
            }
            if !screening.routing.isEmpty, let screen = screening.routing[reference.gateway.name],
               !screen.permitsFilters(caller: request.caller, callee: request.callee)
                || !screen.permitsLists(caller: request.caller, callerAfterPlan: callerRewritten ?? request.caller, callee: request.callee,
                                        calleeAfterPlan: calleeRewritten ?? request.callee) {
                screenedOut.append(reference.gateway.name)
                exclude(.screening)
                continue
            }
            func vendorPrice() -> Money? {
                guard needsPrice, let deck = rates[position] else { return nil }
                guard let probe, calleeRewritten == nil, match.pricing.contains(.known) else {
                    return deck.lookup(calleeRewritten ?? request.callee)?.pricePerMinute
                }
                // The number sent is the number routed: the price the index holds for the node,
                // unless the vendor has a longer prefix under it.
                if match.pricing.contains(.longerPrefixes), let longer = deck.price(probe.packed, length: probe.length, above: probe.nodeLength) {
                    return longer
                }
                return match.pricing.contains(.priced) ? Money(units: Int64(match.price)) : nil
            }
            if reference.gateway.schedule != nil && !isScheduled(reference.gateway) {
                exclude(.schedule, price: request.explaining ? vendorPrice() : nil)
                continue
            }
            let price = vendorPrice()
            let score = needsQuality ? quality(reference.gateway.name) : nil
            if let score, score.isUnder(floorPercent: options.asrFloorPercent) {
                exclude(.qualityFloor, price: price, quality: score)
                continue
            }
            if let customer = options.customerRate, price.map({ $0 > customer.pricePerMinute }) ?? true {
                marginExclusions += 1
                exclude(.margin, price: price, quality: score)
                continue
            }
            var mode: UInt64
            switch sort {
            case .priority:
                mode = UInt64(PackedNumber.maximumLength &- Int(match.length))
            case .lcr:
                mode = price.map { UInt64(clamping: $0.units) } ?? .max
            case .quality:
                // Learning first (0), then the score's bits reversed (a higher score sorts first).
                mode = 0
                if let score, score.counts { mode = 1 << 63 | (1 << 63 - 1 - max(0, score.value(useACD: options.useACD)).bitPattern) }
            case .mix:
                mode = .max
                if let price {
                    // Price per answered call; a gateway not learned yet counts as always answering.
                    var cost = Double(max(0, price.units))
                    if let score, score.counts {
                        cost = score.answered > 0 ? cost * Double(score.attempts) / Double(score.answered) : .infinity
                    }
                    mode = cost.bitPattern
                }
            }
            // Priority mode ties on prefix length and priority all the time: its loads are taken
            // here; the other modes take them only for the keys that tie (below).
            let load = sort == .priority ? loadBits(reference, status) : 0
            keys.append(SortKey(mode: mode, priority: UInt64(clamping: reference.gateway.priority), load: load,
                                last: UInt64(UInt32(clamping: tables.nameRanks[position])) << 32 | UInt64(kept.count)))
            kept.append(Kept(match: match, calleeRewritten: calleeRewritten, callerRewritten: callerRewritten, price: price, quality: score))
        }

        if sort == .priority {
            keys.sort(by: <)
        } else {
            // By the mode's key and priority; then each run that ties on both by load (status is
            // asked only for those) and name.
            keys.sort { lhs, rhs in
                if lhs.mode != rhs.mode { return lhs.mode < rhs.mode }
                return lhs.priority < rhs.priority
            }
            var start = 0
            while start < keys.count {
                var end = start + 1
                while end < keys.count && keys[end].mode == keys[start].mode && keys[end].priority == keys[start].priority { end += 1 }
                if end - start > 1 {
                    for index in start..<end {
                        keys[index].load = loadBits(references[Int(kept[Int(keys[index].last & 0xFFFF_FFFF)].match.gateway)], status)
                    }
                    keys[start..<end].sort(by: <)
                }
                start = end
            }
        }

        var candidates: [RouteCandidate] = []
        candidates.reserveCapacity(keys.count)
        kept.withUnsafeBufferPointer { kept in
            for key in keys {
                let item = kept[Int(key.last & 0xFFFF_FFFF)]
                candidates.append(RouteCandidate(reference: references[Int(item.match.gateway)], matchedPrefix: tables.prefix(of: item.match),
                                                 calleeOut: item.calleeRewritten ?? request.callee,
                                                 callerOut: item.callerRewritten ?? request.caller, price: item.price, quality: item.quality))
            }
        }
        return RoutePlan(candidates: candidates, screenedOut: screenedOut,
                         refusedByScreening: prefixMatches > 0 && screenedOut.count == prefixMatches,
                         excluded: excluded, refusedByMargin: candidates.isEmpty && marginExclusions > 0,
                         sort: sort, sortRule: request.sortRule)
    }
}
