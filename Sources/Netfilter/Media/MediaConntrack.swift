import CNetfilterConntrack
import Glibc

/// Deletes the conntrack entries of offloaded media by exact tuple, without dumping the table.
///
/// A conntrack lookup by tuple finds an entry whether the tuple is its original or its reply
/// direction, so per call four tuples cover every entry the call can have: the two a far end
/// creates by sending to its relay port (`A:pa -> R_A:ra`, `B:pb -> R_B:rb`; after NAT the first
/// one also carries the other direction as its reply) and the two the userspace relay creates by
/// sending from a relay port before the offload (`R_A:ra -> A:pa`, `R_B:rb -> B:pb`). A dump per
/// call would make setting up or tearing down N calls cost O(N^2).
final class MediaConntrack {
    private let handle: OpaquePointer

    init() throws {
        guard let handle = nfct_open(UInt8(NFNL_SUBSYS_CTNETLINK), 0) else {
            throw NetlinkSocket.failure("open conntrack netlink socket", errno)
        }
        self.handle = handle
    }

    deinit { nfct_close(handle) }

    /// Removes every entry of these calls; returns how many were there.
    @discardableResult
    func forget(_ calls: [OffloadedCall]) throws -> Int {
        var removed = 0
        for call in calls {
            for (from, to) in [(call.sideA, call.relayForA), (call.sideB, call.relayForB),
                               (call.relayForA, call.sideA), (call.relayForB, call.sideB)] {
                if try delete(from: from, to: to) { removed += 1 }
            }
        }
        return removed
    }

    /// Deletes the UDP entry with this tuple in either direction; false when there was none.
    func delete(from source: MediaEndpoint, to destination: MediaEndpoint) throws -> Bool {
        guard source.address.isIPv4, destination.address.isIPv4 else {
            throw NetfilterError.invalidInput("media offload is IPv4 only: \(source) -> \(destination)")
        }
        guard let ct = nfct_new() else {
            throw NetfilterError.kernel(operation: "allocate conntrack object", errno: ENOMEM, reason: String(cString: strerror(ENOMEM)))
        }
        defer { nfct_destroy(ct) }
        nfct_set_attr_u8(ct, ATTR_ORIG_L3PROTO, UInt8(AF_INET))
        source.address.bytes.withUnsafeBytes { nfct_set_attr_u32(ct, ATTR_ORIG_IPV4_SRC, $0.loadUnaligned(as: UInt32.self)) }
        destination.address.bytes.withUnsafeBytes { nfct_set_attr_u32(ct, ATTR_ORIG_IPV4_DST, $0.loadUnaligned(as: UInt32.self)) }
        nfct_set_attr_u8(ct, ATTR_ORIG_L4PROTO, UInt8(IPPROTO_UDP))
        nfct_set_attr_u16(ct, ATTR_ORIG_PORT_SRC, source.port.bigEndian)
        nfct_set_attr_u16(ct, ATTR_ORIG_PORT_DST, destination.port.bigEndian)
        if nfct_query(handle, NFCT_Q_DESTROY, UnsafeRawPointer(ct)) == 0 { return true }
        let code = errno
        if code == ENOENT { return false }
        throw NetlinkSocket.failure("delete conntrack entry udp \(source) -> \(destination)", code)
    }
}
