import Foundation
import MediaControl
import SIPStack

/// Updates and deletes relay sessions on a thread of its own, in the order the SIP loop queued
/// them, so the loop never waits for them (only `create`, whose ports go into the SDP, does).
final class MediaReleaser: @unchecked Sendable {
    enum Command: Sendable {
        case update(session: String, leg: Int, remote: MediaEndpoint)
        case delete(session: String, completion: @Sendable (SessionInfo?) -> Void)
    }

    // @unchecked: `pending` and `client` are guarded by `condition`'s lock / touched only on the
    // releaser thread.
    private let path: String
    private let condition = NSCondition()
    private var pending: [Command] = []
    private var client: MediaControlClient?

    init(path: String) {
        self.path = path
        let thread = Thread { [self] in self.run() }
        thread.name = "vos-media-release"
        thread.start()
    }

    func enqueue(_ command: Command) {
        condition.lock()
        pending.append(command)
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
            for command in batch {
                switch command {
                case let .update(session, leg, remote):
                    _ = perform { try $0.update(session: session, leg: leg, remote: remote) }
                case let .delete(session, completion):
                    completion(perform { try $0.delete(session: session) } ?? nil)
                }
            }
        }
    }

    /// Runs one request, reconnecting once if the connection broke; nil when it failed.
    private func perform<T>(_ body: (MediaControlClient) throws -> T) -> T? {
        for _ in 0..<2 {
            do {
                let connected = try client ?? MediaControlClient(path: path, replyTimeoutMilliseconds: 2000)
                client = connected
                return try body(connected)
            } catch let failure as MediaControlFailure where failure.code != .connectionFailed {
                return nil
            } catch {
                client = nil
            }
        }
        return nil
    }
}
