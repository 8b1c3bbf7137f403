/// What the controller asks before it routes a call (requirements §4).
public struct CallAuthorizationRequest: Sendable, Hashable {
    /// The controller's unique key for this call; every later billing call names it.
    public var key: String
    public var callID: String
    public var account: String
    public var caller: String
    /// The number the customer's rate table is searched with (callee as received, after the
    /// mapping gateway's rewrite).
    public var callee: String
    public var mappingGateway: String
    /// The first vendor tried, when already known; `markAnswered` records the one that answered.
    public var vendor: VendorLeg?
    /// Unix epoch milliseconds.
    public var now: Int64

    public init(key: String, callID: String, account: String, caller: String, callee: String,
                mappingGateway: String, vendor: VendorLeg? = nil, now: Int64) {
        self.key = key
        self.callID = callID
        self.account = account
        self.caller = caller
        self.callee = callee
        self.mappingGateway = mappingGateway
        self.vendor = vendor
        self.now = now
    }
}

/// The routing gateway that carries a call and the vendor account its cost is cleared against.
public struct VendorLeg: Sendable, Hashable, Codable {
    public var gateway: String
    /// The gateway's clearing account; nil = the vendor side is not rated.
    public var clearingAccount: String?
    /// The number sent to the vendor, searched in the clearing account's rate table.
    public var callee: String

    public init(gateway: String, clearingAccount: String?, callee: String) {
        self.gateway = gateway
        self.clearingAccount = clearingAccount
        self.callee = callee
    }
}

/// Until when a call may stay connected on the credit reserved for it.
public struct CallDeadline: Sendable, Hashable {
    /// Connected seconds the reservation pays for; nil when the call has no credit limit
    /// (anti-overdraft off, or a destination with no per-minute price).
    public var connectedSeconds: Int?
    /// True when no more credit will be granted: release the call at `releaseAt` with end reason
    /// BalanceExhausted. False: ask `extendCall` at `extendAt`.
    public var isFinal: Bool
    /// Absolute release time (epoch ms), known once the call is answered.
    public var releaseAt: Int64?
    /// When to ask for the next slice (epoch ms); nil when final, unlimited or not yet answered.
    public var extendAt: Int64?

    public init(connectedSeconds: Int?, isFinal: Bool, releaseAt: Int64?, extendAt: Int64?) {
        self.connectedSeconds = connectedSeconds
        self.isFinal = isFinal
        self.releaseAt = releaseAt
        self.extendAt = extendAt
    }
}

/// Why a call was not admitted, as the caller and the CDR see it.
public struct CallRefusal: Sendable, Hashable, Error, CustomStringConvertible {
    public enum Cause: String, Sendable, Hashable, Codable {
        case accountLocked
        /// The mapping gateway names an account that does not exist.
        case unknownAccount
        /// The account has no rate table, or no prefix of it matches the callee.
        case noRate
        /// Free credit does not buy the first interval plus the advance time.
        case insufficientCredit
        case concurrentLimit
    }

    public var cause: Cause
    public var detail: String

    public init(cause: Cause, detail: String) {
        self.cause = cause
        self.detail = detail
    }

    /// End reason for the CDR. A missing rate is reported as AccountBalanceNotEnough: the
    /// account has no credit for that destination, and VOS3000 operators already read that reason
    /// as "this customer cannot call there". A concurrency excess is RateLimited, the reason of the
    /// other admission limits (requirements §2).
    public var endReason: EndReason {
        switch cause {
        case .accountLocked, .unknownAccount: return .accountLocked
        case .noRate, .insufficientCredit: return .accountBalanceNotEnough
        case .concurrentLimit: return .rateLimited
        }
    }

    /// SIP final response for the caller: 403 for anything about the customer's account (retrying
    /// will not help), 503 for a limit that frees up (requirements §2 Decision).
    public var sipCode: Int {
        cause == .concurrentLimit ? 503 : 403
    }

    public var description: String { "\(endReason.rawValue) (\(sipCode)): \(detail)" }
}

/// The answer to a `CallAuthorizationRequest`.
public enum CallAuthorization: Sendable, Hashable {
    /// Credit is reserved; the call may proceed under this deadline.
    case granted(CallDeadline)
    case refused(CallRefusal)

    public var deadline: CallDeadline? {
        if case let .granted(deadline) = self { return deadline }
        return nil
    }

    public var refusal: CallRefusal? {
        if case let .refused(refusal) = self { return refusal }
        return nil
    }
}
