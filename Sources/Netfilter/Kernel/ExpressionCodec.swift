import CNftnl
import Glibc

/// Converts `KernelExpression` to libnftnl expression objects and back.
enum ExpressionCodec {
    static func attr(_ value: Int) -> UInt16 { UInt16(value) }

    /// Builds a libnftnl expression; the caller hands ownership to a rule or parent expression.
    static func build(_ expression: KernelExpression) throws -> OpaquePointer {
        func make(_ name: String) throws -> OpaquePointer {
            guard let e = nftnl_expr_alloc(name) else {
                throw NetfilterError.kernel(operation: "allocate \(name) expression", errno: ENOMEM, reason: "out of memory")
            }
            return e
        }
        func setBytes(_ e: OpaquePointer, _ a: Int, _ bytes: [UInt8]) {
            bytes.withUnsafeBytes { _ = nftnl_expr_set(e, attr(a), $0.baseAddress, UInt32($0.count)) }
        }
        switch expression {
        case .meta(let key, let dreg):
            let e = try make("meta")
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_META_KEY), key)
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_META_DREG), dreg)
            return e
        case .conntrack(let key, let dreg):
            let e = try make("ct")
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_CT_KEY), key)
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_CT_DREG), dreg)
            return e
        case .payloadLoad(let base, let offset, let length, let dreg):
            let e = try make("payload")
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_PAYLOAD_BASE), base)
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_PAYLOAD_OFFSET), offset)
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_PAYLOAD_LEN), length)
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_PAYLOAD_DREG), dreg)
            return e
        case .payloadWrite(let base, let offset, let length, let sreg, let csumType, let csumOffset):
            let e = try make("payload")
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_PAYLOAD_BASE), base)
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_PAYLOAD_OFFSET), offset)
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_PAYLOAD_LEN), length)
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_PAYLOAD_SREG), sreg)
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_PAYLOAD_CSUM_TYPE), csumType)
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_PAYLOAD_CSUM_OFFSET), csumOffset)
            return e
        case .compare(let op, let sreg, let data):
            let e = try make("cmp")
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_CMP_SREG), sreg)
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_CMP_OP), op)
            setBytes(e, NFTNL_EXPR_CMP_DATA, data)
            return e
        case .range(let sreg, let from, let to):
            let e = try make("range")
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_RANGE_SREG), sreg)
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_RANGE_OP), 0)
            setBytes(e, NFTNL_EXPR_RANGE_FROM_DATA, from)
            setBytes(e, NFTNL_EXPR_RANGE_TO_DATA, to)
            return e
        case .bitwise(let sreg, let dreg, let mask, let xor):
            let e = try make("bitwise")
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_BITWISE_SREG), sreg)
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_BITWISE_DREG), dreg)
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_BITWISE_LEN), UInt32(mask.count))
            setBytes(e, NFTNL_EXPR_BITWISE_MASK, mask)
            setBytes(e, NFTNL_EXPR_BITWISE_XOR, xor)
            return e
        case .lookup(let set, let sreg, let dreg, let inverted):
            let e = try make("lookup")
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_LOOKUP_SREG), sreg)
            nftnl_expr_set_str(e, attr(NFTNL_EXPR_LOOKUP_SET), set)
            if let dreg { nftnl_expr_set_u32(e, attr(NFTNL_EXPR_LOOKUP_DREG), dreg) }
            if inverted { nftnl_expr_set_u32(e, attr(NFTNL_EXPR_LOOKUP_FLAGS), UInt32(NFT_LOOKUP_F_INV.rawValue)) }
            return e
        case .dynamicSet(let op, let set, let sreg, let timeout, let nested):
            let e = try make("dynset")
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_DYNSET_OP), op)
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_DYNSET_SREG_KEY), sreg)
            nftnl_expr_set_str(e, attr(NFTNL_EXPR_DYNSET_SET_NAME), set)
            if let timeout { nftnl_expr_set_u64(e, attr(NFTNL_EXPR_DYNSET_TIMEOUT), timeout) }
            for child in nested {
                let built: OpaquePointer
                do { built = try build(child) } catch { nftnl_expr_free(e); throw error }
                nftnl_expr_add_expr(e, UInt32(NFTNL_EXPR_DYNSET_EXPRESSIONS), built)
            }
            return e
        case .limit(let rate, let unit, let burst, let type, let flags):
            let e = try make("limit")
            nftnl_expr_set_u64(e, attr(NFTNL_EXPR_LIMIT_RATE), rate)
            nftnl_expr_set_u64(e, attr(NFTNL_EXPR_LIMIT_UNIT), unit)
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_LIMIT_BURST), burst)
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_LIMIT_TYPE), type)
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_LIMIT_FLAGS), flags)
            return e
        case .connectionLimit(let count, let flags):
            let e = try make("connlimit")
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_CONNLIMIT_COUNT), count)
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_CONNLIMIT_FLAGS), flags)
            return e
        case .counter:
            return try make("counter")
        case .verdict(let code, let chain):
            let e = try make("immediate")
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_IMM_DREG), 0)
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_IMM_VERDICT), UInt32(bitPattern: code))
            if let chain { nftnl_expr_set_str(e, attr(NFTNL_EXPR_IMM_CHAIN), chain) }
            return e
        case .xtablesMatch(let name, let revision, let info):
            let e = try make("match")
            nftnl_expr_set_str(e, attr(NFTNL_EXPR_MT_NAME), name)
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_MT_REV), revision)
            // libnftnl keeps (and later frees) the info pointer instead of copying it.
            guard let owned = malloc(info.count) else {
                nftnl_expr_free(e)
                throw NetfilterError.kernel(operation: "allocate match info", errno: ENOMEM, reason: "out of memory")
            }
            info.withUnsafeBytes { source in
                if let base = source.baseAddress { _ = memcpy(owned, base, info.count) }
            }
            nftnl_expr_set(e, attr(NFTNL_EXPR_MT_INFO), owned, UInt32(info.count))
            return e
        case .nat(let type, let family, let addressRegister, let protocolRegister):
            let e = try make("nat")
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_NAT_TYPE), type)
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_NAT_FAMILY), family)
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_NAT_REG_ADDR_MIN), addressRegister)
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_NAT_REG_PROTO_MIN), protocolRegister)
            return e
        case .tproxy(let family, let addressRegister, let portRegister):
            let e = try make("tproxy")
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_TPROXY_FAMILY), family)
            if let addressRegister { nftnl_expr_set_u32(e, attr(NFTNL_EXPR_TPROXY_REG_ADDR), addressRegister) }
            if let portRegister { nftnl_expr_set_u32(e, attr(NFTNL_EXPR_TPROXY_REG_PORT), portRegister) }
            return e
        case .notrack:
            return try make("notrack")
        case .fib(let result, let flags, let dreg):
            let e = try make("fib")
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_FIB_RESULT), result)
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_FIB_FLAGS), flags)
            nftnl_expr_set_u32(e, attr(NFTNL_EXPR_FIB_DREG), dreg)
            return e
        case .unknown(let name):
            throw NetfilterError.invalidInput("cannot build undecoded expression \(name)")
        }
    }

    /// Decodes one libnftnl expression; counter values go to `counters`.
    static func decode(_ e: OpaquePointer, counters: inout (packets: UInt64, bytes: UInt64)) -> KernelExpression {
        let name = nftnl_expr_get_str(e, attr(NFTNL_EXPR_NAME)).map { String(cString: $0) } ?? "?"
        func u32(_ a: Int) -> UInt32 { nftnl_expr_get_u32(e, attr(a)) }
        func has(_ a: Int) -> Bool { nftnl_expr_is_set(e, attr(a)) }
        func bytes(_ a: Int) -> [UInt8] {
            var length: UInt32 = 0
            guard let pointer = nftnl_expr_get(e, attr(a), &length) else { return [] }
            return Array(UnsafeRawBufferPointer(start: pointer, count: Int(length)))
        }
        func string(_ a: Int) -> String { nftnl_expr_get_str(e, attr(a)).map { String(cString: $0) } ?? "" }

        switch name {
        case "meta": return .meta(key: u32(NFTNL_EXPR_META_KEY), destination: u32(NFTNL_EXPR_META_DREG))
        case "ct": return .conntrack(key: u32(NFTNL_EXPR_CT_KEY), destination: u32(NFTNL_EXPR_CT_DREG))
        case "payload":
            if has(NFTNL_EXPR_PAYLOAD_SREG) {
                return .payloadWrite(
                    base: u32(NFTNL_EXPR_PAYLOAD_BASE), offset: u32(NFTNL_EXPR_PAYLOAD_OFFSET),
                    length: u32(NFTNL_EXPR_PAYLOAD_LEN), source: u32(NFTNL_EXPR_PAYLOAD_SREG),
                    checksumType: u32(NFTNL_EXPR_PAYLOAD_CSUM_TYPE), checksumOffset: u32(NFTNL_EXPR_PAYLOAD_CSUM_OFFSET))
            }
            return .payloadLoad(
                base: u32(NFTNL_EXPR_PAYLOAD_BASE), offset: u32(NFTNL_EXPR_PAYLOAD_OFFSET),
                length: u32(NFTNL_EXPR_PAYLOAD_LEN), destination: u32(NFTNL_EXPR_PAYLOAD_DREG))
        case "cmp": return .compare(op: u32(NFTNL_EXPR_CMP_OP), source: u32(NFTNL_EXPR_CMP_SREG), data: bytes(NFTNL_EXPR_CMP_DATA))
        case "range":
            return .range(source: u32(NFTNL_EXPR_RANGE_SREG), from: bytes(NFTNL_EXPR_RANGE_FROM_DATA), to: bytes(NFTNL_EXPR_RANGE_TO_DATA))
        case "bitwise":
            return .bitwise(
                source: u32(NFTNL_EXPR_BITWISE_SREG), destination: u32(NFTNL_EXPR_BITWISE_DREG),
                mask: bytes(NFTNL_EXPR_BITWISE_MASK), xor: bytes(NFTNL_EXPR_BITWISE_XOR))
        case "lookup":
            return .lookup(
                set: string(NFTNL_EXPR_LOOKUP_SET), source: u32(NFTNL_EXPR_LOOKUP_SREG),
                destination: has(NFTNL_EXPR_LOOKUP_DREG) ? u32(NFTNL_EXPR_LOOKUP_DREG) : nil,
                inverted: has(NFTNL_EXPR_LOOKUP_FLAGS) && u32(NFTNL_EXPR_LOOKUP_FLAGS) & UInt32(NFT_LOOKUP_F_INV.rawValue) != 0)
        case "dynset":
            let collector = ExpressionCollector()
            let context = Unmanaged.passRetained(collector)
            _ = nftnl_expr_expr_foreach(e, { child, data in
                guard let child, let data else { return 0 }
                let collector = Unmanaged<ExpressionCollector>.fromOpaque(data).takeUnretainedValue()
                var ignored: (packets: UInt64, bytes: UInt64) = (0, 0)
                collector.expressions.append(ExpressionCodec.decode(child, counters: &ignored))
                return 0
            }, context.toOpaque())
            context.release()
            let timeout = has(NFTNL_EXPR_DYNSET_TIMEOUT) ? nftnl_expr_get_u64(e, attr(NFTNL_EXPR_DYNSET_TIMEOUT)) : 0
            return .dynamicSet(
                op: u32(NFTNL_EXPR_DYNSET_OP), set: string(NFTNL_EXPR_DYNSET_SET_NAME),
                keySource: u32(NFTNL_EXPR_DYNSET_SREG_KEY), timeoutMilliseconds: timeout == 0 ? nil : timeout,
                expressions: collector.expressions)
        case "limit":
            return .limit(
                rate: nftnl_expr_get_u64(e, attr(NFTNL_EXPR_LIMIT_RATE)), unitSeconds: nftnl_expr_get_u64(e, attr(NFTNL_EXPR_LIMIT_UNIT)),
                burst: u32(NFTNL_EXPR_LIMIT_BURST), type: u32(NFTNL_EXPR_LIMIT_TYPE), flags: u32(NFTNL_EXPR_LIMIT_FLAGS))
        case "connlimit": return .connectionLimit(count: u32(NFTNL_EXPR_CONNLIMIT_COUNT), flags: u32(NFTNL_EXPR_CONNLIMIT_FLAGS))
        case "counter":
            counters.packets += nftnl_expr_get_u64(e, attr(NFTNL_EXPR_CTR_PACKETS))
            counters.bytes += nftnl_expr_get_u64(e, attr(NFTNL_EXPR_CTR_BYTES))
            return .counter
        case "immediate":
            guard has(NFTNL_EXPR_IMM_VERDICT) else { return .unknown(name: "immediate data") }
            return .verdict(
                code: Int32(bitPattern: u32(NFTNL_EXPR_IMM_VERDICT)),
                chain: has(NFTNL_EXPR_IMM_CHAIN) ? string(NFTNL_EXPR_IMM_CHAIN) : nil)
        case "match":
            return .xtablesMatch(name: string(NFTNL_EXPR_MT_NAME), revision: u32(NFTNL_EXPR_MT_REV), info: bytes(NFTNL_EXPR_MT_INFO))
        case "nat":
            return .nat(
                type: u32(NFTNL_EXPR_NAT_TYPE), family: u32(NFTNL_EXPR_NAT_FAMILY),
                addressRegister: u32(NFTNL_EXPR_NAT_REG_ADDR_MIN), protocolRegister: u32(NFTNL_EXPR_NAT_REG_PROTO_MIN))
        case "tproxy":
            return .tproxy(
                family: has(NFTNL_EXPR_TPROXY_FAMILY) ? u32(NFTNL_EXPR_TPROXY_FAMILY) : 0,
                addressRegister: has(NFTNL_EXPR_TPROXY_REG_ADDR) ? u32(NFTNL_EXPR_TPROXY_REG_ADDR) : nil,
                portRegister: has(NFTNL_EXPR_TPROXY_REG_PORT) ? u32(NFTNL_EXPR_TPROXY_REG_PORT) : nil)
        case "notrack": return .notrack
        case "fib":
            return .fib(result: u32(NFTNL_EXPR_FIB_RESULT), flags: u32(NFTNL_EXPR_FIB_FLAGS), destination: u32(NFTNL_EXPR_FIB_DREG))
        default:
            return .unknown(name: name)
        }
    }
}

final class ExpressionCollector {
    var expressions: [KernelExpression] = []
}
