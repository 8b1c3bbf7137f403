import Foundation
import MediaControl
import SIPStack

/// Deletes relay sessions on a thread of its own, in order, so the SIP loop only queues them.
final class MediaReleaser: @unchecked Sendable {
    // @unchecked: `pending` and `client` are guarded by `condition`'s lock / touched only on the
    // releaser thread.
    private let path: String
    private let condition = NSCondition()
    private var pending: [(session: String, completion: @Sendable (SessionInfo?) -> Void)] = []
    private var client: MediaControlClient?

    init(path: String) {
        self.path = path
        let thread = Thread { [self] in self.run() }
        thread.name = "vos-media-release"
        thread.start()
    }

    func release(_ session: String, completion: @escaping @Sendable (SessionInfo?) -> Void) {
        condition.lock()
        pending.append((session, completion))
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while pending.isEmpty { condition.wait() }
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            condition.unlock()
            for item in batch { item.completion(delete(item.session)) }
        }
    }

    private func delete(_ session: String) -> SessionInfo? {
        for _ in 0..<2 {
            do {
                let connected = try client ?? MediaControlClient(path: path, replyTimeoutMilliseconds: 2000)
                client = connected
                return try connected.delete(session: session)
            } catch {
                client = nil
            }
        }
        return nil
    }
}
