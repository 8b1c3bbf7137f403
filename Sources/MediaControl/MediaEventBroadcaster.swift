
/// Fans events out to the connections that subscribed. Created before the relay so the relay's
/// event callback can point at it, then handed to the server.
public final class MediaEventBroadcaster: @unchecked Sendable {
    // @unchecked: `subscribers` is guarded by `lock`.
    private let lock = ControlPathLock()
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
        let line = MediaControlCodec.encode(event)
        let targets = lock.withLock { Array(subscribers.values) }
        for connection in targets where !connection.send(line) { remove(connection) }
    }

    public var subscriberCount: Int { lock.withLock { subscribers.count } }
}
