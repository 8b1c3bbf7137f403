#if canImport(Glibc)
import Glibc
#endif

/// One SIP TCP connection, owned by `TCPTransport` on the loop thread: its descriptor, the
/// framer for what it reads and the bytes it could not write yet.
final class TCPConnection {
    enum State {
        /// Outgoing, nonblocking connect in progress; writes wait in the queue.
        case connecting
        case open
        /// A framing error was answered: flush, then half-close and wait briefly for the peer.
        case closing
        /// Descriptor released; the object only lingers in closures about to be dropped.
        case closed
    }

    let descriptor: Int32
    let remote: SocketAddress
    let isOutbound: Bool
    var state: State
    var framer: SIPStreamFramer
    var lastActivity: UInt64
    var connectTimer: TimerID?
    var lingerTimer: TimerID?
    /// Whether EPOLLOUT is currently requested (only while the queue is not empty or connecting).
    var watchesWritable = false
    private(set) var pending: [[UInt8]] = []
    /// Bytes of `pending.first` already written.
    private var firstOffset = 0
    private(set) var queuedBytes = 0

    init(descriptor: Int32, remote: SocketAddress, isOutbound: Bool, state: State, maximumMessageSize: Int, now: UInt64) {
        self.descriptor = descriptor
        self.remote = remote
        self.isOutbound = isOutbound
        self.state = state
        self.framer = SIPStreamFramer(maximumMessageSize: maximumMessageSize)
        self.lastActivity = now
    }

    var hasPendingWrites: Bool { !pending.isEmpty }

    func enqueue(_ bytes: ArraySlice<UInt8>) {
        guard !bytes.isEmpty else { return }
        pending.append(Array(bytes))
        queuedBytes += bytes.count
    }

    enum WriteOutcome {
        /// Everything handed to the kernel.
        case drained
        /// The socket buffer is full; wait for EPOLLOUT.
        case blocked
        case failed(Int32)
    }

    /// Writes as much of the queue as the socket takes.
    func flush() -> WriteOutcome {
        while let first = pending.first {
            let written = first.withUnsafeBytes { raw in
                send(descriptor, raw.baseAddress.map { $0 + firstOffset }, raw.count - firstOffset, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if written < 0 {
                let code = errno
                if code == EINTR { continue }
                if code == EAGAIN || code == EWOULDBLOCK { return .blocked }
                return .failed(code)
            }
            queuedBytes -= written
            firstOffset += written
            if firstOffset == first.count {
                pending.removeFirst()
                firstOffset = 0
            } else {
                return .blocked
            }
        }
        return .drained
    }

    /// Writes `bytes` at once when nothing is queued; returns what the socket did not take.
    func writeDirectly(_ bytes: [UInt8]) -> (rest: ArraySlice<UInt8>, error: Int32?) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                send(descriptor, raw.baseAddress.map { $0 + offset }, raw.count - offset, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if written < 0 {
                let code = errno
                if code == EINTR { continue }
                if code == EAGAIN || code == EWOULDBLOCK { break }
                return (bytes[offset...], code)
            }
            offset += written
        }
        return (bytes[offset...], nil)
    }

    func discardPendingWrites() {
        pending.removeAll()
        firstOffset = 0
        queuedBytes = 0
    }
}
