import VOSModel

/// Translates rule terms into kernel expressions the way nft does, including the implicit
/// protocol checks nft adds (`meta nfproto` before `ip saddr` in an inet table, `meta l4proto`
/// before `udp dport`), so a table programmed by vos and one loaded by `nft -f` look the same.
struct RuleLowering {
    static let register1: UInt32 = 1
    /// NFT_REG32_00: 32-bit register numbering used for the second and later concatenation fields.
    static let firstRegister32: UInt32 = 8

    let tableFamily: TableFamily
    private var knownNetworkProtocol: AddressFamily?
    private var knownTransport: TransportProtocol?
    private(set) var expressions: [KernelExpression] = []

    init(tableFamily: TableFamily) {
        self.tableFamily = tableFamily
        switch tableFamily {
        case .ip: knownNetworkProtocol = .ipv4
        case .ip6: knownNetworkProtocol = .ipv6
        case .inet: knownNetworkProtocol = nil
        }
    }

    static func lower(_ rule: Rule, in family: TableFamily) throws -> [KernelExpression] {
        var lowering = RuleLowering(tableFamily: family)
        for term in rule.terms { try lowering.append(term) }
        return lowering.expressions
    }

    private mutating func requireNetwork(_ family: AddressFamily) {
        guard knownNetworkProtocol != family else { return }
        expressions.append(.meta(key: 15, destination: Self.register1))
        expressions.append(.compare(op: 0, source: Self.register1, data: [family.nfproto]))
        knownNetworkProtocol = family
    }

    private mutating func requireTransport(_ proto: TransportProtocol) {
        guard knownTransport != proto else { return }
        expressions.append(.meta(key: 16, destination: Self.register1))
        expressions.append(.compare(op: 0, source: Self.register1, data: [proto.number]))
        knownTransport = proto
    }

    private mutating func loadSource(_ family: AddressFamily, into register: UInt32 = register1) {
        requireNetwork(family)
        expressions.append(.payloadLoad(base: 1, offset: family.sourceOffset, length: family.addressLength, destination: register))
    }

    /// Loads concatenated key fields into consecutive 32-bit registers starting at register 1.
    private mutating func loadConcatenation(_ fields: [PacketField]) {
        // Protocol checks use register 1 too, so they all come before the first field load.
        for field in fields {
            switch field {
            case .ipSource, .ipDestination: requireNetwork(.ipv4)
            case .udpSourcePort, .udpDestinationPort: requireTransport(.udp)
            }
        }
        var slot: UInt32 = 0
        for field in fields {
            let register = slot == 0 ? Self.register1 : Self.firstRegister32 + slot
            switch field {
            case .ipSource: requireNetwork(.ipv4); expressions.append(.payloadLoad(base: 1, offset: 12, length: 4, destination: register))
            case .ipDestination: requireNetwork(.ipv4); expressions.append(.payloadLoad(base: 1, offset: 16, length: 4, destination: register))
            case .udpSourcePort: requireTransport(.udp); expressions.append(.payloadLoad(base: 2, offset: 0, length: 2, destination: register))
            case .udpDestinationPort: requireTransport(.udp); expressions.append(.payloadLoad(base: 2, offset: 2, length: 2, destination: register))
            }
            slot += UInt32(field.setFieldType.registerAlignedLength / 4)
        }
    }

