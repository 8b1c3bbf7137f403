import CVOSSys
#if canImport(Glibc)
import Glibc
#endif

/// The send side of the per-leg-socket path (no raw socket, or an IPv6 leg): up to `count`
/// datagrams of one leg leave in one `sendmmsg` from the other leg's socket, straight from the
/// `OutboundBatch` receive slots they arrived in.
final class SocketSendBatch {
    let count: Int
    let sendHeaders: UnsafeMutablePointer<vos_mmsghdr>
    let sendVectors: UnsafeMutablePointer<iovec>

    init(count: Int) {
        self.count = count
        sendHeaders = .allocate(capacity: count)
        sendVectors = .allocate(capacity: count)
        for index in 0..<count {
            sendVectors[index] = iovec(iov_base: nil, iov_len: 0)
            var send = msghdr()
            send.msg_iov = sendVectors + index
            send.msg_iovlen = 1
            sendHeaders[index] = vos_mmsghdr(msg_hdr: send, msg_len: 0)
        }
    }

    deinit {
        sendHeaders.deallocate()
        sendVectors.deallocate()
    }
}

/// The preallocated buffers one I/O thread receives every packet into (so the packet path never
/// allocates), and the batch it relays IPv4 packets through when it has a raw socket: packets of
/// every session ready in one wakeup are received into consecutive slots and leave in one
/// `sendmmsg` on the raw socket, each with a hand-built IPv4 + UDP header (the leg's own source
/// address and port, the session's DSCP), instead of one `sendmmsg` per receiving socket.
/// Each slot receives `headerLength` bytes into its buffer, so the header is written in front of
/// the payload and a packet leaves as one iovec (the kernel copies and checks one region, not two).
final class OutboundBatch {
    static let capacity = 256
    static let maximumDatagram = 2048
    static let sourceCapacity = socklen_t(MemoryLayout<sockaddr_storage>.size)
    /// IPv4 (20, no options) + UDP (8).
    static let headerLength = 28
    /// Receive slots handed to one recvmmsg.
    static let receiveChunk = 64
    /// Ancillary data room per receive slot: a capture socket reports each packet's original
    /// destination (IP_ORIGDSTADDR, a 16-byte cmsghdr + sockaddr_in = 32 bytes).
    static let controlSpace = 64

    let buffers: UnsafeMutablePointer<UInt8>
    let sources: UnsafeMutablePointer<sockaddr_storage>
    let receiveHeaders: UnsafeMutablePointer<vos_mmsghdr>
    let receiveVectors: UnsafeMutablePointer<iovec>
    let controls: UnsafeMutablePointer<UInt8>
    let destinations: UnsafeMutablePointer<sockaddr_in>
    let sendHeaders: UnsafeMutablePointer<vos_mmsghdr>
    /// One per message: the built header and the payload behind it, in the payload's receive slot.
    let sendVectors: UnsafeMutablePointer<iovec>
    /// Per queued message: leg index it goes to (sent counters) and leg it came from (unroutable on failure).
    let targetLegs: UnsafeMutablePointer<Int>
    let originLegs: UnsafeMutablePointer<Int>
    /// Receive slots taken since the last flush, and messages queued in them.
    var slotsUsed = 0
    var queued = 0

