import CMnl
import CNftnl
import Glibc

/// A rule as the kernel holds it.
public struct LiveRule: Sendable, Equatable {
    public var chain: String
    public var handle: UInt64
    public var comment: String?
    public var expressions: [KernelExpression]
    public var packets: UInt64
    public var bytes: UInt64

    /// The rule in nft's bytecode notation, with xt string patterns decoded.
    public var description: String { expressions.map(\.description).joined(separator: " ") }
}

public struct LiveChain: Sendable, Equatable {
    public var name: String
    public var hook: UInt32?
    public var priority: Int32?
    public var rules: [LiveRule]
}

public struct LiveSet: Sendable, Equatable {
    public var name: String
    public var flags: UInt32
    public var keyType: UInt32
    public var keyLength: UInt32
    public var dataType: UInt32
    public var dataLength: UInt32
    public var timeoutMilliseconds: UInt64
}

public struct LiveSetElement: Sendable, Equatable {
    public var key: [UInt8]
    public var value: [UInt8]?
    public var flags: UInt32
    public var timeoutMilliseconds: UInt64?
    public var expiresInMilliseconds: UInt64?
    public var comment: String?
    /// Per-element counter, for sets declared with `counter`.
    public var packets: UInt64?
    public var bytes: UInt64?
}

public struct LiveTable: Sendable, Equatable {
    public var family: TableFamily
    public var name: String
    public var chains: [LiveChain]
    public var sets: [LiveSet]

    public var rules: [LiveRule] { chains.flatMap(\.rules) }
}

private final class Accumulator<Element> {
    var items: [Element] = []
}

extension NftablesClient {
    func tableExists(_ family: TableFamily, _ name: String) throws -> Bool {
        let found = Accumulator<String>()
        try socket.dump("list tables", request: { buffer, seq in
            nftnl_nlmsg_build_hdr(buffer, UInt16(NFT_MSG_GETTABLE.rawValue), family.netlinkFamily, UInt16(NLM_F_DUMP), seq)
        }, handle: { header in
            guard let table = nftnl_table_alloc() else { return }
            defer { nftnl_table_free(table) }
            guard nftnl_table_nlmsg_parse(header, table) >= 0,
                  let namePointer = nftnl_table_get_str(table, UInt16(NFTNL_TABLE_NAME.rawValue)) else { return }
            found.items.append(String(cString: namePointer))
        })
        return found.items.contains(name)
    }

