import VOSModel

/// Whether a new call from a mapping gateway may go on to billing and routing, and if not the
/// end reason and response it gets (requirements §2, §3): the gateway switched off, calls per
/// second (global, then the gateway's), concurrent calls, caller and callee prefix filters (with
/// number groups), black and white number lists, in the order an operator reads them in the CDR.
/// Credit comes after, in the ledger. Filters and lists come resolved (`GatewayScreen`).
///
/// Pure: the CPS token buckets are state the B2BUA keeps, so it is asked through closures, and
/// only as far as the checks get (a refused call takes no token it did not need).
public enum Admission {
    public struct Refusal: Sendable, Equatable {
        public let reason: EndReason
        public let code: Int
        public let retryAfter: Int?

        public init(reason: EndReason, code: Int, retryAfter: Int? = nil) {
            self.reason = reason
            self.code = code
            self.retryAfter = retryAfter
        }
    }

    /// A token bucket's answer: admitted, or the seconds until it would be.
    public enum RateCheck: Sendable, Equatable {
        case admitted
        case exceeded(retryAfter: Int)
    }

    public struct Call: Sendable {
        public var gateway: MappingGateway
        /// The caller as the gateway's caller source gave it, and the callee as received and
        /// after the gateway's dial plan.
        public var caller: String
        public var calleeReceived: String
        public var callee: String
        /// Calls of this gateway up now.
        public var activeCalls: Int
        /// The caller after the gateway's caller dial plan, when it has one (number lists judge both forms).
        public var callerAfterPlan: String?

        public init(gateway: MappingGateway, caller: String, calleeReceived: String, callee: String, activeCalls: Int,
                    callerAfterPlan: String? = nil) {
            self.gateway = gateway
            self.caller = caller
            self.calleeReceived = calleeReceived
            self.callee = callee
            self.activeCalls = activeCalls
            self.callerAfterPlan = callerAfterPlan
        }
    }

    /// `screen` is the gateway's filters and lists (`NumberScreening.mapping[name]`; nil: none).
    /// Filters judge the caller as received and the callee after the dial plan; lists judge
    /// each number as received and after the dial plan.
    public static func refusal(_ call: Call, screen: GatewayScreen?,
                               globalCPS: () -> RateCheck, gatewayCPS: () -> RateCheck) -> Refusal? {
        let gateway = call.gateway
        guard gateway.enabled else { return Refusal(reason: .unauthorizedSource, code: 403) }
        if case let .exceeded(wait) = globalCPS() { return Refusal(reason: .rateLimited, code: 503, retryAfter: wait) }
        if case let .exceeded(wait) = gatewayCPS() { return Refusal(reason: .rateLimited, code: 503, retryAfter: wait) }
        if gateway.concurrentLimit > 0 && call.activeCalls >= gateway.concurrentLimit {
            return Refusal(reason: .concurrentLimit, code: 503, retryAfter: 5)
        }
        guard let screen else { return nil }
        if !screen.permitsFilters(caller: call.caller, callee: call.callee)
            || !screen.permitsLists(caller: call.caller, callerAfterPlan: call.callerAfterPlan,
                                    callee: call.calleeReceived, calleeAfterPlan: call.callee) {
            return Refusal(reason: .blacklisted, code: 403)
        }
        return nil
    }
}
