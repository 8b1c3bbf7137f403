/// One nf_tables expression as the kernel holds it. Lowering produces these from `RuleTerm`s,
/// the netlink codec turns them into libnftnl objects and back, and the audit compares them, so
/// "what we meant" and "what the kernel has" meet in one vocabulary.
public enum KernelExpression: Hashable, Sendable, CustomStringConvertible {
    case meta(key: UInt32, destination: UInt32)
    case conntrack(key: UInt32, destination: UInt32)
    case payloadLoad(base: UInt32, offset: UInt32, length: UInt32, destination: UInt32)
    case payloadWrite(base: UInt32, offset: UInt32, length: UInt32, source: UInt32, checksumType: UInt32, checksumOffset: UInt32)
    case compare(op: UInt32, source: UInt32, data: [UInt8])
    case range(source: UInt32, from: [UInt8], to: [UInt8])
    case bitwise(source: UInt32, destination: UInt32, mask: [UInt8], xor: [UInt8])
    /// `inverted`: matches when the key is *not* in the set (`!= @set`, NFT_LOOKUP_F_INV).
    case lookup(set: String, source: UInt32, destination: UInt32?, inverted: Bool = false)
    case dynamicSet(op: UInt32, set: String, keySource: UInt32, timeoutMilliseconds: UInt64?, expressions: [KernelExpression])
    case limit(rate: UInt64, unitSeconds: UInt64, burst: UInt32, type: UInt32, flags: UInt32)
    case connectionLimit(count: UInt32, flags: UInt32)
    /// Counter values are not part of a rule's identity; they are read separately.
    case counter
    case verdict(code: Int32, chain: String?)
    case xtablesMatch(name: String, revision: UInt32, info: [UInt8])
    case nat(type: UInt32, family: UInt32, addressRegister: UInt32, protocolRegister: UInt32)
    case notrack
    /// Routing lookup (`fib`): `result` 3 is the address type (RTN_*), `flags` 2 looks up the
    /// destination address.
    case fib(result: UInt32, flags: UInt32, destination: UInt32)
    /// Hands the packet to the local socket listening on the address and/or port in these
    /// registers; a missing register means "keep the packet's own" (nft's `tproxy to :PORT`).
    case tproxy(family: UInt32, addressRegister: UInt32?, portRegister: UInt32?)
    /// An expression vos never emits (someone edited the table by hand).
    case unknown(name: String)