    /// Reads a table's chains, sets and rules (with counters), or nil when it does not exist.
    public func read(_ family: TableFamily, _ name: String) throws -> LiveTable? {
        guard try tableExists(family, name) else { return nil }
        let chains = Accumulator<LiveChain>()
        try socket.dump("list chains of \(name)", request: { buffer, seq in
            let header = nftnl_nlmsg_build_hdr(buffer, UInt16(NFT_MSG_GETCHAIN.rawValue), family.netlinkFamily, UInt16(NLM_F_DUMP), seq)
            if let header, let chain = nftnl_chain_alloc() {
                nftnl_chain_set_str(chain, UInt16(NFTNL_CHAIN_TABLE.rawValue), name)
                nftnl_chain_nlmsg_build_payload(header, chain)
                nftnl_chain_free(chain)
            }
            return header
        }, handle: { header in
            guard let chain = nftnl_chain_alloc() else { return }
            defer { nftnl_chain_free(chain) }
            guard nftnl_chain_nlmsg_parse(header, chain) >= 0,
                  let table = nftnl_chain_get_str(chain, UInt16(NFTNL_CHAIN_TABLE.rawValue)), String(cString: table) == name,
                  let chainName = nftnl_chain_get_str(chain, UInt16(NFTNL_CHAIN_NAME.rawValue)) else { return }
            let isBase = nftnl_chain_is_set(chain, UInt16(NFTNL_CHAIN_HOOKNUM.rawValue))
            chains.items.append(LiveChain(
                name: String(cString: chainName),
                hook: isBase ? nftnl_chain_get_u32(chain, UInt16(NFTNL_CHAIN_HOOKNUM.rawValue)) : nil,
                priority: isBase ? nftnl_chain_get_s32(chain, UInt16(NFTNL_CHAIN_PRIO.rawValue)) : nil,
                rules: []))
        })

        let sets = Accumulator<LiveSet>()
        try socket.dump("list sets of \(name)", request: { buffer, seq in
            let header = nftnl_nlmsg_build_hdr(buffer, UInt16(NFT_MSG_GETSET.rawValue), family.netlinkFamily, UInt16(NLM_F_DUMP), seq)
            if let header, let set = nftnl_set_alloc() {
                nftnl_set_set_str(set, UInt16(NFTNL_SET_TABLE.rawValue), name)
                nftnl_set_nlmsg_build_payload(header, set)
                nftnl_set_free(set)
            }
            return header
        }, handle: { header in
            guard let set = nftnl_set_alloc() else { return }
            defer { nftnl_set_free(set) }
            guard nftnl_set_nlmsg_parse(header, set) >= 0,
                  let table = nftnl_set_get_str(set, UInt16(NFTNL_SET_TABLE.rawValue)), String(cString: table) == name,
                  let setName = nftnl_set_get_str(set, UInt16(NFTNL_SET_NAME.rawValue)) else { return }
            func u32(_ attribute: nftnl_set_attr) -> UInt32 {
                nftnl_set_is_set(set, UInt16(attribute.rawValue)) ? nftnl_set_get_u32(set, UInt16(attribute.rawValue)) : 0
            }
            sets.items.append(LiveSet(
                name: String(cString: setName), flags: u32(NFTNL_SET_FLAGS), keyType: u32(NFTNL_SET_KEY_TYPE),
                keyLength: u32(NFTNL_SET_KEY_LEN), dataType: u32(NFTNL_SET_DATA_TYPE), dataLength: u32(NFTNL_SET_DATA_LEN),
                timeoutMilliseconds: nftnl_set_is_set(set, UInt16(NFTNL_SET_TIMEOUT.rawValue))
                    ? nftnl_set_get_u64(set, UInt16(NFTNL_SET_TIMEOUT.rawValue)) : 0))
        })

        let rules = Accumulator<LiveRule>()
        try socket.dump("list rules of \(name)", request: { buffer, seq in
            let header = nftnl_nlmsg_build_hdr(buffer, UInt16(NFT_MSG_GETRULE.rawValue), family.netlinkFamily, UInt16(NLM_F_DUMP), seq)
            if let header, let rule = nftnl_rule_alloc() {
                nftnl_rule_set_str(rule, UInt16(NFTNL_RULE_TABLE.rawValue), name)
                nftnl_rule_nlmsg_build_payload(header, rule)
                nftnl_rule_free(rule)
            }
            return header
        }, handle: { header in
            if let rule = Self.decodeRule(header, table: name) { rules.items.append(rule) }
        })

        var result = chains.items
        for index in result.indices {
            result[index].rules = rules.items.filter { $0.chain == result[index].name }
        }
        return LiveTable(family: family, name: name, chains: result, sets: sets.items)
    }

    static func decodeRule(_ header: UnsafePointer<nlmsghdr>, table: String) -> LiveRule? {
        guard let rule = nftnl_rule_alloc() else { return nil }
        defer { nftnl_rule_free(rule) }
        guard nftnl_rule_nlmsg_parse(header, rule) >= 0,
              let tablePointer = nftnl_rule_get_str(rule, UInt16(NFTNL_RULE_TABLE.rawValue)), String(cString: tablePointer) == table,
              let chainPointer = nftnl_rule_get_str(rule, UInt16(NFTNL_RULE_CHAIN.rawValue)) else { return nil }
        final class Decoded {
            var expressions: [KernelExpression] = []
            var counters: (packets: UInt64, bytes: UInt64) = (0, 0)
        }
        let decoded = Decoded()
        let context = Unmanaged.passRetained(decoded)
        _ = nftnl_expr_foreach(rule, { expression, data in
            guard let expression, let data else { return 0 }
            let decoded = Unmanaged<Decoded>.fromOpaque(data).takeUnretainedValue()
            decoded.expressions.append(ExpressionCodec.decode(expression, counters: &decoded.counters))
            return 0
        }, context.toOpaque())
        context.release()
        var comment: String?
        var length: UInt32 = 0
        if let userdata = nftnl_rule_get_data(rule, UInt16(NFTNL_RULE_USERDATA.rawValue), &length) {
            comment = Userdata.comment(in: Array(UnsafeRawBufferPointer(start: userdata, count: Int(length))))
        }
        return LiveRule(
            chain: String(cString: chainPointer), handle: nftnl_rule_get_u64(rule, UInt16(NFTNL_RULE_HANDLE.rawValue)),
            comment: comment, expressions: decoded.expressions,
            packets: decoded.counters.packets, bytes: decoded.counters.bytes)
    }

