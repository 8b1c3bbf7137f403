import Synchronization

/// The lock of control-path state in vos-mediad (subscribers, connection writes, the relay's
/// session directory and command queues), never taken per packet. A plain `Mutex` guarding the
/// caller's own fields, for state spread over several properties.
public final class ControlPathLock: Sendable {
    private let mutex = Mutex(())

    public init() {}

    public func withLock<T, Failure: Error>(_ body: () throws(Failure) -> T) throws(Failure) -> T {
        try mutex.withLock { _ throws(Failure) -> T in try body() }
    }
}