    public var description: String {
        switch self {
        case .meta(let key, let dreg): return "[ meta load \(KernelNames.metaKey(key)) => reg \(dreg) ]"
        case .conntrack(let key, let dreg): return "[ ct load \(key == 0 ? "state" : String(key)) => reg \(dreg) ]"
        case .payloadLoad(let base, let offset, let length, let dreg):
            return "[ payload load \(length)b @ \(KernelNames.payloadBase(base)) + \(offset) => reg \(dreg) ]"
        case .payloadWrite(let base, let offset, let length, let sreg, let csum, let csumOffset):
            return "[ payload write reg \(sreg) => \(length)b @ \(KernelNames.payloadBase(base)) + \(offset) csum_type \(csum) csum_off \(csumOffset) ]"
        case .compare(let op, let sreg, let data):
            return "[ cmp \(KernelNames.compareOp(op)) reg \(sreg) 0x\(RulesetRenderer.hex(data)) ]"
        case .range(let sreg, let from, let to):
            return "[ range eq reg \(sreg) 0x\(RulesetRenderer.hex(from)) 0x\(RulesetRenderer.hex(to)) ]"
        case .bitwise(let sreg, let dreg, let mask, let xor):
            return "[ bitwise reg \(dreg) = ( reg \(sreg) & 0x\(RulesetRenderer.hex(mask)) ) ^ 0x\(RulesetRenderer.hex(xor)) ]"
        case .lookup(let set, let sreg, let dreg, let inverted):
            return "[ lookup reg \(sreg) set \(set)\(dreg.map { " dreg \($0)" } ?? "")\(inverted ? " 0x1" : "") ]"
        case .dynamicSet(let op, let set, let sreg, let timeout, let nested):
            let name = ["add", "update", "delete"][Int(min(op, 2))]
            let timeoutText = timeout.map { " timeout \($0)ms" } ?? ""
            let nestedText = nested.isEmpty ? "" : " expr \(nested.map(\.description).joined(separator: " "))"
            return "[ dynset \(name) reg_key \(sreg) set \(set)\(timeoutText)\(nestedText) ]"
        case .limit(let rate, let unit, let burst, let type, let flags):
            return "[ limit rate \(rate)/\(unit)s burst \(burst) type \(type == 0 ? "packets" : "bytes") flags 0x\(String(flags, radix: 16)) ]"
        case .connectionLimit(let count, let flags): return "[ connlimit count \(count) flags \(flags) ]"
        case .counter: return "[ counter ]"
        case .verdict(let code, let chain):
            return "[ immediate reg 0 \(KernelNames.verdict(code))\(chain.map { " -> \($0)" } ?? "") ]"
        case .xtablesMatch(let name, let revision, let info):
            if name == "string", let decoded = StringMatchInfo(blob: info) {
                return "[ match string rev \(revision) \"\(decoded.pattern)\" algo \(decoded.algorithm) from \(decoded.fromOffset) to \(decoded.toOffset) ]"
            }
            return "[ match \(name) rev \(revision) info \(info.count)b ]"
        case .nat(let type, let family, let addressRegister, let protoRegister):
            return "[ nat \(type == 0 ? "snat" : "dnat") \(family == 2 ? "ip" : String(family)) addr_min reg \(addressRegister) proto_min reg \(protoRegister) ]"
        case .tproxy(let family, let addressRegister, let portRegister):
            let parts = [KernelNames.family(family)] + [addressRegister.map { "addr reg \($0)" }, portRegister.map { "port reg \($0)" }]
            return "[ tproxy \(parts.compactMap { $0 }.joined(separator: " ")) ]"
        case .notrack: return "[ notrack ]"
        case .fib(let result, let flags, let dreg):
            let lookup = [(1, "saddr"), (2, "daddr"), (4, "mark"), (8, "iif"), (16, "oif")].filter { flags & UInt32($0.0) != 0 }.map(\.1)
            let what = result == 3 ? "type" : result == 2 ? "oifname" : result == 1 ? "oif" : String(result)
            return "[ fib \(lookup.joined(separator: " . ")) \(what) => reg \(dreg) ]"
        case .unknown(let name): return "[ \(name) (not decoded) ]"
        }
    }
}

enum KernelNames {
    static func metaKey(_ key: UInt32) -> String {
        switch key {
        case 3: return "mark"
        case 6: return "iifname"
        case 15: return "nfproto"
        case 16: return "l4proto"
        default: return "key \(key)"
        }
    }

    /// libnftnl's spelling of an NFPROTO_* value; 0 (unspecified) prints nothing.
    static func family(_ family: UInt32) -> String? {
        switch family {
        case 0: return nil
        case 1: return "inet"
        case 2: return "ip"
        case 10: return "ip6"
        default: return "family \(family)"
        }
    }

    static func payloadBase(_ base: UInt32) -> String {
        ["link layer header", "network header", "transport header", "inner header"][Int(min(base, 3))]
    }

    static func compareOp(_ op: UInt32) -> String {
        ["eq", "neq", "lt", "lte", "gt", "gte"][Int(min(op, 5))]
    }

    static func verdict(_ code: Int32) -> String {
        switch code {
        case 0: return "drop"
        case 1: return "accept"
        case -1: return "continue"
        case -3: return "jump"
        case -4: return "goto"
        case -5: return "return"
        default: return "verdict \(code)"
        }
    }
}
