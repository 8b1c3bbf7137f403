import MediaControl

/// Updates and deletes relay sessions on a thread of its own (`media-release`), in the
/// order the SIP loop queued them, so the loop never waits for them; a delete's completion gets
/// the session's final statistics (nil when they could not be had). Commands queued while the
/// thread waited go out as one pipelined batch.
final class MediaReleaser: Sendable {
    enum Command: Sendable {
        case update(session: String, leg: Int, remote: MediaEndpoint?, media: LegMedia?)
        case delete(session: String, completion: @Sendable (SessionInfo?) -> Void)
        case playDigits(session: String, leg: Int, digits: String, durationMilliseconds: Int,
                        completion: @Sendable (MediaControlFailure?) -> Void)

        var request: MediaRequest {
            switch self {
            case let .update(session, leg, remote, media):
                MediaRequest(id: 0, op: .update, session: session, leg: leg, remote: remote, media: media)
            case let .delete(session, _): MediaRequest(id: 0, op: .delete, session: session)
            case let .playDigits(session, leg, digits, duration, _):
                MediaRequest(id: 0, op: .dtmf, session: session, leg: leg, digits: digits, durationMs: duration)
            }
        }
    }

    private let worker: MediaControlWorker<Command>

    init(path: String) {
        worker = MediaControlWorker(path: path, threadName: "media-release") { worker, batch in
            let requests = batch.map(\.request)
            let replies = try? worker.perform { (client) throws(MediaControlFailure) in try client.exchange(requests) }.get()
            for (offset, command) in batch.enumerated() {
                let reply = replies?[offset]
                switch command {
                case let .delete(_, completion):
                    completion(reply?.ok == true ? reply?.sessions?.first : nil)
                case let .playDigits(_, _, _, _, completion):
                    completion(reply.map { $0.ok ? nil : $0.error ?? MediaControlFailure(.internalError, "refused without a reason") }
                        ?? MediaControlFailure(.connectionFailed, "vos-mediad did not answer"))
                case .update:
                    break
                }
            }
        }
    }

    func enqueue(_ command: Command) {
        worker.enqueue(command)
    }
}