    /// Lists a set's elements with remaining lifetime, comment and per-element counters.
    public func listElements(_ family: TableFamily, _ table: String, set name: String) throws -> [LiveSetElement] {
        try setElements(family, table, set: name, key: nil, purpose: "list elements of \(table) \(name)")
    }

    /// GETSETELEM: the whole set (a dump) when `key` is nil, else only the element with that key
    /// (a single answer ended by an acknowledgement; ENOENT when it is absent).
    func setElements(_ family: TableFamily, _ table: String, set name: String, key: [UInt8]?, purpose: String) throws -> [LiveSetElement] {
        let elements = Accumulator<LiveSetElement>()
        try socket.dump(purpose, request: { buffer, seq in
            let flags = key == nil ? NLM_F_DUMP : NLM_F_ACK
            let header = nftnl_nlmsg_build_hdr(buffer, UInt16(NFT_MSG_GETSETELEM.rawValue), family.netlinkFamily, UInt16(flags), seq)
            if let header, let set = nftnl_set_alloc() {
                nftnl_set_set_str(set, UInt16(NFTNL_SET_TABLE.rawValue), table)
                nftnl_set_set_str(set, UInt16(NFTNL_SET_NAME.rawValue), name)
                if let key { ElementSpec(key: key).attach(to: set) }
                nftnl_set_elems_nlmsg_build_payload(header, set)
                nftnl_set_free(set)
            }
            return header
        }, handle: { header in
            guard let set = nftnl_set_alloc() else { return }
            defer { nftnl_set_free(set) }
            guard nftnl_set_elems_nlmsg_parse(header, set) >= 0 else { return }
            let context = Unmanaged.passRetained(elements)
            _ = nftnl_set_elem_foreach(set, { element, data in
                guard let element, let data else { return 0 }
                let target = Unmanaged<Accumulator<LiveSetElement>>.fromOpaque(data).takeUnretainedValue()
                target.items.append(NftablesClient.decodeElement(element))
                return 0
            }, context.toOpaque())
            context.release()
        })
        return elements.items
    }

    static func decodeElement(_ element: OpaquePointer) -> LiveSetElement {
        func bytes(_ attribute: Int) -> [UInt8]? {
            guard nftnl_set_elem_is_set(element, UInt16(attribute)) else { return nil }
            var length: UInt32 = 0
            guard let pointer = nftnl_set_elem_get(element, UInt16(attribute), &length) else { return nil }
            return Array(UnsafeRawBufferPointer(start: pointer, count: Int(length)))
        }
        func u64(_ attribute: Int) -> UInt64? {
            nftnl_set_elem_is_set(element, UInt16(attribute)) ? nftnl_set_elem_get_u64(element, UInt16(attribute)) : nil
        }
        var result = LiveSetElement(
            key: bytes(NFTNL_SET_ELEM_KEY) ?? [], value: bytes(NFTNL_SET_ELEM_DATA),
            flags: nftnl_set_elem_is_set(element, UInt16(NFTNL_SET_ELEM_FLAGS)) ? nftnl_set_elem_get_u32(element, UInt16(NFTNL_SET_ELEM_FLAGS)) : 0,
            timeoutMilliseconds: u64(NFTNL_SET_ELEM_TIMEOUT), expiresInMilliseconds: u64(NFTNL_SET_ELEM_EXPIRATION),
            comment: bytes(NFTNL_SET_ELEM_USERDATA).flatMap(Userdata.comment(in:)))
        final class Counters { var packets: UInt64? ; var bytes: UInt64? }
        let counters = Counters()
        let context = Unmanaged.passRetained(counters)
        _ = nftnl_set_elem_expr_foreach(element, { expression, data in
            guard let expression, let data else { return 0 }
            let counters = Unmanaged<Counters>.fromOpaque(data).takeUnretainedValue()
            var values: (packets: UInt64, bytes: UInt64) = (0, 0)
            if case .counter = ExpressionCodec.decode(expression, counters: &values) {
                counters.packets = values.packets
                counters.bytes = values.bytes
            }
            return 0
        }, context.toOpaque())
        context.release()
        result.packets = counters.packets
        result.bytes = counters.bytes
        return result
    }
}