    private static func hostOrder(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }
    private static func bigEndian(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xff)] }

    mutating func append(_ term: RuleTerm) throws {
        let r1 = Self.register1
        switch term {
        case .inputInterface(let name):
            var bytes = Array(name.utf8.prefix(15))
            bytes += [UInt8](repeating: 0, count: 16 - bytes.count)
            expressions += [.meta(key: 6, destination: r1), .compare(op: 0, source: r1, data: bytes)]
        case .explicitTransport(let proto):
            requireTransport(proto)
        case .sourceInSet(let family, let set):
            loadSource(family)
            expressions.append(.lookup(set: set, source: r1, destination: nil))
        case .destinationPortInSet(let proto, let set):
            requireTransport(proto)
            expressions += [.payloadLoad(base: 2, offset: 2, length: 2, destination: r1), .lookup(set: set, source: r1, destination: nil)]
        case .destinationPortRange(let proto, let range):
            requireTransport(proto)
            expressions += [
                .payloadLoad(base: 2, offset: 2, length: 2, destination: r1),
                .compare(op: 5, source: r1, data: Self.bigEndian(range.lowerBound)),
                .compare(op: 3, source: r1, data: Self.bigEndian(range.upperBound)),
            ]
        case .conntrackState(let states):
            let mask = states.reduce(UInt32(0)) { $0 | $1.bit }
            expressions += [
                .conntrack(key: 0, destination: r1),
                .bitwise(source: r1, destination: r1, mask: Self.hostOrder(mask), xor: Self.hostOrder(0)),
                .compare(op: 1, source: r1, data: Self.hostOrder(0)),
            ]
        case .transportPayloadPrefix(let bitOffset, let bytes):
            guard bitOffset % 8 == 0, !bytes.isEmpty, bytes.count <= 16 else {
                throw NetfilterError.invalidInput("payload prefix must be byte aligned and 1...16 bytes")
            }
            expressions += [
                .payloadLoad(base: 2, offset: UInt32(bitOffset / 8), length: UInt32(bytes.count), destination: r1),
                .compare(op: 0, source: r1, data: bytes),
            ]
        case .stringMatch(let pattern):
            expressions.append(.xtablesMatch(name: "string", revision: StringMatchInfo.revision, info: try StringMatchInfo(pattern: pattern).blob()))
        case .meterOver(let family, let set, let rate, let burst):
            loadSource(family)
            expressions.append(.dynamicSet(
                op: 1, set: set, keySource: r1, timeoutMilliseconds: nil,
                expressions: [.limit(rate: UInt64(rate), unitSeconds: 1, burst: UInt32(burst), type: 0, flags: 1)]))
        case .addSourceToSet(let family, let set, let timeout):
            loadSource(family)
            expressions.append(.dynamicSet(op: 0, set: set, keySource: r1, timeoutMilliseconds: timeout.map { UInt64($0) * 1000 }, expressions: []))
        case .conntrackCountOver(let family, let set, let prefixLength, let count):
            loadSource(family)
            if let prefixLength {
                let mask = IPPrefix.maskBytes(length: prefixLength, byteCount: Int(family.addressLength))
                expressions.append(.bitwise(source: r1, destination: r1, mask: mask, xor: [UInt8](repeating: 0, count: mask.count)))
            }
            expressions.append(.dynamicSet(op: 0, set: set, keySource: r1, timeoutMilliseconds: nil, expressions: [.connectionLimit(count: UInt32(count), flags: 1)]))
        case .concatenationInSet(let fields, let set):
            loadConcatenation(fields)
            expressions.append(.lookup(set: set, source: r1, destination: nil))
        case .concatenationNotInSet(let fields, let set):
            loadConcatenation(fields)
            expressions.append(.lookup(set: set, source: r1, destination: nil, inverted: true))
        case .destinationNATMap(let fields, let map), .sourceNATMap(let fields, let map):
            loadConcatenation(fields)
            let isDestination = { if case .destinationNATMap = term { return true } else { return false } }()
            expressions += [
                .lookup(set: map, source: r1, destination: r1),
                .nat(type: isDestination ? 1 : 0, family: 2, addressRegister: r1, protocolRegister: Self.firstRegister32 + 1),
            ]
        case .transparentProxyMap(let fields, let map):
            requireNetwork(.ipv4)
            requireTransport(.udp)
            loadConcatenation(fields)
            expressions += [
                .lookup(set: map, source: r1, destination: r1),
                .tproxy(family: UInt32(AddressFamily.ipv4.nfproto), addressRegister: nil, portRegister: r1),
            ]
        case .setDSCP(let dscp):
            requireNetwork(.ipv4)
            // DSCP is the top six bits of the second header byte; nft rewrites the first 16 bits
            // keeping version/IHL and ECN, and lets the kernel fix the header checksum.
            expressions += [
                .payloadLoad(base: 1, offset: 0, length: 2, destination: r1),
                .bitwise(source: r1, destination: r1, mask: [0xff, 0x03], xor: [0x00, dscp << 2]),
                .payloadWrite(base: 1, offset: 0, length: 2, source: r1, checksumType: 1, checksumOffset: 10),
            ]
        case .packetMark(let mark):
            expressions += [.meta(key: 3, destination: r1), .compare(op: 0, source: r1, data: Self.hostOrder(mark))]
        case .noConntrack:
            expressions.append(.notrack)
        case .destinationIsLocal:
            // RTN_LOCAL (2), host order like every 32-bit register value nft compares.
            expressions += [.fib(result: 3, flags: 2, destination: r1), .compare(op: 0, source: r1, data: Self.hostOrder(2))]
        case .counter:
            expressions.append(.counter)
        case .verdict(.accept):
            expressions.append(.verdict(code: 1, chain: nil))
        case .verdict(.drop):
            expressions.append(.verdict(code: 0, chain: nil))
        case .verdict(.jump(let chain)):
            expressions.append(.verdict(code: -3, chain: chain))
        }
    }
}
