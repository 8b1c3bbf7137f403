import CMnl
import CNftnl
import Glibc

/// Accumulates nf_tables messages between BATCH_BEGIN and BATCH_END.
final class NetlinkBatch {
    private var bytes: [UInt8] = []
    /// Where libnftnl builds each message before it is appended. Not zeroed: libmnl writes every
    /// header, attribute and padding byte it uses, and clearing 64 KiB per message showed up in
    /// vos-mediad's profile (a capture batch per relay session).
    private let scratch = UnsafeMutableBufferPointer<CChar>.allocate(capacity: 1 << 16)
    private let socket: NetlinkSocket
    /// Sequence number -> what the message does, for error reports.
    private(set) var acknowledged: [UInt32: String] = [:]
    private(set) var messageCount = 0

    init(socket: NetlinkSocket) {
        self.socket = socket
        appendRaw { nftnl_batch_begin($0, socket.sequence()) }
    }

    deinit { scratch.deallocate() }

    private func appendRaw(_ build: (UnsafeMutablePointer<CChar>) -> UnsafeMutablePointer<nlmsghdr>?) {
        guard let base = scratch.baseAddress, let header = build(base) else { return }
        let length = Int(header.pointee.nlmsg_len)
        bytes += UnsafeRawBufferPointer(start: UnsafeRawPointer(base), count: length)
    }

    /// Adds one acknowledged message; `payload` fills in the object after the header.
    func add(_ type: UInt32, family: UInt16, flags: Int32, what: String, payload: (UnsafeMutablePointer<nlmsghdr>) -> Void) {
        let seq = socket.sequence()
        acknowledged[seq] = what
        messageCount += 1
        appendRaw { base in
            let header = nftnl_nlmsg_build_hdr(base, UInt16(type), family, UInt16(flags | NLM_F_ACK), seq)
            if let header { payload(header) }
            return header
        }
    }

    func finish() -> [UInt8] {
        var result = bytes
        let seq = socket.sequence()
        var end = [CChar](repeating: 0, count: 64)
        end.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress, let header = nftnl_batch_end(base, seq) else { return }
            result += UnsafeRawBufferPointer(start: UnsafeRawPointer(base), count: Int(header.pointee.nlmsg_len))
        }
        return result
    }
}
