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
        /// Cluster mode: no local credit lease and the cluster database is unreachable.
        case clusterUnavailable
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
        case .clusterUnavailable: return .clusterUnavailable
        }
    }

    /// SIP final response for the caller: 403 for anything about the customer's account (retrying
    /// will not help), 503 for a limit that frees up (requirements §2 Decision) and for an
    /// unreachable cluster database.
    public var sipCode: Int {
        cause == .concurrentLimit || cause == .clusterUnavailable ? 503 : 403
    }

    public var description: String { "\(endReason.rawValue) (\(sipCode)): \(detail)" }
}
