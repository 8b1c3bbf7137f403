#if canImport(Glibc)
import Glibc
#endif

/// Fans events out to the connections that subscribed. Created before the relay so the relay's
/// event callback can point at it, then handed to the server.
public final class MediaEventBroadcaster: @unchecked Sendable {
    // @unchecked: `subscribers` is guarded by `lock`.
    private let lock = ControlLock()
    private var subscribers: [ObjectIdentifier: ControlConnection] = [:]

    public init() {}

    func add(_ connection: ControlConnection) {
        lock.withLock { subscribers[ObjectIdentifier(connection)] = connection }
    }

    func remove(_ connection: ControlConnection) {
        _ = lock.withLock { subscribers.removeValue(forKey: ObjectIdentifier(connection)) }
    }

    /// Sends the event to every subscriber; a subscriber whose socket fails is dropped.
    public func publish(_ event: MediaEvent) {
        guard let line = try? MediaControlCodec.encode(event) else { return }
        let targets = lock.withLock { Array(subscribers.values) }
        for connection in targets where !connection.send(line) { remove(connection) }
    }

    public var subscriberCount: Int { lock.withLock { subscribers.count } }
}

/// A pthread mutex: Foundation's NSLock would do, but this module keeps its dependencies to Glibc.
final class ControlLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}