    init() {
        let count = Self.capacity
        buffers = .allocate(capacity: count * Self.maximumDatagram)
        sources = .allocate(capacity: count)
        sources.initialize(repeating: sockaddr_storage(), count: count)
        receiveHeaders = .allocate(capacity: count)
        receiveVectors = .allocate(capacity: count)
        controls = .allocate(capacity: count * Self.controlSpace)
        controls.initialize(repeating: 0, count: count * Self.controlSpace)
        destinations = .allocate(capacity: count)
        destinations.initialize(repeating: sockaddr_in(), count: count)
        sendHeaders = .allocate(capacity: count)
        sendVectors = .allocate(capacity: count)
        targetLegs = .allocate(capacity: count)
        targetLegs.initialize(repeating: 0, count: count)
        originLegs = .allocate(capacity: count)
        originLegs.initialize(repeating: 0, count: count)
        for index in 0..<count {
            receiveVectors[index] = iovec(iov_base: UnsafeMutableRawPointer(buffers + index * Self.maximumDatagram + Self.headerLength),
                                          iov_len: Self.maximumDatagram - Self.headerLength)
            var receive = msghdr()
            receive.msg_name = UnsafeMutableRawPointer(sources + index)
            receive.msg_namelen = Self.sourceCapacity
            receive.msg_iov = receiveVectors + index
            receive.msg_iovlen = 1
            receive.msg_control = UnsafeMutableRawPointer(controls + index * Self.controlSpace)
            receive.msg_controllen = Self.controlSpace
            receiveHeaders[index] = vos_mmsghdr(msg_hdr: receive, msg_len: 0)
            sendVectors[index] = iovec(iov_base: nil, iov_len: 0)
            var send = msghdr()
            send.msg_name = UnsafeMutableRawPointer(destinations + index)
            send.msg_namelen = socklen_t(MemoryLayout<sockaddr_in>.size)
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
        controls.deallocate()
        destinations.deallocate()
        sendHeaders.deallocate()
        sendVectors.deallocate()
        targetLegs.deallocate()
        originLegs.deallocate()
    }

    /// Queues `length` bytes at `payload` (in a receive slot, so `headerLength` bytes before it
    /// are free) from `source` to `destination` (both IPv4, network order inside), with TOS byte `tos`.
    @inline(__always)
    func queue(_ payload: UnsafeMutablePointer<UInt8>, length: Int, from source: UnsafePointer<sockaddr_in>,
               to destination: UnsafePointer<sockaddr_in>, tos: UInt8, targetLeg: Int, originLeg: Int) {
        let index = queued
        queued += 1
        let header = payload - Self.headerLength
        let totalLength = UInt16(truncatingIfNeeded: Self.headerLength + length)
        let udpLength = UInt16(truncatingIfNeeded: 8 + length)
        let raw = UnsafeMutableRawPointer(header)
        header[0] = 0x45
        header[1] = tos
        raw.storeBytes(of: totalLength.bigEndian, toByteOffset: 2, as: UInt16.self)
        // Identification 0 and header checksum 0: the kernel fills both for IPPROTO_RAW sockets.
        raw.storeBytes(of: UInt16(0).bigEndian, toByteOffset: 4, as: UInt16.self)
        raw.storeBytes(of: UInt16(0x4000).bigEndian, toByteOffset: 6, as: UInt16.self) // DF, as UDP sockets send
        header[8] = 64
        header[9] = UInt8(IPPROTO_UDP)
        raw.storeBytes(of: UInt16(0), toByteOffset: 10, as: UInt16.self)
        // Source 0.0.0.0 (a leg bound to the wildcard) is filled in by the kernel from the route.
        raw.storeBytes(of: source.pointee.sin_addr.s_addr, toByteOffset: 12, as: UInt32.self)
        raw.storeBytes(of: destination.pointee.sin_addr.s_addr, toByteOffset: 16, as: UInt32.self)
        raw.storeBytes(of: source.pointee.sin_port, toByteOffset: 20, as: UInt16.self)
        raw.storeBytes(of: destination.pointee.sin_port, toByteOffset: 22, as: UInt16.self)
        raw.storeBytes(of: udpLength.bigEndian, toByteOffset: 24, as: UInt16.self)
        raw.storeBytes(of: UInt16(0), toByteOffset: 26, as: UInt16.self)
        // Without a known source address the pseudo-header is unknown: 0 means "no checksum" in IPv4.
        if source.pointee.sin_addr.s_addr != 0 {
            raw.storeBytes(of: Self.udpChecksum(header: raw, payload: payload, length: length, udpLength: udpLength),
                           toByteOffset: 26, as: UInt16.self)
        }
        destinations[index] = destination.pointee
        sendVectors[index] = iovec(iov_base: UnsafeMutableRawPointer(header), iov_len: Self.headerLength + length)
        targetLegs[index] = targetLeg
        originLegs[index] = originLeg
    }

    /// RFC 768 checksum over the pseudo-header, the UDP header (checksum field 0) and the payload.
    /// Summing 16-bit words as they lie in memory and storing the result the same way gives the
    /// network-order value on any byte order (RFC 1071).
    @inline(__always)
    static func udpChecksum(header: UnsafeMutableRawPointer, payload: UnsafeMutablePointer<UInt8>, length: Int, udpLength: UInt16) -> UInt16 {
        var sum: UInt64 = 0
        for offset in stride(from: 12, to: 28, by: 2) { sum &+= UInt64(header.loadUnaligned(fromByteOffset: offset, as: UInt16.self)) }
        sum &+= UInt64(UInt16(IPPROTO_UDP).bigEndian) &+ UInt64(udpLength.bigEndian)
        let bytes = UnsafeRawPointer(payload)
        var offset = 0
        while offset + 8 <= length {
            let word = bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            sum &+= (word & 0xFFFF) &+ ((word >> 16) & 0xFFFF) &+ ((word >> 32) & 0xFFFF) &+ (word >> 48)
            offset += 8
        }
        while offset + 2 <= length {
            sum &+= UInt64(bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
            offset += 2
        }
        if offset < length { sum &+= UInt64(UInt16(bigEndian: UInt16(payload[offset]) << 8)) }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) &+ (sum >> 16) }
        let checksum = ~UInt16(truncatingIfNeeded: sum)
        return checksum == 0 ? 0xFFFF : checksum
    }
}
