import VOSModel

/// The vendor-selection state of one call: which gateway to try next, whether a failure ends the
/// call, and what the caller is told when nothing connects.
public struct FailoverPlan: Sendable {
    public enum Next: Sendable, Equatable {
        case tryGateway(RouteCandidate)
        case fail(reason: EndReason, sipCode: Int)
    }

    public enum AttemptOutcome: Sendable, Equatable {
        /// A final non-2xx response from the vendor.
        case response(Int)
        /// No provisional response within `SS_SIP_TIMEOUT_INVITE`.
        case inviteTimeout
        /// Ringing longer than `SS_SIP_TIMEOUT_RINGING`.
        case ringingTimeout
        /// No INVITE went out: the caller's codecs and this gateway's could not meet (no common
        /// codec and no conversion allowed). The next gateway may still have one.
        case codecMismatch(String)
    }

    private let candidates: [RouteCandidate]
    /// No candidate because every gateway for the prefix refused the numbers (`RoutePlan`).
    private let refusedByScreening: Bool
    /// No candidate because margin protection excluded the vendors (`RoutePlan.refusedByMargin`).
    private let refusedByMargin: Bool
    private let switchLimit: Int
    private var position = 0
    private var stopped = false
    public private(set) var attempts: [GatewayAttempt] = []
    public private(set) var skipped: [(gateway: String, reason: SkipReason)] = []
    private var lastOutcome: AttemptOutcome?

    public init(candidates: [RouteCandidate], switchLimit: Int, refusedByScreening: Bool = false, refusedByMargin: Bool = false) {
        // Protect routes go last: they serve only once every primary is unusable or has failed.
        // (`reference.gateway.x` reads one field; `gateway` would copy the whole struct per candidate.)
        if candidates.contains(where: { $0.reference.gateway.protectRoute }) {
            self.candidates = candidates.filter { !$0.reference.gateway.protectRoute } + candidates.filter { $0.reference.gateway.protectRoute }
        } else {
            self.candidates = candidates
        }
        self.refusedByScreening = refusedByScreening && candidates.isEmpty
        self.refusedByMargin = refusedByMargin && candidates.isEmpty
        self.switchLimit = max(1, switchLimit)
    }

    /// A plan from the route planner: with no candidate because of filters and lists, the call
    /// fails with 403 Blacklisted; because of margin protection, with 503 MarginProtected.
    public init(route: RoutePlan, switchLimit: Int) {
        self.init(candidates: route.candidates, switchLimit: switchLimit, refusedByScreening: route.refusedByScreening,
                  refusedByMargin: route.refusedByMargin)
    }

    /// The candidates in the order `next` goes through them (protect routes last).
    public var order: [RouteCandidate] { candidates }

    public var hasCandidates: Bool { !candidates.isEmpty }

    /// The next gateway to try now, or the failure to return to the caller.
    public mutating func next(status: (String) -> GatewayStatus) -> Next {
        while !stopped && position < candidates.count {
            let candidate = candidates[position]
            position += 1
            if attempts.count >= switchLimit {
                skipped.append((candidate.reference.gateway.name, .switchLimit))
                continue
            }
            if let reason = skipReason(candidate, status: status(candidate.reference.gateway.name), status) {
                skipped.append((candidate.reference.gateway.name, reason))
                continue
            }
            return .tryGateway(candidate)
        }
        return .fail(reason: failureReason(), sipCode: failureCode())
    }

    /// Passes over a candidate `next` returned, before anything was sent to it (the number is on
    /// its dynamic blacklist): it is no attempt, and when every candidate went this way the call
    /// fails with 403 Blacklisted.
    public mutating func skip(_ candidate: RouteCandidate, reason: SkipReason) {
        skipped.append((candidate.reference.gateway.name, reason))
    }

    /// For `RouteExplanation`: the gateway `next` returned is taken as failed, failover going on
    /// whatever its settings, so the walk reaches every gateway the call could try.
    mutating func assumeFailed(_ candidate: RouteCandidate) {
        attempts.append(GatewayAttempt(gateway: candidate.reference.gateway.name, sipCode: nil, reason: "assumed failed"))
    }

