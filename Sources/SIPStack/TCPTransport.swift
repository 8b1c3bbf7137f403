import CVOSSys
import SIPCore
import VOSModel
#if canImport(Glibc)
import Glibc
#endif

/// SIP over TCP on the event loop (RFC 3261 §18): a nonblocking listener, incoming and outgoing
/// connections keyed by the remote address (so a response goes back on the connection its
/// request came in on, and a request to a peer reuses any connection to it), stream framing,
/// keep-alives, bounded write queues and idle/connection limits. See docs/SIP-TCP.md.
///
/// @unchecked Sendable: confined to its event loop thread; other threads use `loop.execute`.
public final class TCPTransport: @unchecked Sendable {
    public struct Counters: Sendable {
        public var accepted: UInt64 = 0
        /// Incoming connections closed at once because a limit was reached.
        public var refused: UInt64 = 0
        public var connected: UInt64 = 0
        public var connectFailures: UInt64 = 0
        /// Messages dropped because no connection could be made or kept.
        public var dropped: UInt64 = 0
        /// Connections closed because the peer did not read what we queued.
        public var overflows: UInt64 = 0
        public var framingErrors: UInt64 = 0
        public var idleClosed: UInt64 = 0
        public var keepAlivesAnswered: UInt64 = 0
    }

    public let listenDescriptor: Int32
    public let localAddress: SocketAddress
    public let limits: TCPTransportLimits
    public private(set) var counters = Counters()
    private let loop: EpollEventLoop
    private var dscp: Int
    private var connections: [SocketAddress: TCPConnection] = [:]
    private var incomingBySource: [IPAddress: Int] = [:]
    private var idleSweepStarted = false
    private static let readSize = 65_536
    // Preallocated once: every connection reads into it and hands the bytes to its framer.
    private let readBuffer: UnsafeMutableRawPointer

    /// Called on the loop thread for each complete message; the buffer is valid only during the call.
    public var onMessage: (UnsafeRawBufferPointer, SocketAddress) -> Void = { _, _ in }
    /// Called when a connection's stream cannot be framed (before it is answered and closed).
    public var onFramingError: (SocketAddress, SIPStreamFramingError) -> Void = { _, _ in }
    /// Whether a transaction or call still uses the peer; such connections are not closed idle.
    public var isInUse: (SocketAddress) -> Bool = { _ in false }

    public init(loop: EpollEventLoop, bind address: SocketAddress, dscp: Int, limits: TCPTransportLimits = TCPTransportLimits()) throws(TransportError) {
        self.loop = loop
        self.dscp = dscp
        self.limits = limits.clampedToDescriptorLimit
        let fd = socket(address.domain, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TransportError.system("socket (TCP)", errno) }
        var one: Int32 = 1
        // A restarted controller must rebind at once even with connections in TIME_WAIT.
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard address.withSockaddr({ bind(fd, $0, $1) }) == 0 else {
            let code = errno
            close(fd)
            throw TransportError.system("bind TCP \(address)", code)
        }
        guard listen(fd, 1024) == 0 else {
            let code = errno
            close(fd)
            throw TransportError.system("listen TCP \(address)", code)
        }
        listenDescriptor = fd
        localAddress = SocketAddress(boundTo: fd) ?? address
        readBuffer = UnsafeMutableRawPointer.allocate(byteCount: TCPTransport.readSize, alignment: 16)
        SignallingSocket.setDSCP(fd, family: address.family, dscp: dscp)
        do {
            try loop.register(fd) { [unowned self] _ in self.acceptConnections() }
        } catch {
            close(fd)
            readBuffer.deallocate()
            throw error
        }
    }

    deinit {
        for connection in connections.values { release(connection) }
        loop.unregister(listenDescriptor)
        close(listenDescriptor)
        readBuffer.deallocate()
    }

    public var connectionCount: Int { connections.count }

    /// Whether a connection to `address` is open or being opened (tests, status).
    public func hasConnection(to address: SocketAddress) -> Bool { connections[address] != nil }

    /// Starts the periodic idle check. Loop thread only.
    public func startIdleSweep() {
        guard !idleSweepStarted else { return }
        idleSweepStarted = true
        scheduleIdleSweep()
    }

    /// New connections get the new DSCP; open ones keep theirs until they reconnect.
    public func setDSCP(_ dscp: Int) {
        self.dscp = dscp
        SignallingSocket.setDSCP(listenDescriptor, family: localAddress.family, dscp: dscp)
    }

    // MARK: Sending

    /// Sends on the connection to `destination`, opening one if there is none. Loop thread only.
    public func send(_ bytes: [UInt8], to destination: SocketAddress) {
        let connection: TCPConnection
        if let existing = connections[destination], existing.state == .connecting || existing.state == .open {
            connection = existing
        } else if let opened = connect(to: destination) {
            connection = opened
        } else {
            counters.dropped += 1
            return
        }
        write(bytes, on: connection)
    }

