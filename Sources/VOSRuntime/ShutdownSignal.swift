import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Blocks the calling thread until SIGTERM or SIGINT, so a daemon stops cleanly under systemd
/// and at the terminal.
public enum ShutdownSignal {
    /// Returns the name of the signal that arrived.
    public static func wait() -> String {
        let received = SignalBox()
        let semaphore = DispatchSemaphore(value: 0)
        var sources: [DispatchSourceSignal] = []
        for (number, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                received.set(name)
                semaphore.signal()
            }
            source.resume()
            sources.append(source)
        }
        semaphore.wait()
        sources.forEach { $0.cancel() }
        return received.get()
    }
}

private final class SignalBox: @unchecked Sendable {
    // Guarded by `lock`; written once from the signal queue, read after the semaphore.
    private let lock = NSLockLite()
    private var name = "signal"

    func set(_ value: String) { lock.withLock { name = value } }
    func get() -> String { lock.withLock { name } }
}

final class NSLockLite: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}
