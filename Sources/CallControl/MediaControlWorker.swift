import Foundation
import MediaControl

/// Runs requests to vos-mediad on a `BatchingThread` of its own, in the order they were queued,
/// over a connection of its own that it reopens once when vos-mediad restarted. Queueing never
/// waits for the work: the SIP loop hands requests over and goes on; each batch is pipelined on
/// the connection by the handler.
final class MediaControlWorker<Request: Sendable>: @unchecked Sendable {
    // @unchecked: `client` is touched only on the worker thread.
    private let path: String
    private var client: MediaControlClient?
    private let thread: BatchingThread<Request>

    /// `handle` runs on the worker thread, once per batch (requests in queue order), with the
    /// worker to send through.
    init(path: String, threadName: String, handle: @escaping @Sendable (MediaControlWorker, [Request]) -> Void) {
        self.path = path
        thread = BatchingThread(name: threadName)
        thread.start { [unowned self] batch in handle(self, batch) }
    }

    func enqueue(_ request: Request) {
        thread.enqueue(request)
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
