import CMnl
import CNftnl
import Glibc

/// A NETLINK_NETFILTER socket in the calling thread's network namespace. Sends nf_tables
/// batches (every message acknowledged, so a failure names the message that caused it) and runs
/// dumps. Not thread-safe: each owner keeps its own.
final class NetlinkSocket {
    private let socket: OpaquePointer
    private let portID: UInt32
    private var nextSequence: UInt32
    private static let receiveBufferSize = 1 << 18

    init() throws {
        guard let socket = mnl_socket_open(NETLINK_NETFILTER) else {
            throw NetlinkSocket.failure("open netfilter netlink socket", errno)
        }
        guard mnl_socket_bind(socket, 0, pid_t(MNL_SOCKET_AUTOPID)) == 0 else {
            let code = errno
            mnl_socket_close(socket)
            throw NetlinkSocket.failure("bind netfilter netlink socket", code)
        }
        self.socket = socket
        self.portID = mnl_socket_get_portid(socket)
        self.nextSequence = UInt32(truncatingIfNeeded: time(nil))
        // A stuck kernel must not hang the daemon or a test.
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        _ = setsockopt(mnl_socket_get_fd(socket), SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { mnl_socket_close(socket) }

    func sequence() -> UInt32 {
        nextSequence &+= 1
        return nextSequence
    }

    /// Errno values that mean "this process or kernel cannot do packet filtering at all".
    static func failure(_ operation: String, _ code: Int32) -> NetfilterError {
        let reason = String(cString: strerror(code))
        switch code {
        case EPERM, EACCES, EOPNOTSUPP, EPROTONOSUPPORT, EAFNOSUPPORT:
            return .unavailable(operation: operation, errno: code, reason: reason)
        default:
            return .kernel(operation: operation, errno: code, reason: reason)
        }
    }

    /// Sends one transaction; the kernel applies all of it or none of it.
    func send(_ batch: NetlinkBatch) throws {
        let bytes = batch.finish()
        let fd = mnl_socket_get_fd(socket)
        var sendBuffer = Int32(bytes.count + 65536)
        // Batches bigger than the default socket buffer would fail with EMSGSIZE.
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sendBuffer, socklen_t(MemoryLayout<Int32>.size))
        let sent = bytes.withUnsafeBytes { mnl_socket_sendto(socket, $0.baseAddress, $0.count) }
        guard sent == bytes.count else { throw Self.failure("send nf_tables batch", errno) }
        try collectAcknowledgements(batch)
    }

    private func collectAcknowledgements(_ batch: NetlinkBatch) throws {
        var pending = Set(batch.acknowledged.keys)
        var firstError: NetfilterError?
        // Not zeroed (only what recv filled is read): clearing 256 KiB per batch was most of the
        // cost of a relay session's capture update in vos-mediad's profile.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.receiveBufferSize, alignment: 8)
        defer { buffer.deallocate() }
        while !pending.isEmpty {
            let received = mnl_socket_recvfrom(socket, buffer.baseAddress, buffer.count)
            if received < 0 {
                if errno == EINTR { continue }
                throw firstError ?? Self.failure("receive nf_tables acknowledgements", errno)
            }
            do {
                let raw = UnsafeRawBufferPointer(buffer)
                var offset = 0
                while offset + MemoryLayout<nlmsghdr>.size <= received {
                    let header = raw.loadUnaligned(fromByteOffset: offset, as: nlmsghdr.self)
                    let length = Int(header.nlmsg_len)
                    guard length >= MemoryLayout<nlmsghdr>.size, offset + length <= received else { break }
                    if header.nlmsg_type == UInt16(NLMSG_ERROR) {
                        let code = raw.loadUnaligned(fromByteOffset: offset + MemoryLayout<nlmsghdr>.size, as: Int32.self)
                        pending.remove(header.nlmsg_seq)
                        if code != 0 && firstError == nil {
                            let what = batch.acknowledged[header.nlmsg_seq] ?? "nf_tables message"
                            firstError = Self.failure(what, -code)
                        }
                    }
                    offset += (length + 3) & ~3
                }
            }
            // After an error the kernel aborts the batch; the remaining acks are not guaranteed.
            if firstError != nil { break }
        }
        if let firstError {
            discardPendingMessages()
            throw firstError
        }
    }

    /// Drops answers still queued from an aborted batch so the next request does not read them.
    /// The kernel queues every answer before sendmsg returns, so a non-blocking drain suffices.
    private func discardPendingMessages() {
        var buffer = [UInt8](repeating: 0, count: Self.receiveBufferSize)
        let fd = mnl_socket_get_fd(socket)
        while buffer.withUnsafeMutableBytes({ recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }) > 0 {}
    }

    /// Sends a dump request built by `request` and hands every answer message to `handle`.
    func dump(
        _ operation: String,
        request: (UnsafeMutablePointer<CChar>, UInt32) -> UnsafeMutablePointer<nlmsghdr>?,
        handle: @escaping (UnsafePointer<nlmsghdr>) -> Void
    ) throws {
        let seq = sequence()
        var buffer = [UInt8](repeating: 0, count: Self.receiveBufferSize)
        let length: Int = buffer.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress?.assumingMemoryBound(to: CChar.self),
                  let header = request(base, seq) else { return 0 }
            return Int(header.pointee.nlmsg_len)
        }
        guard length > 0 else { throw NetfilterError.invalidInput("could not build \(operation) request") }
        let sent = buffer.withUnsafeBytes { mnl_socket_sendto(socket, $0.baseAddress, length) }
        guard sent == length else { throw Self.failure(operation, errno) }

        let box = DumpHandler(handle)
        let context = Unmanaged.passRetained(box)
        defer { context.release() }
        while true {
            let received = buffer.withUnsafeMutableBytes { mnl_socket_recvfrom(socket, $0.baseAddress, $0.count) }
            if received < 0 {
                if errno == EINTR { continue }
                throw Self.failure(operation, errno)
            }
            let result = buffer.withUnsafeBytes { raw in
                mnl_cb_run(raw.baseAddress, Int(received), seq, portID, { header, data in
                    guard let header, let data else { return MNL_CB_OK }
                    Unmanaged<DumpHandler>.fromOpaque(data).takeUnretainedValue().handle(header)
                    return MNL_CB_OK
                }, context.toOpaque())
            }
            if result == MNL_CB_ERROR { throw Self.failure(operation, errno) }
            if result == MNL_CB_STOP { return }
        }
    }
}

private final class DumpHandler {
    let handle: (UnsafePointer<nlmsghdr>) -> Void
    init(_ handle: @escaping (UnsafePointer<nlmsghdr>) -> Void) { self.handle = handle }
}
