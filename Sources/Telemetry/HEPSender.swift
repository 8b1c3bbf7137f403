import Sockets
#if canImport(Glibc)
import Glibc
#endif

/// A HEP socket that cannot be opened: the step that failed and the kernel's reason.
public struct HEPSenderError: Error, Sendable, Equatable, CustomStringConvertible {
    public let step: String
    public let destination: SocketAddress
    public let code: Int32

    public var description: String {
        "HEP capture to \(destination): \(step) failed: \(String(cString: strerror(code))) (errno \(code))"
    }
}

/// Sends each captured SIP message as one HEP3 datagram (`HEPEncoder`) to a Homer collector,
/// Kamailio's sipcapture or `sngrep -L`, from one nonblocking UDP socket connected to it.
///
/// Called on the SIP thread for every message, so it never waits: a datagram the socket will
/// not take at once (buffer full, receiver unreachable) is dropped and counted, as capture must
/// never slow calls down. Encodes into one buffer allocated at start; nothing per message.
/// It owns the socket only: what to capture and when is the caller's.
///
/// @unchecked Sendable: used by one thread at a time (the SIP thread); it is created and
/// replaced there on configuration changes.
public final class HEPSender: @unchecked Sendable {
    public struct Counters: Sendable, Equatable {
        /// Datagrams the kernel took.
        public var sent: UInt64 = 0
        /// Messages not sent: socket buffer full, receiver unreachable, or too large for HEP.
        public var dropped: UInt64 = 0
        /// errno of the last failed send, 0 when none failed.
        public var lastError: Int32 = 0
    }

    public let destination: SocketAddress
    public let encoder: HEPEncoder
    public private(set) var counters = Counters()
    private let descriptor: Int32
    private let buffer: UnsafeMutableRawBufferPointer

    public init(destination: SocketAddress, encoder: HEPEncoder) throws(HEPSenderError) {
        self.destination = destination
        self.encoder = encoder
        let fd = socket(destination.domain, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw HEPSenderError(step: "socket", destination: destination, code: errno) }
        // Room for a burst of messages while the collector or the network is slow.
        var size: Int32 = 4 << 20
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        // Connected: the kernel keeps the route, and a collector that is down shows as ECONNREFUSED.
        guard destination.withSockaddr({ connect(fd, $0, $1) }) == 0 else {
            let code = errno
            close(fd)
            throw HEPSenderError(step: "connect", destination: destination, code: code)
        }
        descriptor = fd
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: HEPEncoder.maximumPacket, alignment: 8)
    }

    deinit {
        close(descriptor)
        buffer.deallocate()
    }

    /// Encodes and sends one message; false (and counted) when it was dropped.
    @discardableResult
    public func send(_ message: UnsafeRawBufferPointer, source: SocketAddress, destination: SocketAddress,
                     transport: HEPEncoder.Transport, seconds: UInt32, microseconds: UInt32) -> Bool {
        guard let length = encoder.encode(message, source: source, destination: destination, transport: transport,
                                          seconds: seconds, microseconds: microseconds, into: buffer) else {
            counters.dropped += 1
            return false
        }
        while true {
            let written = Glibc.send(descriptor, buffer.baseAddress, length, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
            if written == length {
                counters.sent += 1
                return true
            }
            let code = written < 0 ? errno : EMSGSIZE
            if code == EINTR { continue }
            counters.dropped += 1
            counters.lastError = code
            return false
        }
    }
}
