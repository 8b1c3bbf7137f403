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

/// A routing gateway that matches the callee, with the prefix it matched on.
public struct RouteCandidate: Sendable, Equatable {
    public let gateway: RoutingGateway
    public let matchedPrefix: String

    /// The number sent to the vendor: the callee after the gateway's strip/add rule.
    public func outboundCallee(_ callee: String) -> String { gateway.calleeRewrite.apply(to: callee) }
}

/// Why a candidate was passed over without being tried.
public enum SkipReason: String, Sendable, Equatable {
    case lineLimit = "line limit"
    case cpsLimit = "cps limit"
    case offline = "offline"
    case vendorCredit = "vendor balance"
    case protectRouteStandby = "protect route on standby"
    case switchLimit = "switch limit"
}

public enum RoutePlanner {
    /// Every enabled gateway with a prefix of `callee`, ordered as requirements §2 says: longest
    /// matching prefix, then priority (1 first), then load (active calls / line limit, least
    /// loaded first), then name, so the order is stable.
    public static func candidates(for callee: String, among gateways: [RoutingGateway],
                                  status: (String) -> GatewayStatus) -> [RouteCandidate] {
        var matched: [(candidate: RouteCandidate, load: Double)] = []
        for gateway in gateways where gateway.enabled {
            guard let prefix = gateway.prefixes.filter({ callee.hasPrefix($0) }).max(by: { $0.count < $1.count }) else { continue }
            let active = status(gateway.name).activeCalls
            let load = gateway.lineLimit > 0 ? Double(active) / Double(gateway.lineLimit) : Double(active) / 1_000_000
            matched.append((RouteCandidate(gateway: gateway, matchedPrefix: prefix), load))
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
        return matched.map(\.candidate)
    }
}
