import CMnl
import CNftnl
import Sockets

/// One direction of an offloaded flow as the `flows` set keys it (IPv4 source . port .
/// destination . port), packed into two integers so a dump of thousands of elements neither
/// allocates per element nor hashes arrays.
public struct FlowKey: Hashable, Sendable {
    /// Address (high 32 bits) and port (low 16 bits), host order.
    public let source: UInt64
    public let destination: UInt64

    /// For IPv4 endpoints (the only ones offloaded); an IPv6 one gives a key no dump reports.
    public init(source: SocketAddress, destination: SocketAddress) {
        self.source = Self.pack(source)
        self.destination = Self.pack(destination)
    }

    /// From the set's 16-byte key: address, port, 2 bytes padding, address, port, padding.
    init?(setKey key: UnsafeRawBufferPointer) {
        guard key.count == 16 else { return nil }
        func endpoint(at offset: Int) -> UInt64 {
            var value: UInt64 = 0
            for index in 0..<6 { value = value << 8 | UInt64(key[offset + index]) }
            return value
        }
        source = endpoint(at: 0)
        destination = endpoint(at: 8)
    }

    private static func pack(_ endpoint: SocketAddress) -> UInt64 {
        guard case let .v4(address) = endpoint.address else { return UInt64.max }
        return UInt64(address) << 16 | UInt64(endpoint.port)
    }
}

extension NftablesClient {
    /// Every element of the offload table's `flows` set with its counter, read with one dump and
    /// decoded straight from the netlink attributes. The periodic activity check reads thousands
    /// of elements every second: going through libnftnl objects and `LiveSetElement` cost an
    /// allocation per attribute, which was most of an idle relay's CPU with 2000 offloaded calls.
    public func forEachFlowCounter(_ body: (FlowKey, _ packets: UInt64, _ bytes: UInt64) -> Void) throws {
        try withoutActuallyEscaping(body) { body in
            try socket.dump("list counters of \(MediaOffloadTable.name) flows", request: { buffer, seq in
                let header = nftnl_nlmsg_build_hdr(buffer, UInt16(NFT_MSG_GETSETELEM.rawValue), TableFamily.ip.netlinkFamily,
                                                   UInt16(NLM_F_DUMP), seq)
                if let header, let set = nftnl_set_alloc() {
                    nftnl_set_set_str(set, UInt16(NFTNL_SET_TABLE.rawValue), MediaOffloadTable.name)
                    nftnl_set_set_str(set, UInt16(NFTNL_SET_NAME.rawValue), "flows")
                    nftnl_set_elems_nlmsg_build_payload(header, set)
                    nftnl_set_free(set)
                }
                return header
            }, handle: { header in
                // After the netlink header: struct nfgenmsg (4 bytes), then the attributes.
                let start = UnsafeRawPointer(header) + 16 + 4
                let length = Int(header.pointee.nlmsg_len) - 20
                guard length > 0 else { return }
                NetlinkAttributes.forEach(in: UnsafeRawBufferPointer(start: start, count: length)) { type, list in
                    guard type == UInt16(NFTA_SET_ELEM_LIST_ELEMENTS.rawValue) else { return }
                    NetlinkAttributes.forEach(in: list) { _, element in
                        var key: FlowKey?
                        var packets: UInt64 = 0, bytes: UInt64 = 0
                        NetlinkAttributes.forEach(in: element) { type, value in
                            switch Int(type) {
                            case Int(NFTA_SET_ELEM_KEY.rawValue):
                                NetlinkAttributes.forEach(in: value) { type, data in
                                    if type == UInt16(NFTA_DATA_VALUE.rawValue) { key = FlowKey(setKey: data) }
                                }
                            case Int(NFTA_SET_ELEM_EXPR.rawValue):
                                Self.readCounter(value, packets: &packets, bytes: &bytes)
                            case Int(NFTA_SET_ELEM_EXPRESSIONS.rawValue):
                                NetlinkAttributes.forEach(in: value) { _, expression in
                                    Self.readCounter(expression, packets: &packets, bytes: &bytes)
                                }
                            default: break
                            }
                        }
                        if let key { body(key, packets, bytes) }
                    }
                }
            })
        }
    }

    /// A nested expression (`NFTA_EXPR_NAME`, `NFTA_EXPR_DATA`); counts only if it is a counter.
    private static func readCounter(_ expression: UnsafeRawBufferPointer, packets: inout UInt64, bytes: inout UInt64) {
        var isCounter = false
        var data: UnsafeRawBufferPointer?
        NetlinkAttributes.forEach(in: expression) { type, value in
            if type == UInt16(NFTA_EXPR_NAME.rawValue) {
                isCounter = value.count >= 7 && value.prefix(7).elementsEqual("counter".utf8)
            } else if type == UInt16(NFTA_EXPR_DATA.rawValue) {
                data = value
            }
        }
        guard isCounter, let data else { return }
        NetlinkAttributes.forEach(in: data) { type, value in
            guard value.count == 8 else { return }
            let number = UInt64(bigEndian: value.loadUnaligned(as: UInt64.self))
            if type == UInt16(NFTA_COUNTER_PACKETS.rawValue) { packets = number }
            if type == UInt16(NFTA_COUNTER_BYTES.rawValue) { bytes = number }
        }
    }
}

/// Walks netlink attributes (`struct nlattr`: 16-bit length including the 4-byte header, 16-bit
/// type whose top two bits are flags; each attribute padded to 4 bytes) without copying them.
enum NetlinkAttributes {
    static func forEach(in buffer: UnsafeRawBufferPointer, _ body: (_ type: UInt16, _ payload: UnsafeRawBufferPointer) -> Void) {
        guard let base = buffer.baseAddress else { return }
        var offset = 0
        while offset + 4 <= buffer.count {
            let length = Int(base.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
            let type = base.loadUnaligned(fromByteOffset: offset + 2, as: UInt16.self) & 0x3fff
            guard length >= 4, offset + length <= buffer.count else { return }
            body(type, UnsafeRawBufferPointer(start: base + offset + 4, count: length - 4))
            offset += (length + 3) & ~3
        }
    }
}
