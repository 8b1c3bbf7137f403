import MediaControl

/// Updates and deletes relay sessions on a thread of its own (`vos-media-release`), in the
/// order the SIP loop queued them, so the loop never waits for them; a delete's completion gets
/// the session's final statistics (nil when they could not be had).
final class MediaReleaser: Sendable {
    enum Command: Sendable {
        case update(session: String, leg: Int, remote: MediaEndpoint)
        case delete(session: String, completion: @Sendable (SessionInfo?) -> Void)
    }

    private let worker: MediaControlWorker<Command>

    init(path: String) {
        worker = MediaControlWorker(path: path, threadName: "vos-media-release") { worker, command in
            switch command {
            case let .update(session, leg, remote):
                _ = worker.perform { (client) throws(MediaControlFailure) in try client.update(session: session, leg: leg, remote: remote) }
            case let .delete(session, completion):
                let deleted = worker.perform { (client) throws(MediaControlFailure) in try client.delete(session: session) }
                completion((try? deleted.get()) ?? nil)
            }
        }
    }

    func enqueue(_ command: Command) {
        worker.enqueue(command)
    }
}
