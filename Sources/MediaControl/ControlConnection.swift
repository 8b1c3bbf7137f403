/// One accepted control connection: its stream plus a write lock, because replies (from the
/// connection's own thread) and events (from the relay's event queue) share the socket.
final class ControlConnection: @unchecked Sendable {
    // @unchecked: writes are serialised by `writeLock`; reads happen only on the connection thread.
    let stream: UnixStream
    private let writeLock = ControlPathLock()

    init(stream: UnixStream) { self.stream = stream }

    /// False when the peer is gone.
    func send(_ line: [UInt8]) -> Bool {
        writeLock.withLock {
            do { try stream.write(line); return true } catch { return false }
        }
    }
}
