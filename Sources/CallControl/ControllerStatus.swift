import MediaControl
import SIPStack
import VOSModel

/// What `vosctl calls` shows: one row per call in progress.
public struct CallView: Codable, Sendable {
    public var callID: String
    public var state: String
    public var caller: String
    public var callee: String
    public var calleeSent: String?
    public var account: String?
    public var mappingGateway: String
    public var routingGateway: String?
    public var callerCodec: String?
    public var calleeCodec: String?
    /// How DTMF is sent toward each leg (`rfc2833`, `info`, `inband`), once negotiated.
    public var callerDTMF: String?
    public var calleeDTMF: String?
    public var setupTime: Int64
    public var answerTime: Int64?
    public var durationSeconds: Int
    public var mediaSession: String?
    public var media: SessionInfo?
}

/// What `vosctl gateway status` shows: one row per routing and mapping gateway.
public struct GatewayView: Codable, Sendable {
    public var name: String
    public var kind: String
    public var online: Bool
    public var currentCalls: Int
    public var callsPerSecond: Int
    public var cpsLimit: Int
    public var lineLimit: Int
    public var lastOptionsAnswer: Int64?
}

extension B2BUA {
    /// Calls in progress, with the relay's statistics when `mediaStatistics` is given.
    public func callViews(mediaStatistics: [String: SessionInfo] = [:]) -> [CallView] {
        var seen = Set<ObjectIdentifier>()
        var views: [CallView] = []
        for entry in dialogs.values where entry.side == .customer {
            let session = entry.session
            guard seen.insert(ObjectIdentifier(session)).inserted, !session.isEnded else { continue }
            let duration = session.answerMonotonic.map { Int((loop.now - $0) / 1_000_000_000) } ?? 0
            views.append(CallView(
                callID: session.callID, state: session.isConfirmed ? "connected" : "routing",
                caller: session.callerReceived, callee: session.calleeReceived,
                calleeSent: session.lastCandidate?.calleeOut, account: session.account,
                mappingGateway: session.mappingGateway.name, routingGateway: session.lastCandidate?.gateway.name,
                callerCodec: session.callerCodec, calleeCodec: session.calleeCodec, callerDTMF: session.callerDTMF,
                calleeDTMF: session.calleeDTMF, setupTime: session.setupTime,
                answerTime: session.answerTime, durationSeconds: duration, mediaSession: session.mediaSession,
                media: session.mediaSession.flatMap { mediaStatistics[$0] }))
        }
        return views.sorted { $0.setupTime < $1.setupTime }
    }

    public func gatewayViews() -> [GatewayView] {
        var views: [GatewayView] = []
        for gateway in snapshot.routingGateways {
            let state = health.state(gateway.name)
            views.append(GatewayView(
                name: gateway.name, kind: "routing",
                online: state.online && snapshot.vendorAddresses[gateway.name] != nil,
                currentCalls: activeByVendor[gateway.name, default: 0],
                callsPerSecond: health.callsPerSecond(gateway.name, now: loop.now),
                cpsLimit: gateway.cpsLimit, lineLimit: gateway.lineLimit, lastOptionsAnswer: state.lastAnswer))
        }
        for gateway in snapshot.mappingGateways.values.sorted(by: { $0.name < $1.name }) {
            views.append(GatewayView(
                name: gateway.name, kind: "mapping", online: gateway.enabled,
                currentCalls: activeByMapping[gateway.name, default: 0], callsPerSecond: 0,
                cpsLimit: gateway.cpsLimit, lineLimit: gateway.concurrentLimit, lastOptionsAnswer: nil))
        }
        return views
    }

    public var mediaSessionIDs: [String] { Array(callsByMediaSession.keys) }
}
