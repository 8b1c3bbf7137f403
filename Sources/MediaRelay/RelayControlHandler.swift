import MediaControl

/// Maps control requests onto the engine and the engine's errors onto protocol failures.
public struct RelayControlHandler: MediaControlHandler {
    private let engine: RelayEngine

    public init(engine: RelayEngine) { self.engine = engine }

    public func handle(_ request: MediaRequest) throws(MediaControlFailure) -> [SessionInfo] {
        do throws(RelayError) {
            switch request.op {
            case .create:
                return [try engine.createSession(tag: request.tag, legs: request.legs ?? [LegRequest(), LegRequest()])]
            case .update:
                let session = try require(request.session, "session", for: request)
                let leg = try require(request.leg, "leg", for: request)
                try applyUpdate(request, session: session, leg: leg)
                return try engine.statistics(session: session)
            case .delete:
                return [try engine.deleteSession(try require(request.session, "session", for: request))]
            case .stats:
                return try engine.statistics(session: request.session)
            case .subscribe, .ping:
                return []
            case .dtmf:
                let session = try require(request.session, "session", for: request)
                let leg = try require(request.leg, "leg", for: request)
                try engine.playDigits(session: session, leg: leg, digits: try require(request.digits, "digits", for: request),
                                      durationMilliseconds: request.durationMs ?? 100)
                return []
            case .firewallApply, .firewallAudit, .ban, .unban, .bans:
                return try refuseNonMedia(request)
            }
        } catch {
            throw error.failure
        }
    }

    /// Runs of updates and deletes (what the controller's release thread pipelines) are carried
    /// out together: updates applied in order, one statistics snapshot for their replies, then
    /// one engine call for the deletes; the replies are those of doing them one by one (an
    /// update after a delete of its session finds it gone). Everything else is taken in order.
    public func handle(batch requests: [MediaRequest]) -> [Result<[SessionInfo], MediaControlFailure>] {
        var results: [Result<[SessionInfo], MediaControlFailure>] = []
        results.reserveCapacity(requests.count)
        var index = 0
        while index < requests.count {
            var end = index
            while end < requests.count, requests[end].op == .update || requests[end].op == .delete { end += 1 }
            if end - index > 1 {
                results += handleReleaseRun(requests[index..<end])
                index = end
                continue
            }
            let request = requests[index]
            results.append(Result { () throws(MediaControlFailure) in try handle(request) })
            index += 1
        }
        return results
    }

    private func handleReleaseRun(_ run: ArraySlice<MediaRequest>) -> [Result<[SessionInfo], MediaControlFailure>] {
        var results: [Result<[SessionInfo], MediaControlFailure>?] = Array(repeating: nil, count: run.count)
        var updated: [(offset: Int, session: String)] = []
        var deleted: [(offset: Int, session: String)] = []
        var deletedSessions = Set<String>()
        for (offset, request) in run.enumerated() {
            do throws(RelayError) {
                let session = try require(request.session, "session", for: request)
                if request.op == .delete {
                    deleted.append((offset, session))
                    deletedSessions.insert(session)
                    continue
                }
                let leg = try require(request.leg, "leg", for: request)
                guard !deletedSessions.contains(session) else { throw .unknownSession(session) }
                try applyUpdate(request, session: session, leg: leg)
                updated.append((offset, session))
            } catch {
                results[offset] = .failure(error.failure)
            }
        }
        if !updated.isEmpty {
            do {
                let infos = try engine.statistics(sessions: updated.map(\.session))
                for entry in updated {
                    results[entry.offset] = infos[entry.session].map { .success([$0]) }
                        ?? .failure(RelayError.unknownSession(entry.session).failure)
                }
            } catch {
                for entry in updated { results[entry.offset] = .failure(error.failure) }
            }
        }
        for (entry, outcome) in zip(deleted, engine.deleteSessions(deleted.map(\.session))) {
            results[entry.offset] = outcome.map { [$0] }.mapError(\.failure)
        }
        return results.map { $0 ?? .failure(MediaControlFailure(.internalError, "request not carried out")) }
    }

    /// An update sets the leg's format, its remote address, or both (the format first, so the
    /// first packets to the new address already take the right path).
    private func applyUpdate(_ request: MediaRequest, session: String, leg: Int) throws(RelayError) {
        guard request.remote != nil || request.media != nil else { throw .invalidRequest("update needs \"remote\" or \"media\"") }
        if let media = request.media { try engine.setMedia(session: session, leg: leg, media: media) }
        if let remote = request.remote { try engine.setRemote(session: session, leg: leg, remote: remote) }
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
