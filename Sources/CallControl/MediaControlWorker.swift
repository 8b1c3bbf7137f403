import Foundation
import MediaControl

/// One named thread that runs requests to vos-mediad in the order they were queued, over a
/// connection of its own that it reopens once when vos-mediad restarted. Queueing never waits
/// for the work: the SIP loop hands requests over and goes on. The thread takes everything
/// queued since its last turn as one batch, which its handler pipelines on the connection.
final class MediaControlWorker<Request: Sendable>: @unchecked Sendable {
    // @unchecked: `pending` is guarded by `condition`'s lock; `client` is touched only on the
    // worker thread.
    private let path: String
    private let condition = NSCondition()
    private var pending: [Request] = []
    private var client: MediaControlClient?

    /// `handle` runs on the worker thread, once per batch (requests in queue order), with the
    /// worker to send through.
    init(path: String, threadName: String, handle: @escaping @Sendable (MediaControlWorker, [Request]) -> Void) {
        self.path = path
        let thread = Thread { [self] in
            // Set from inside: Foundation does not pass a name given before start() to the kernel.
            Thread.current.name = threadName
            BackgroundThreadPriority.lowerCurrentThread()
            while true {
                condition.lock()
                while pending.isEmpty { condition.wait() }
                let batch = pending
                pending.removeAll(keepingCapacity: true)
                condition.unlock()
                handle(self, batch)
            }
        }
        thread.start()
    }

    func enqueue(_ request: Request) {
        condition.lock()
        pending.append(request)
        condition.signal()
        condition.unlock()
    }

    /// Runs one exchange, reconnecting once if the connection broke. Worker thread only.
    func perform<T>(_ body: (MediaControlClient) throws(MediaControlFailure) -> T) -> Result<T, MediaControlFailure> {
        var lastFailure = MediaControlFailure(.connectionFailed, "vos-mediad not reached at \(path)")
        for _ in 0..<2 {
            do throws(MediaControlFailure) {
                let connected: MediaControlClient
                if let client { connected = client } else { connected = try MediaControlClient(path: path, replyTimeoutMilliseconds: 2000) }
                client = connected
                return .success(try body(connected))
            } catch {
                guard error.code == .connectionFailed else { return .failure(error) }
                client = nil
                lastFailure = error
            }
        }
        return .failure(lastFailure)
    }
}
