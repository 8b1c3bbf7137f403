import VOSModel

/// What the controller knows about a routing gateway at the moment a call is routed.
public struct GatewayStatus: Sendable, Equatable {
    public var activeCalls: Int
    public var online: Bool
    /// False when the gateway's own CPS limit has no token now.
    public var withinCPS: Bool
    /// False when `SERVER_VERIFY_CLEARING_CUSTOMER` is on and the vendor account is under the limit.
    public var vendorCreditOK: Bool

    public init(activeCalls: Int = 0, online: Bool = true, withinCPS: Bool = true, vendorCreditOK: Bool = true) {
        self.activeCalls = activeCalls
        self.online = online
        self.withinCPS = withinCPS
        self.vendorCreditOK = vendorCreditOK
    }
}

/// A routing gateway that matches the callee, with the prefix it matched on and the numbers its
/// dial plans make for this call.
public struct RouteCandidate: Sendable, Equatable {
    public let gateway: RoutingGateway
    public let matchedPrefix: String
    /// The callee sent to this vendor: the routed number after the gateway's callee dial plan.
    public let calleeOut: String
    /// The caller sent to this vendor (before a caller number pool replaces it): the caller after
    /// the gateway's caller dial plan; nil when the planner was not given the caller.
    public let callerOut: String?

    public init(gateway: RoutingGateway, matchedPrefix: String, calleeOut: String, callerOut: String? = nil) {
        self.gateway = gateway
        self.matchedPrefix = matchedPrefix
        self.calleeOut = calleeOut
        self.callerOut = callerOut
    }
}

/// Why a candidate was passed over without being tried.
public enum SkipReason: String, Sendable, Equatable {
    case lineLimit = "line limit"
    case cpsLimit = "cps limit"
    case offline = "offline"
    case vendorCredit = "vendor balance"
    case protectRouteStandby = "protect route on standby"
    case switchLimit = "switch limit"
    /// The number is on this routing gateway's dynamic blacklist (DynamicBlacklistTracker).
    case dynamicBlacklist = "dynamic blacklist"
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

    public init(candidates: [RouteCandidate], screenedOut: [String] = [], refusedByScreening: Bool = false) {
        self.candidates = candidates
        self.screenedOut = screenedOut
        self.refusedByScreening = refusedByScreening
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
    public static func plan(for callee: String, caller: String? = nil, among gateways: [RoutingGateway],
                            screening: NumberScreening, status: (String) -> GatewayStatus) -> RoutePlan {
        var matched: [(candidate: RouteCandidate, load: Double)] = []
        var prefixMatches = 0
        var screenedOut: [String] = []
        for gateway in gateways where gateway.enabled {
            guard let prefix = gateway.prefixes.filter({ callee.hasPrefix($0) }).max(by: { $0.count < $1.count }) else { continue }
            prefixMatches += 1
            guard case let .number(calleeOut) = gateway.calleeRewrite.apply(to: callee) else { continue }
            var callerOut: String?
            if let caller {
                guard case let .number(number) = gateway.callerRewrite.apply(to: caller) else { continue }
                callerOut = number
            }
            if !screening.routing.isEmpty, let screen = screening.routing[gateway.name],
               !screen.permitsFilters(caller: caller, callee: callee)
                || !screen.permitsLists(caller: caller, callerAfterPlan: callerOut, callee: callee, calleeAfterPlan: calleeOut) {
                screenedOut.append(gateway.name)
                continue
            }
            let active = status(gateway.name).activeCalls
            let load = gateway.lineLimit > 0 ? Double(active) / Double(gateway.lineLimit) : Double(active) / 1_000_000
            matched.append((RouteCandidate(gateway: gateway, matchedPrefix: prefix, calleeOut: calleeOut, callerOut: callerOut), load))
        }
        matched.sort { lhs, rhs in
            if lhs.candidate.matchedPrefix.count != rhs.candidate.matchedPrefix.count {
                return lhs.candidate.matchedPrefix.count > rhs.candidate.matchedPrefix.count
            }
            if lhs.candidate.gateway.priority != rhs.candidate.gateway.priority {
                return lhs.candidate.gateway.priority < rhs.candidate.gateway.priority
            }
            if lhs.load != rhs.load { return lhs.load < rhs.load }
            return lhs.candidate.gateway.name < rhs.candidate.gateway.name
        }
        return RoutePlan(candidates: matched.map(\.candidate), screenedOut: screenedOut,
                         refusedByScreening: prefixMatches > 0 && screenedOut.count == prefixMatches)
    }
}