    /// Records how an attempt ended; returns whether failover may continue.
    @discardableResult
    public mutating func record(_ outcome: AttemptOutcome, for candidate: RouteCandidate) -> Bool {
        let code: Int? = {
            switch outcome {
            case let .response(code): return code
            case .codecMismatch: return 488
            case .inviteTimeout, .ringingTimeout: return nil
            }
        }()
        let reason: String
        switch outcome {
        case let .response(code): reason = "SIP \(code)"
        case .inviteTimeout: reason = "no answer to INVITE"
        case .ringingTimeout: reason = "ringing timeout"
        case let .codecMismatch(why): reason = why
        }
        attempts.append(GatewayAttempt(gateway: candidate.reference.gateway.name, sipCode: code, reason: reason))
        lastOutcome = outcome
        // The gateway never saw the call, so neither its failover setting nor its stop codes apply.
        if case .codecMismatch = outcome { return true }
        if !candidate.gateway.switchUntilConnect { stopped = true }
        if let code, candidate.gateway.stopsSwitching(on: code) { stopped = true }
        if case .ringingTimeout = outcome { stopped = true }
        return !stopped
    }

    private func skipReason(_ candidate: RouteCandidate, status: GatewayStatus,
                            _ lookup: (String) -> GatewayStatus) -> SkipReason? {
        let gateway = candidate.reference
        if gateway.gateway.optionsCheck && !status.online { return .offline }
        if gateway.gateway.lineLimit > 0 && status.activeCalls >= gateway.gateway.lineLimit { return .lineLimit }
        if !status.groupLineAvailable { return .groupLineLimit }
        if !status.withinCPS { return .cpsLimit }
        if !status.vendorCreditOK { return .vendorCredit }
        if gateway.gateway.protectRoute && primaryStillUsable(lookup) { return .protectRouteStandby }
        return nil
    }

    /// A primary not yet tried that could take the call now keeps protect routes on standby.
    private func primaryStillUsable(_ lookup: (String) -> GatewayStatus) -> Bool {
        let tried = Set(attempts.map(\.gateway) + skipped.filter { $0.reason == .dynamicBlacklist }.map(\.gateway))
        return candidates.contains { candidate in
            let gateway = candidate.reference.gateway
            guard !gateway.protectRoute, !tried.contains(gateway.name) else { return false }
            let status = lookup(gateway.name)
            return (!gateway.optionsCheck || status.online) && (gateway.lineLimit == 0 || status.activeCalls < gateway.lineLimit)
                && status.groupLineAvailable && status.withinCPS && status.vendorCreditOK
        }
    }

    private func failureReason() -> EndReason {
        if let lastOutcome {
            switch lastOutcome {
            case .inviteTimeout: return .inviteTimeout
            case .ringingTimeout: return .ringingTimeout
            case .response: return .vendorFailure
            case .codecMismatch: return .codecMismatch
            }
        }
        let reasons = Set(skipped.map(\.reason))
        if candidates.isEmpty { return refusedByScreening ? .blacklisted : refusedByMargin ? .marginProtected : .noAvailableRouter }
        if reasons.contains(.dynamicBlacklist) && reasons.isSubset(of: [.dynamicBlacklist, .switchLimit, .protectRouteStandby]) {
            return .blacklisted
        }
        // A group's shared line limit is a line limit too.
        let busy: Set<SkipReason> = [.lineLimit, .groupLineLimit, .cpsLimit]
        if reasons.isSubset(of: busy.union([.switchLimit, .protectRouteStandby])) && !reasons.isDisjoint(with: busy) {
            return .allGatewayBusy
        }
        if reasons.contains(.vendorCredit) && reasons.isDisjoint(with: busy) {
            return .accountBalanceNotEnough
        }
        if !reasons.isDisjoint(with: busy) { return .allGatewayBusy }
        return .noAvailableRouter
    }

    private func failureCode() -> Int {
        switch lastOutcome {
        case let .response(code): return code
        case .inviteTimeout, .ringingTimeout: return 408
        case .codecMismatch: return 488
        case nil: return failureReason() == .blacklisted ? 403 : 503
        }
    }
}
