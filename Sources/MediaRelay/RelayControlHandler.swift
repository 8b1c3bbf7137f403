import MediaControl

/// Maps control requests onto the engine and the engine's errors onto protocol failures.
public struct RelayControlHandler: MediaControlHandler {
    private let engine: RelayEngine

    public init(engine: RelayEngine) { self.engine = engine }

    public func handle(_ request: MediaRequest) throws(MediaControlFailure) -> [SessionInfo] {
        do {
            switch request.op {
            case .create:
                return [try engine.createSession(tag: request.tag, legs: request.legs ?? [LegRequest(), LegRequest()])]
            case .update:
                let session = try require(request.session, "session", for: request)
                let leg = try require(request.leg, "leg", for: request)
                let remote = try require(request.remote, "remote", for: request)
                try engine.setRemote(session: session, leg: leg, remote: remote)
                return try engine.statistics(session: session)
            case .delete:
                return [try engine.deleteSession(try require(request.session, "session", for: request))]
            case .stats:
                return try engine.statistics(session: request.session)
            case .subscribe, .ping:
                return []
            case .firewallApply, .firewallAudit, .ban, .unban, .bans:
                return try refuseNonMedia(request)
            }
        } catch {
            throw error.failure
        }
    }

    /// Firewall operations go to the daemon's firewall service; reaching here is a wiring mistake.
    private func refuseNonMedia(_ request: MediaRequest) throws(RelayError) -> [SessionInfo] {
        throw .invalidRequest("\(request.op.rawValue) is a firewall operation, not a media one")
    }

    private func require<Value>(_ value: Value?, _ field: String, for request: MediaRequest) throws(RelayError) -> Value {
        guard let value else { throw .invalidRequest("\(request.op.rawValue) needs \"\(field)\"") }
        return value
    }
}