    private func write(_ bytes: [UInt8], on connection: TCPConnection) {
        guard connection.queuedBytes + bytes.count <= limits.maximumQueuedBytes else {
            counters.overflows += 1
            counters.dropped += 1
            return release(connection)
        }
        connection.lastActivity = loop.now
        if connection.state == .open && !connection.hasPendingWrites {
            let (rest, error) = connection.writeDirectly(bytes)
            if error != nil { return release(connection) }
            connection.enqueue(rest)
        } else {
            connection.enqueue(bytes[...])
        }
        if connection.hasPendingWrites { watchWritable(connection, true) }
    }

    private func flushQueue(_ connection: TCPConnection) {
        switch connection.flush() {
        case .blocked:
            watchWritable(connection, true)
        case .failed:
            release(connection)
        case .drained:
            watchWritable(connection, false)
            if connection.state == .closing { halfCloseAndLinger(connection) }
        }
    }

    private func watchWritable(_ connection: TCPConnection, _ watch: Bool) {
        guard connection.watchesWritable != watch, connection.state != .closed else { return }
        connection.watchesWritable = watch
        loop.modify(connection.descriptor, events: TCPTransport.readEvents | (watch ? EPOLLOUT.rawValue : 0))
    }

    // MARK: Opening connections

    private func acceptConnections() {
        // Bounded per wake-up so a connection storm cannot starve calls in progress.
        for _ in 0..<64 {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = withUnsafeMutablePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(listenDescriptor, $0, &length) }
            }
            guard fd >= 0 else {
                let code = errno
                if code == EINTR || code == ECONNABORTED { continue }
                if code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM { pauseAccepting() }
                return
            }
            guard let remote = withUnsafePointer(to: &storage, { SocketAddress(storage: $0) }) else {
                close(fd)
                continue
            }
            let fromSource = incomingBySource[remote.address, default: 0]
            guard connections.count < limits.maximumConnections, fromSource < limits.maximumConnectionsPerSource else {
                counters.refused += 1
                close(fd)
                continue
            }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            if let stale = connections[remote] { release(stale) }
            guard adopt(fd, remote: remote, isOutbound: false, state: .open) != nil else { continue }
            counters.accepted += 1
            incomingBySource[remote.address, default: 0] += 1
        }
    }

    /// Out of descriptors: the listener would stay readable and spin the loop, so it is
    /// ignored for a second while connections close.
    private func pauseAccepting() {
        loop.modify(listenDescriptor, events: 0)
        loop.schedule(after: Duration.seconds(1)) { [weak self] in
            guard let self else { return }
            self.loop.modify(self.listenDescriptor, events: EPOLLIN.rawValue)
        }
    }

    private func connect(to destination: SocketAddress) -> TCPConnection? {
        if let stale = connections[destination] { release(stale) }
        guard connections.count < limits.maximumConnections else { return nil }
        let fd = socket(destination.domain, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            counters.connectFailures += 1
            return nil
        }
        // Leave from the signalling address, so the peer sees the IP it has configured for us.
        if localAddress.family == destination.family && !localAddress.address.isUnspecified {
            _ = SocketAddress(localAddress.address, port: 0).withSockaddr { bind(fd, $0, $1) }
        }
        let result = destination.withSockaddr { Glibc.connect(fd, $0, $1) }
        let code = errno
        guard result == 0 || code == EINPROGRESS else {
            counters.connectFailures += 1
            close(fd)
            return nil
        }
        guard let connection = adopt(fd, remote: destination, isOutbound: true, state: result == 0 ? .open : .connecting) else {
            counters.connectFailures += 1
            return nil
        }
        if connection.state == .connecting {
            watchWritable(connection, true)
            connection.connectTimer = loop.schedule(after: limits.connectTimeout) { [weak self, weak connection] in
                guard let self, let connection, connection.state == .connecting else { return }
                self.counters.connectFailures += 1
                self.counters.dropped += 1
                self.release(connection)
            }
        } else {
            counters.connected += 1
        }
        return connection
    }

    /// Puts a connected descriptor on the loop; closes it if that fails.
    private func adopt(_ fd: Int32, remote: SocketAddress, isOutbound: Bool, state: TCPConnection.State) -> TCPConnection? {
        var one: Int32 = 1
        // SIP messages are written whole; Nagle would only delay them.
        setsockopt(fd, Int32(IPPROTO_TCP), TCPTransport.tcpNoDelay, &one, socklen_t(MemoryLayout<Int32>.size))
        SignallingSocket.setDSCP(fd, family: remote.family, dscp: dscp)
        let connection = TCPConnection(descriptor: fd, remote: remote, isOutbound: isOutbound, state: state,
                                       maximumMessageSize: limits.maximumMessageSize, now: loop.now)
        do {
            try loop.register(fd, events: TCPTransport.readEvents) { [weak self, weak connection] events in
                guard let self, let connection else { return }
                self.handle(events, on: connection)
            }
        } catch {
            close(fd)
            return nil
        }
        connections[remote] = connection
        return connection
    }

    // MARK: Events

    private func handle(_ events: UInt32, on connection: TCPConnection) {
        if connection.state == .connecting {
            guard events & (EPOLLOUT.rawValue | EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 else { return }
            guard TCPTransport.connectSucceeded(connection.descriptor) else {
                counters.connectFailures += 1
                counters.dropped += UInt64(connection.hasPendingWrites ? 1 : 0)
                return release(connection)
            }
            loop.cancel(connection.connectTimer)
            connection.state = .open
            counters.connected += 1
            flushQueue(connection)
            return
        }
        if events & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 {
            readAvailable(connection)
        }
        if events & EPOLLOUT.rawValue != 0, connection.state == .open || connection.state == .closing {
            flushQueue(connection)
        }
    }

    private func readAvailable(_ connection: TCPConnection) {
        // Bounded per wake-up: level-triggered epoll brings us back for the rest.
        for _ in 0..<16 {
            let count = read(connection.descriptor, readBuffer, TCPTransport.readSize)
            if count == 0 { return release(connection) }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                if code != EAGAIN && code != EWOULDBLOCK { release(connection) }
                return
            }
            connection.lastActivity = loop.now
            // While closing, input is read only so the kernel does not answer our FIN with a reset.
            guard connection.state == .open else { continue }
            connection.framer.append(UnsafeRawBufferPointer(start: readBuffer, count: count))
            deliverFrames(connection)
            if count < TCPTransport.readSize { return }
        }
    }

    private func deliverFrames(_ connection: TCPConnection) {
        // Each message may make the B2BUA write to, or close, this very connection.
        while connection.state == .open, let frame = connection.framer.next() {
            switch frame {
            case let .message(bytes):
                bytes.withUnsafeBytes { onMessage($0, connection.remote) }
            case .keepAlivePing:
                counters.keepAlivesAnswered += 1
                write(TCPTransport.pong, on: connection)
            case let .malformed(error):
                counters.framingErrors += 1
                onFramingError(connection.remote, error)
                if let headerSection = error.headerSection,
                   let response = SIPBadRequest.response(for: headerSection, error: error.parseError) {
                    write(response.serialized(), on: connection)
                }
                guard connection.state == .open else { return }
                connection.state = .closing
                if !connection.hasPendingWrites { halfCloseAndLinger(connection) }
            }
        }
    }

    // MARK: Closing

    /// Our side is done: FIN now, and the descriptor goes when the peer closes or after the linger.
    private func halfCloseAndLinger(_ connection: TCPConnection) {
        guard connection.lingerTimer == nil else { return }
        shutdown(connection.descriptor, Int32(SHUT_WR))
        connection.lingerTimer = loop.schedule(after: limits.closeLinger) { [weak self, weak connection] in
            guard let self, let connection else { return }
            self.release(connection)
        }
    }

    private func release(_ connection: TCPConnection) {
        guard connection.state != .closed else { return }
        connection.state = .closed
        loop.cancel(connection.connectTimer)
        loop.cancel(connection.lingerTimer)
        connection.discardPendingWrites()
        loop.unregister(connection.descriptor)
        close(connection.descriptor)
        if connections[connection.remote] === connection { connections[connection.remote] = nil }
        if !connection.isOutbound {
            let key = connection.remote.address
            let remaining = incomingBySource[key, default: 1] - 1
            incomingBySource[key] = remaining > 0 ? remaining : nil
        }
    }

    private func scheduleIdleSweep() {
        // Checking a few times per timeout is precise enough and costs one timer in total.
        let period = max(Duration.seconds(1), min(limits.idleTimeout / 4, Duration.seconds(30)))
        loop.schedule(after: period) { [weak self] in
            guard let self else { return }
            self.closeIdleConnections()
            self.scheduleIdleSweep()
        }
    }

    private func closeIdleConnections() {
        let now = loop.now
        let idle = connections.values.filter {
            $0.state == .open && !$0.hasPendingWrites && now &- $0.lastActivity >= limits.idleTimeout.nanoseconds
        }
        for connection in idle where !isInUse(connection.remote) {
            counters.idleClosed += 1
            release(connection)
        }
    }

    // MARK: Socket helpers

    private static let readEvents = EPOLLIN.rawValue | EPOLLRDHUP.rawValue
    private static let pong: [UInt8] = [UInt8(ascii: "\r"), UInt8(ascii: "\n")]
    /// From <netinet/tcp.h>, which the Glibc module does not export.
    private static let tcpNoDelay: Int32 = 1

    private static func connectSucceeded(_ fd: Int32) -> Bool {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0, error == 0 else { return false }
        // SO_ERROR is 0 both when connected and when still in progress; the peer name tells them apart.
        var storage = sockaddr_storage()
        var nameLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        return withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &nameLength) == 0 }
        }
    }
}
