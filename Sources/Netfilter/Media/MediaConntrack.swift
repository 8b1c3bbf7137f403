import CNetfilterConntrack
import Glibc
import Sockets

/// Creates offloaded calls' NATed conntrack entries and deletes them by exact tuple, without
/// dumping the table.
///
/// A conntrack lookup by tuple finds an entry whether the tuple is its original or its reply
/// direction, so per call four tuples cover every entry the call can have: the NATed one, found
/// by either far end's tuple (`A:pa -> R_A:ra`, `B:pb -> R_B:rb`), and what media the
/// `untracked` rule did not cover could have left (a far end sending to a port outside its range,
/// or an unmarked relay send `R_A:ra -> A:pa`, `R_B:rb -> B:pb`). A dump per call would make
/// setting up or tearing down N calls cost O(N^2).
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

    /// Creates each call's NATed entry directly, before its keys enter the maps (its packets are
    /// untracked until then, see `MediaOffloadTable`). Left to the maps, the first packets of
    /// both sides would each create it, and when they arrive together on two CPUs the second
    /// entry clashes with the first at confirmation and its packet is dropped. The entry is given
    /// as it stood before NAT (original `A:pa -> R_A:ra`, reply `R_A:ra -> A:pa`) plus DNAT to
    /// `B:pb` and SNAT to `R_B:rb`: the kernel's NAT setup then derives the reply
    /// `B:pb -> R_B:rb` and marks the entry as NATed (given the NATed reply it would see nothing to
    /// translate). Any failure leaves creation to the maps, which still work.
    func bind(_ calls: [OffloadedCall], timeoutSeconds: UInt32 = 30) {
        func address(_ endpoint: SocketAddress) -> UInt32 { endpoint.address.inAddress.s_addr }
        for call in calls where [call.sideA, call.relayForA, call.sideB, call.relayForB].allSatisfy({ $0.address.isIPv4 }) {
            guard let ct = nfct_new() else { return }
            defer { nfct_destroy(ct) }
            nfct_set_attr_u8(ct, ATTR_ORIG_L3PROTO, UInt8(AF_INET))
            nfct_set_attr_u8(ct, ATTR_ORIG_L4PROTO, UInt8(IPPROTO_UDP))
            nfct_set_attr_u32(ct, ATTR_ORIG_IPV4_SRC, address(call.sideA))
            nfct_set_attr_u32(ct, ATTR_ORIG_IPV4_DST, address(call.relayForA))
            nfct_set_attr_u16(ct, ATTR_ORIG_PORT_SRC, call.sideA.port.bigEndian)
            nfct_set_attr_u16(ct, ATTR_ORIG_PORT_DST, call.relayForA.port.bigEndian)
            nfct_set_attr_u8(ct, ATTR_REPL_L3PROTO, UInt8(AF_INET))
            nfct_set_attr_u8(ct, ATTR_REPL_L4PROTO, UInt8(IPPROTO_UDP))
            nfct_set_attr_u32(ct, ATTR_REPL_IPV4_SRC, address(call.relayForA))
            nfct_set_attr_u32(ct, ATTR_REPL_IPV4_DST, address(call.sideA))
            nfct_set_attr_u16(ct, ATTR_REPL_PORT_SRC, call.relayForA.port.bigEndian)
            nfct_set_attr_u16(ct, ATTR_REPL_PORT_DST, call.sideA.port.bigEndian)
            nfct_set_attr_u32(ct, ATTR_DNAT_IPV4, address(call.sideB))
            nfct_set_attr_u16(ct, ATTR_DNAT_PORT, call.sideB.port.bigEndian)
            nfct_set_attr_u32(ct, ATTR_SNAT_IPV4, address(call.relayForB))
            nfct_set_attr_u16(ct, ATTR_SNAT_PORT, call.relayForB.port.bigEndian)
            nfct_set_attr_u32(ct, ATTR_TIMEOUT, timeoutSeconds)
            _ = nfct_query(handle, NFCT_Q_CREATE, UnsafeRawPointer(ct))
        }
    }

    /// Deletes the UDP entry with this tuple in either direction; false when there was none.
    func delete(from source: SocketAddress, to destination: SocketAddress) throws -> Bool {
        guard source.address.isIPv4, destination.address.isIPv4 else {
            throw NetfilterError.invalidInput("media offload is IPv4 only: \(source) -> \(destination)")
        }
        guard let ct = nfct_new() else {
            throw NetfilterError.kernel(operation: "allocate conntrack object", errno: ENOMEM, reason: String(cString: strerror(ENOMEM)))
        }
        defer { nfct_destroy(ct) }
        nfct_set_attr_u8(ct, ATTR_ORIG_L3PROTO, UInt8(AF_INET))
        nfct_set_attr_u32(ct, ATTR_ORIG_IPV4_SRC, source.address.inAddress.s_addr)
        nfct_set_attr_u32(ct, ATTR_ORIG_IPV4_DST, destination.address.inAddress.s_addr)
        nfct_set_attr_u8(ct, ATTR_ORIG_L4PROTO, UInt8(IPPROTO_UDP))
        nfct_set_attr_u16(ct, ATTR_ORIG_PORT_SRC, source.port.bigEndian)
        nfct_set_attr_u16(ct, ATTR_ORIG_PORT_DST, destination.port.bigEndian)
        if nfct_query(handle, NFCT_Q_DESTROY, UnsafeRawPointer(ct)) == 0 { return true }
        let code = errno
        if code == ENOENT { return false }
        throw NetlinkSocket.failure("delete conntrack entry udp \(source) -> \(destination)", code)
    }
}
