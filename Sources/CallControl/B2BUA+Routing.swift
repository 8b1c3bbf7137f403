import SIPStack
import Softswitch
import VOSModel

/// Wholesale routing on the SIP loop (docs/ROUTING.md): number portability before prefix
/// matching, the route plan with sort mode, schedules, quality, margin protection and gateway
/// groups, the quality window's bookkeeping, group lines, and `vosctl route explain`.
/// The order itself is Softswitch's (`RoutePlanner`, `FailoverPlan`); this file gives it the
/// controller's state.
extension B2BUA {
    /// What a call is routed with, decided once at its INVITE.
    struct RouteDecision {
        var plan: RoutePlan
        /// The callee's LRN when the table mapped it.
        var routingNumber: String?
        /// The number the customer's rate is looked up with (the LRN when routing on it).
        var ratedNumber: String
        /// Not in the LRN table and `SS_LRN_FAILURE_ACTION` 1.
        var lrnRefused: Bool
    }

    /// Plans `callee` (after the mapping gateway's dial plans) for `account` at wall time `at`.
    func decideRoute(callee: String, caller: String?, account: String?, at wallMilliseconds: Int64,
                     explaining: Bool = false) -> RouteDecision {
        let routing = snapshot.routing
        var matchOn = callee
        var routingNumber: String?
        switch routing.lrnPolicy.resolve(callee, in: routing.lrnTable) {
        case .notConsulted, .notPorted: break
        case .refused:
            return RouteDecision(plan: RoutePlan(candidates: []), routingNumber: nil, ratedNumber: callee, lrnRefused: true)
        case let .ported(lrn, number):
            routingNumber = lrn
            matchOn = number
        }
        var plan = RoutePlanner.plan(
            for: matchOn, caller: caller, index: routing.index, options: routeOptions(account: account, ratedNumber: matchOn),
            screening: snapshot.numberScreening, explaining: explaining, status: { self.gatewayStatus($0, account: account) },
            quality: qualityScore, isScheduled: scheduleCheck(at: wallMilliseconds))
        if routingNumber != nil && matchOn != callee {
            // Routed on the LRN, but the vendor is sent the dialled number (with rn=, RFC 4694).
            plan.candidates = plan.candidates.map { candidate in
                guard case let .number(dialled) = candidate.gateway.calleeRewrite.apply(to: callee) else { return candidate }
                return RouteCandidate(gateway: candidate.gateway, matchedPrefix: candidate.matchedPrefix, calleeOut: dialled,
                                      callerOut: candidate.callerOut, price: candidate.price, quality: candidate.quality)
            }
        }
        return RouteDecision(plan: plan, routingNumber: routingNumber, ratedNumber: matchOn, lrnRefused: false)
    }

    func routeOptions(account: String?, ratedNumber: String) -> RouteOptions {
        RouteExplainer.routeOptions(snapshot, account: account, ratedNumber: ratedNumber)
    }

    func qualityScore(_ gateway: String) -> GatewayScore? {
        parameters.bool(.gatewayQualityCalculate) ? gatewayQuality.score(gateway, now: loop.now) : nil
    }

    func scheduleCheck(at wallMilliseconds: Int64) -> (RoutingGateway) -> Bool {
        RouteExplainer.scheduleCheck(snapshot, at: wallMilliseconds)
    }

    /// `gatewayStatus` for a call of `account`: its gateway group's lines as well.
    func gatewayStatus(_ name: String, account: String?) -> GatewayStatus {
        var status = gatewayStatus(name)
        if let group = snapshot.routingGatewaysByName[name]?.group.flatMap({ snapshot.routing.groups[$0] }) {
            status.groupLineAvailable = group.admits(account: account, activeByAccount: activeByGroup[group.name] ?? [:])
        }
        return status
    }

    /// A vendor line was taken (`startAttempt`): count it against the gateway's group.
    func occupyGroupLine(_ session: CallSession, gateway: RoutingGateway) {
        guard let group = gateway.group else { return }
        let holder = session.account ?? GatewayGroup.noAccount
        activeByGroup[group, default: [:]][holder, default: 0] += 1
        session.occupiedGroup = (group, holder)
    }

    func releaseGroupLine(_ session: CallSession) {
        guard let (group, holder) = session.occupiedGroup else { return }
        activeByGroup[group, default: [:]][holder, default: 1] -= 1
        session.occupiedGroup = nil
    }

    /// An attempt that reached the vendor failed: it counts against the gateway's ASR now.
    func recordFailedAttempt(_ gateway: String, outcome: FailoverPlan.AttemptOutcome) {
        guard parameters.bool(.gatewayQualityCalculate) else { return }
        if case .codecMismatch = outcome { return }
        gatewayQuality.record(gateway, answered: false, talkSeconds: 0, now: loop.now)
    }

