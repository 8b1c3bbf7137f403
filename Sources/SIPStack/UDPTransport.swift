import CVOSSys
#if canImport(Glibc)
import Glibc
#endif

/// A bound UDP socket on the event loop: batched reads with recvmmsg into preallocated
/// buffers, one sendto per message, DSCP on everything sent.
///
/// @unchecked Sendable: confined to its event loop thread; other threads use `loop.execute`.
public final class UDPTransport: @unchecked Sendable {
    public static let maximumDatagram = 65_535
    private static let batch = 32

    public let descriptor: Int32
    public let localAddress: SocketAddress
    private let loop: EventLoop
    // Preallocated once: the receive path only resets lengths before each recvmmsg.
    private let buffers: UnsafeMutableRawPointer
    private let messages: UnsafeMutablePointer<vos_mmsghdr>
    private let vectors: UnsafeMutablePointer<iovec>
    private let names: UnsafeMutablePointer<sockaddr_storage>
    /// Called on the loop thread for each datagram; the buffer is valid only during the call.
    public var onDatagram: (UnsafeRawBufferPointer, SocketAddress) -> Void = { _, _ in }

    public init(loop: EventLoop, bind address: SocketAddress, dscp: Int) throws(TransportError) {
        self.loop = loop
        let family = address.family == .v4 ? AF_INET : AF_INET6
        let fd = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TransportError.system("socket", errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var bufferSize: Int32 = 8 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufferSize, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufferSize, socklen_t(MemoryLayout<Int32>.size))
        let bound = address.withSockaddr { bind(fd, $0, $1) }
        guard bound == 0 else {
            let code = errno
            close(fd)
            throw TransportError.system("bind \(address)", code)
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(fd, $0, &length) }
        }
        descriptor = fd
        localAddress = withUnsafePointer(to: &storage) { SocketAddress(storage: $0) } ?? address
        let batch = UDPTransport.batch
        buffers = UnsafeMutableRawPointer.allocate(byteCount: batch * UDPTransport.maximumDatagram, alignment: 16)
        messages = .allocate(capacity: batch)
        vectors = .allocate(capacity: batch)
        names = .allocate(capacity: batch)
        for index in 0..<batch {
            vectors[index] = iovec(iov_base: buffers + index * UDPTransport.maximumDatagram, iov_len: UDPTransport.maximumDatagram)
            var header = msghdr()
            header.msg_iov = vectors + index
            header.msg_iovlen = 1
            header.msg_name = UnsafeMutableRawPointer(names + index)
            messages[index] = vos_mmsghdr(msg_hdr: header, msg_len: 0)
        }
        SignallingSocket.setDSCP(fd, family: address.family, dscp: dscp)
        try loop.register(fd) { [unowned self] _ in self.readBatches() }
    }

    deinit {
        loop.unregister(descriptor)
        close(descriptor)
        buffers.deallocate()
        messages.deallocate()
        vectors.deallocate()
        names.deallocate()
    }

    public func setDSCP(_ dscp: Int) {
        SignallingSocket.setDSCP(descriptor, family: localAddress.family, dscp: dscp)
    }

    public func send(_ bytes: [UInt8], to destination: SocketAddress) {
        _ = bytes.withUnsafeBytes { raw in
            destination.withSockaddr { sendto(descriptor, raw.baseAddress, raw.count, Int32(MSG_DONTWAIT), $0, $1) }
        }
    }

    private func readBatches() {
        // Bounded: at most a few batches per wake-up so timers and other sockets are not starved.
        for _ in 0..<8 {
            let received = receiveBatch()
            if received < UDPTransport.batch { return }
        }
    }

    private func receiveBatch() -> Int {
        let batch = UDPTransport.batch
        for index in 0..<batch {
            messages[index].msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
            messages[index].msg_len = 0
        }
        let received = vos_recvmmsg(descriptor, messages, UInt32(batch), Int32(MSG_DONTWAIT), nil)
        guard received > 0 else { return 0 }
        for index in 0..<Int(received) {
            guard let source = SocketAddress(storage: names + index) else { continue }
            let start = UnsafeRawPointer(buffers + index * UDPTransport.maximumDatagram)
            onDatagram(UnsafeRawBufferPointer(start: start, count: Int(messages[index].msg_len)), source)
        }
        return Int(received)
    }
}

enum SignallingSocket {
    /// DSCP goes in the top six bits of the TOS / traffic class byte (24 = CS3 = 0x60).
    static func setDSCP(_ descriptor: Int32, family: SocketAddress.Family, dscp: Int) {
        var tos = Int32((dscp & 0x3f) << 2)
        if family == .v4 {
            setsockopt(descriptor, Int32(IPPROTO_IP), IP_TOS, &tos, socklen_t(MemoryLayout<Int32>.size))
        } else {
            setsockopt(descriptor, Int32(IPPROTO_IPV6), IPV6_TCLASS, &tos, socklen_t(MemoryLayout<Int32>.size))
        }
    }
}
