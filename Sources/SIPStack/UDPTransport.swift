import CVOSSys
#if canImport(Glibc)
import Glibc
#endif

/// A bound UDP socket on the event loop: batched reads with recvmmsg and batched writes with
/// sendmmsg (flushed at the end of each loop iteration), both into preallocated buffers, DSCP
/// on everything sent.
///
/// @unchecked Sendable: confined to its event loop thread; other threads use `loop.execute`.
public final class UDPTransport: @unchecked Sendable {
    public static let maximumDatagram = 65_535
    private static let batch = 32

    public let descriptor: Int32
    public let localAddress: SocketAddress
    private let loop: EpollEventLoop
    // Preallocated once: the receive path only resets lengths before each recvmmsg.
    private let buffers: UnsafeMutableRawPointer
    private let messages: UnsafeMutablePointer<vos_mmsghdr>
    private let vectors: UnsafeMutablePointer<iovec>
    private let names: UnsafeMutablePointer<sockaddr_storage>
    private static let outgoingSlot = 4096
    private let outgoing: UnsafeMutableRawPointer
    private let outgoingMessages: UnsafeMutablePointer<vos_mmsghdr>
    private let outgoingVectors: UnsafeMutablePointer<iovec>
    private let outgoingNames: UnsafeMutablePointer<sockaddr_storage>
    private var outgoingCount = 0
    /// Called on the loop thread for each datagram; the buffer is valid only during the call.
    public var onDatagram: (UnsafeRawBufferPointer, SocketAddress) -> Void = { _, _ in }

    public init(loop: EpollEventLoop, bind address: SocketAddress, dscp: Int) throws(TransportError) {
        self.loop = loop
        let fd = socket(address.domain, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
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
        descriptor = fd
        localAddress = SocketAddress(boundTo: fd) ?? address
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
        outgoing = UnsafeMutableRawPointer.allocate(byteCount: batch * UDPTransport.outgoingSlot, alignment: 16)
        outgoingMessages = .allocate(capacity: batch)
        outgoingVectors = .allocate(capacity: batch)
        outgoingNames = .allocate(capacity: batch)
        for index in 0..<batch {
            outgoingVectors[index] = iovec(iov_base: outgoing + index * UDPTransport.outgoingSlot, iov_len: 0)
            var header = msghdr()
            header.msg_iov = outgoingVectors + index
            header.msg_iovlen = 1
            header.msg_name = UnsafeMutableRawPointer(outgoingNames + index)
            outgoingMessages[index] = vos_mmsghdr(msg_hdr: header, msg_len: 0)
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
        outgoing.deallocate()
        outgoingMessages.deallocate()
        outgoingVectors.deallocate()
        outgoingNames.deallocate()
    }

    public func setDSCP(_ dscp: Int) {
        SignallingSocket.setDSCP(descriptor, family: localAddress.family, dscp: dscp)
    }

    /// Queues a datagram; it leaves with the others of this loop iteration in one sendmmsg.
    public func send(_ bytes: [UInt8], to destination: SocketAddress) {
        guard bytes.count <= UDPTransport.outgoingSlot else {
            flush()
            _ = bytes.withUnsafeBytes { raw in
                destination.withSockaddr { sendto(descriptor, raw.baseAddress, raw.count, Int32(MSG_DONTWAIT), $0, $1) }
            }
            return
        }
        if outgoingCount == UDPTransport.batch { flush() }
        let index = outgoingCount
        bytes.withUnsafeBytes { raw in
            if let base = raw.baseAddress { (outgoing + index * UDPTransport.outgoingSlot).copyMemory(from: base, byteCount: raw.count) }
        }
        outgoingVectors[index].iov_len = bytes.count
        outgoingMessages[index].msg_hdr.msg_namelen = destination.write(into: outgoingNames + index)
        outgoingCount += 1
        if index == 0 { loop.atEndOfIteration { [weak self] in self?.flush() } }
    }

    /// Sends everything queued. A datagram the kernel refuses (buffer full) is dropped, as UDP
    /// would; the transaction layer's retransmissions cover it.
    public func flush() {
        var sent = 0
        while sent < outgoingCount {
            let result = vos_sendmmsg(descriptor, outgoingMessages + sent, UInt32(outgoingCount - sent), Int32(MSG_DONTWAIT))
            if result > 0 {
                sent += Int(result)
            } else if result < 0 && errno == EINTR {
                continue
            } else {
                sent += 1
            }
        }
        outgoingCount = 0
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
