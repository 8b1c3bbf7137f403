import CNetfilterConntrack
import Glibc
import VOSModel

/// A connection tracking entry's original-direction tuple (what the first packet looked like)
/// and reply tuple (what answers look like after NAT).
public struct ConntrackEntry: Sendable, Equatable {
    public var transport: UInt8
    public var source: IPAddress
    public var destination: IPAddress
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var replySource: IPAddress
    public var replyDestination: IPAddress
    public var replySourcePort: UInt16
    public var replyDestinationPort: UInt16
}

/// Which entries to list or delete, by original-direction fields; nil matches anything.
public struct ConntrackFilter: Sendable, Equatable {
    public var transport: UInt8?
    public var source: IPAddress?
    public var destination: IPAddress?
    public var sourcePort: UInt16?
    public var destinationPort: UInt16?

    public init(transport: UInt8? = nil, source: IPAddress? = nil, destination: IPAddress? = nil,
                sourcePort: UInt16? = nil, destinationPort: UInt16? = nil) {
        self.transport = transport
        self.source = source
        self.destination = destination
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
    }

    func matches(_ entry: ConntrackEntry) -> Bool {
        (transport.map { $0 == entry.transport } ?? true)
            && (source.map { $0 == entry.source } ?? true)
            && (destination.map { $0 == entry.destination } ?? true)
            && (sourcePort.map { $0 == entry.sourcePort } ?? true)
            && (destinationPort.map { $0 == entry.destinationPort } ?? true)
    }
}

/// libnetfilter_conntrack client in the calling thread's network namespace.
public final class ConntrackClient {
    private let handle: OpaquePointer

    public init() throws {
        guard let handle = nfct_open(UInt8(NFNL_SUBSYS_CTNETLINK), 0) else {
            throw NetlinkSocket.failure("open conntrack netlink socket", errno)
        }
        self.handle = handle
    }

    deinit { nfct_close(handle) }

    public func list(matching filter: ConntrackFilter = ConntrackFilter()) throws -> [ConntrackEntry] {
        final class Collector { var entries: [ConntrackEntry] = [] }
        let collector = Collector()
        let context = Unmanaged.passRetained(collector)
        defer { context.release() }
        nfct_callback_register(handle, NFCT_T_ALL, { _, ct, data in
            guard let ct, let data else { return Int32(NFCT_CB_CONTINUE) }
            if let entry = ConntrackClient.decode(ct) {
                Unmanaged<Collector>.fromOpaque(data).takeUnretainedValue().entries.append(entry)
            }
            return Int32(NFCT_CB_CONTINUE)
        }, context.toOpaque())
        defer { nfct_callback_unregister(handle) }
        for family in [UInt32(AF_INET), UInt32(AF_INET6)] {
            var family = family
            guard nfct_query(handle, NFCT_Q_DUMP, &family) == 0 else {
                throw NetlinkSocket.failure("dump conntrack table", errno)
            }
        }
        return collector.entries.filter(filter.matches)
    }

    /// Deletes matching entries; returns how many were removed.
    @discardableResult
    public func delete(matching filter: ConntrackFilter) throws -> Int {
        var removed = 0
        for entry in try list(matching: filter) {
            guard let ct = nfct_new() else { throw outOfMemory("conntrack object") }
            defer { nfct_destroy(ct) }
            if entry.source.isIPv4 {
                nfct_set_attr_u8(ct, ATTR_ORIG_L3PROTO, UInt8(AF_INET))
                entry.source.bytes.withUnsafeBytes { nfct_set_attr_u32(ct, ATTR_ORIG_IPV4_SRC, $0.loadUnaligned(as: UInt32.self)) }
                entry.destination.bytes.withUnsafeBytes { nfct_set_attr_u32(ct, ATTR_ORIG_IPV4_DST, $0.loadUnaligned(as: UInt32.self)) }
            } else {
                nfct_set_attr_u8(ct, ATTR_ORIG_L3PROTO, UInt8(AF_INET6))
                entry.source.bytes.withUnsafeBytes { nfct_set_attr(ct, ATTR_ORIG_IPV6_SRC, $0.baseAddress) }
                entry.destination.bytes.withUnsafeBytes { nfct_set_attr(ct, ATTR_ORIG_IPV6_DST, $0.baseAddress) }
            }
            nfct_set_attr_u8(ct, ATTR_ORIG_L4PROTO, entry.transport)
            if entry.transport == 6 || entry.transport == 17 {
                nfct_set_attr_u16(ct, ATTR_ORIG_PORT_SRC, entry.sourcePort.bigEndian)
                nfct_set_attr_u16(ct, ATTR_ORIG_PORT_DST, entry.destinationPort.bigEndian)
            }
            if nfct_query(handle, NFCT_Q_DESTROY, UnsafeRawPointer(ct)) == 0 {
                removed += 1
            } else if errno != ENOENT {
                throw NetlinkSocket.failure("delete conntrack entry \(entry.source):\(entry.sourcePort) -> \(entry.destination):\(entry.destinationPort)", errno)
            }
        }
        return removed
    }

    static func decode(_ ct: OpaquePointer) -> ConntrackEntry? {
        let l3 = nfct_get_attr_u8(ct, ATTR_ORIG_L3PROTO)
        func address(_ v4: nf_conntrack_attr, _ v6: nf_conntrack_attr) -> IPAddress {
            if l3 == UInt8(AF_INET) { return IPAddress(in_addr(s_addr: nfct_get_attr_u32(ct, v4))) }
            guard let pointer = nfct_get_attr(ct, v6) else { return .v6(high: 0, low: 0) }
            return IPAddress(pointer.loadUnaligned(as: in6_addr.self))
        }
        func port(_ attribute: nf_conntrack_attr) -> UInt16 {
            nfct_attr_is_set(ct, attribute) > 0 ? UInt16(bigEndian: nfct_get_attr_u16(ct, attribute)) : 0
        }
        guard l3 == UInt8(AF_INET) || l3 == UInt8(AF_INET6) else { return nil }
        return ConntrackEntry(
            transport: nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO),
            source: address(ATTR_ORIG_IPV4_SRC, ATTR_ORIG_IPV6_SRC), destination: address(ATTR_ORIG_IPV4_DST, ATTR_ORIG_IPV6_DST),
            sourcePort: port(ATTR_ORIG_PORT_SRC), destinationPort: port(ATTR_ORIG_PORT_DST),
            replySource: address(ATTR_REPL_IPV4_SRC, ATTR_REPL_IPV6_SRC), replyDestination: address(ATTR_REPL_IPV4_DST, ATTR_REPL_IPV6_DST),
            replySourcePort: port(ATTR_REPL_PORT_SRC), replyDestinationPort: port(ATTR_REPL_PORT_DST))
    }
}

extension ConntrackClient {
    /// How many entries match, e.g. to check that a removed offload left nothing behind.
    public func count(matching filter: ConntrackFilter = ConntrackFilter()) throws -> Int {
        try list(matching: filter).count
    }
}
