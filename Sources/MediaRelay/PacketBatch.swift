import CVOSSys
#if canImport(Glibc)
import Glibc
#endif

/// The preallocated buffers, iovecs and mmsghdr arrays one I/O thread reuses for every
/// recvmmsg/sendmmsg, so the packet path never allocates. Received datagrams are forwarded from
/// the same buffers: the send headers just point at them.
final class PacketBatch {
    static let maximumDatagram = 2048
    let count: Int
    let buffers: UnsafeMutablePointer<UInt8>
    let sources: UnsafeMutablePointer<sockaddr_storage>
    let receiveHeaders: UnsafeMutablePointer<vos_mmsghdr>
    let receiveVectors: UnsafeMutablePointer<iovec>
    let sendHeaders: UnsafeMutablePointer<vos_mmsghdr>
    let sendVectors: UnsafeMutablePointer<iovec>

    static let sourceCapacity = socklen_t(MemoryLayout<sockaddr_storage>.size)

    init(count: Int) {
        self.count = count
        buffers = .allocate(capacity: count * Self.maximumDatagram)
        sources = .allocate(capacity: count)
        sources.initialize(repeating: sockaddr_storage(), count: count)
        receiveHeaders = .allocate(capacity: count)
        receiveVectors = .allocate(capacity: count)
        sendHeaders = .allocate(capacity: count)
        sendVectors = .allocate(capacity: count)
        for index in 0..<count {
            receiveVectors[index] = iovec(iov_base: UnsafeMutableRawPointer(buffers + index * Self.maximumDatagram), iov_len: Self.maximumDatagram)
            sendVectors[index] = iovec(iov_base: nil, iov_len: 0)
            var receive = msghdr()
            receive.msg_name = UnsafeMutableRawPointer(sources + index)
            receive.msg_namelen = Self.sourceCapacity
            receive.msg_iov = receiveVectors + index
            receive.msg_iovlen = 1
            receiveHeaders[index] = vos_mmsghdr(msg_hdr: receive, msg_len: 0)
            var send = msghdr()
            send.msg_iov = sendVectors + index
            send.msg_iovlen = 1
            sendHeaders[index] = vos_mmsghdr(msg_hdr: send, msg_len: 0)
        }
    }

    deinit {
        buffers.deallocate()
        sources.deallocate()
        receiveHeaders.deallocate()
        receiveVectors.deallocate()
        sendHeaders.deallocate()
        sendVectors.deallocate()
    }
}
