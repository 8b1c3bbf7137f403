import Foundation
import MediaControl

/// Creates relay sessions on a thread of its own, in the order calls asked, and hands each
/// answer to its completion. The SIP loop only queues: a call waits for its ports in its own
/// state (`CallSession.Routing.awaitingMedia`), never the loop.
final class MediaCreator: @unchecked Sendable {
    struct Request {
        let tag: String
        let customerRemote: MediaEndpoint?
        let completion: @Sendable (Result<CreatedMediaSession, MediaControlFailure>) -> Void
    }

    // @unchecked: `pending` is guarded by `condition`'s lock; `client` is touched only on the
    // creator thread.
    private let path: String
    private let condition = NSCondition()
    private var pending: [Request] = []
    private var client: MediaControlClient?

    init(path: String) {
        self.path = path
        let thread = Thread { [self] in self.run() }
        thread.name = "vos-media-create"
        thread.start()
    }

    func enqueue(tag: String, customerRemote: MediaEndpoint?,
                 completion: @escaping @Sendable (Result<CreatedMediaSession, MediaControlFailure>) -> Void) {
        condition.lock()
        pending.append(Request(tag: tag, customerRemote: customerRemote, completion: completion))
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
            for request in batch { request.completion(create(request)) }
        }
    }

    /// One create, reconnecting once if the connection broke (vos-mediad restarted).
    private func create(_ request: Request) -> Result<CreatedMediaSession, MediaControlFailure> {
        var lastFailure = MediaControlFailure(.connectionFailed, "vos-mediad not reached")
        for _ in 0..<2 {
            do throws(MediaControlFailure) {
                let connected: MediaControlClient
                if let client { connected = client } else { connected = try MediaControlClient(path: path, replyTimeoutMilliseconds: 2000) }
                client = connected
                let info = try connected.create(tag: request.tag, legs: [LegRequest(remote: request.customerRemote), LegRequest()])
                guard info.legs.count == 2 else {
                    return .failure(MediaControlFailure(.internalError, "vos-mediad returned \(info.legs.count) legs for a two-leg session"))
                }
                return .success(CreatedMediaSession(session: info.session, customerSide: info.legs[0].local, vendorSide: info.legs[1].local))
            } catch {
                guard error.code == .connectionFailed else { return .failure(error) }
                client = nil
                lastFailure = error
            }
        }
        return .failure(lastFailure)
    }
}