    /// An answered attempt counts when the call ends, with its talk time.
    func recordAnsweredAttempt(_ session: CallSession, endMonotonic: UInt64) {
        guard parameters.bool(.gatewayQualityCalculate), let answered = session.answerMonotonic,
              let gateway = session.lastCandidate?.gateway.name else { return }
        let seconds = Int((endMonotonic > answered ? endMonotonic - answered : 0) / 1_000_000_000)
        gatewayQuality.record(gateway, answered: true, talkSeconds: seconds, now: endMonotonic)
    }

    /// `vosctl route explain`: the plan a call from `mappingGateway` to `callee` would get at
    /// `wallMilliseconds` (now when nil), with this controller's live state.
    public func explainRoute(callee: String, mappingGateway: String, caller: String?,
                             at wallMilliseconds: Int64?) -> Result<RouteExplanation, ExplainFailure> {
        let account = snapshot.mappingGateways[mappingGateway]?.account
        return RouteExplainer.explain(snapshot: snapshot, callee: callee, mappingGateway: mappingGateway, caller: caller,
                                      at: wallMilliseconds ?? loop.wallMilliseconds,
                                      status: { self.gatewayStatus($0, account: account) }, quality: qualityScore)
    }
}

/// `vosctl route explain` from a snapshot: what `decideRoute` does for an INVITE, step for step,
/// with the gateway state given (the controller's live state, or, with no controller running,
/// every gateway online and idle with no quality history).
public enum RouteExplainer {
    public static func explain(snapshot: ControllerSnapshot, callee dialled: String, mappingGateway name: String, caller: String?,
                               at wallMilliseconds: Int64, status: (String) -> GatewayStatus,
                               quality: (String) -> GatewayScore?) -> Result<RouteExplanation, ExplainFailure> {
        guard let gateway = snapshot.mappingGateways[name] else {
            return .failure(ExplainFailure(message: "mapping gateway '\(name)' does not exist"))
        }
        guard case let .number(callee) = gateway.calleeRewrite.apply(to: dialled) else {
            return .failure(ExplainFailure(message: "mapping gateway \(name)'s callee dial plan denies \(dialled) (403 DialPlanDenied)"))
        }
        var callerOut: String?
        if let caller, case let .number(number) = gateway.callerRewrite.apply(to: caller) { callerOut = number }
        let routing = snapshot.routing
        var matchOn = callee
        switch routing.lrnPolicy.resolve(callee, in: routing.lrnTable) {
        case .notConsulted, .notPorted: break
        case .refused:
            return .success(RouteExplanation(callee: callee, sort: RoutingSort(parameter: snapshot.parameters.text(.routingSort)),
                                             sortRule: nil, entries: [], refusal: .lrnNotFound, refusalCode: 404))
        case let .ported(_, number): matchOn = number
        }
        return .success(RouteExplanation.explain(
            callee: matchOn, caller: callerOut, index: routing.index,
            options: routeOptions(snapshot, account: gateway.account, ratedNumber: matchOn),
            screening: snapshot.numberScreening, switchLimit: snapshot.parameters.int(.gatewaySwitchLimit),
            status: status, quality: snapshot.parameters.bool(.gatewayQualityCalculate) ? quality : { _ in nil },
            isScheduled: scheduleCheck(snapshot, at: wallMilliseconds)))
    }

    /// With no controller: every gateway online and idle, no quality history.
    public static func explainOffline(snapshot: ControllerSnapshot, callee: String, mappingGateway: String, caller: String?,
                                      at wallMilliseconds: Int64) -> Result<RouteExplanation, ExplainFailure> {
        explain(snapshot: snapshot, callee: callee, mappingGateway: mappingGateway, caller: caller, at: wallMilliseconds,
                status: { _ in GatewayStatus() }, quality: { _ in nil })
    }

    static func routeOptions(_ snapshot: ControllerSnapshot, account: String?, ratedNumber: String) -> RouteOptions {
        var customerRate: RateEntry?
        if let account, let customer = snapshot.accounts[account], customer.protectsMargin, let table = customer.rateTable {
            customerRate = snapshot.routing.rateTables[table]?.lookup(ratedNumber)
        }
        return RouteOptions(parameters: snapshot.parameters, customerRate: customerRate)
    }

    /// Whether each gateway's schedule is open at `wallMilliseconds` (unscheduled gateways always are).
    static func scheduleCheck(_ snapshot: ControllerSnapshot, at wallMilliseconds: Int64) -> (RoutingGateway) -> Bool {
        let routing = snapshot.routing
        guard !routing.schedules.isEmpty else { return { _ in true } }
        let local = routing.localTime(at: wallMilliseconds) ?? LocalTime(localMinutes: wallMilliseconds / 60_000)
        return { gateway in routing.schedules[gateway.name]?.isActive(at: local) ?? true }
    }
}

public struct ExplainFailure: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
