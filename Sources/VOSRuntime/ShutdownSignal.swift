import Dispatch
import Synchronization
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

private final class SignalBox: Sendable {
    private let name = Mutex("signal")

    func set(_ value: String) { name.withLock { $0 = value } }
    func get() -> String { name.withLock { $0 } }
}
