import CNftnl

/// One set element to program.
struct ElementSpec {
    var key: [UInt8]
    var value: [UInt8]?
    /// NFT_SET_ELEM_INTERVAL_END for the closing element of a range.
    var flags: UInt32
    var timeoutMilliseconds: UInt64?
    var expirationMilliseconds: UInt64?
    var comment: String?

    init(key: [UInt8], value: [UInt8]? = nil, flags: UInt32 = 0, timeoutMilliseconds: UInt64? = nil,
         expirationMilliseconds: UInt64? = nil, comment: String? = nil) {
        self.key = key
        self.value = value
        self.flags = flags
        self.timeoutMilliseconds = timeoutMilliseconds
        self.expirationMilliseconds = expirationMilliseconds
        self.comment = comment
    }

    static let intervalEnd: UInt32 = 1

    /// Interval sets hold ranges as start/end pairs, with a leading end element at zero like nft.
    static func staticElements(of set: NamedSet) -> [ElementSpec] {
        var specs: [ElementSpec] = []
        for element in set.elements {
            switch element {
            case .port(let port): specs.append(ElementSpec(key: [UInt8(port >> 8), UInt8(port & 0xff)]))
            case .prefix(let prefix):
                if set.flags.contains(.interval) {
                    specs.append(ElementSpec(key: prefix.network.bytes))
                    if let end = prefix.endExclusive { specs.append(ElementSpec(key: end, flags: intervalEnd)) }
                } else {
                    specs.append(ElementSpec(key: prefix.network.bytes))
                }
            }
        }
        if set.flags.contains(.interval), let first = specs.first, first.key.contains(where: { $0 != 0 }) {
            specs.insert(ElementSpec(key: [UInt8](repeating: 0, count: first.key.count), flags: intervalEnd), at: 0)
        }
        return specs
    }

    func attach(to set: OpaquePointer) {
        guard let element = nftnl_set_elem_alloc() else { return }
        key.withUnsafeBytes { _ = nftnl_set_elem_set(element, UInt16(NFTNL_SET_ELEM_KEY), $0.baseAddress, UInt32($0.count)) }
        if let value {
            value.withUnsafeBytes { _ = nftnl_set_elem_set(element, UInt16(NFTNL_SET_ELEM_DATA), $0.baseAddress, UInt32($0.count)) }
        }
        if flags != 0 { nftnl_set_elem_set_u32(element, UInt16(NFTNL_SET_ELEM_FLAGS), flags) }
        if let timeoutMilliseconds { nftnl_set_elem_set_u64(element, UInt16(NFTNL_SET_ELEM_TIMEOUT), timeoutMilliseconds) }
        if let expirationMilliseconds, expirationMilliseconds > 0 {
            nftnl_set_elem_set_u64(element, UInt16(NFTNL_SET_ELEM_EXPIRATION), expirationMilliseconds)
        }
        if let comment, let userdata = Userdata.comment(comment) {
            userdata.withUnsafeBytes { _ = nftnl_set_elem_set(element, UInt16(NFTNL_SET_ELEM_USERDATA), $0.baseAddress, UInt32($0.count)) }
        }
        nftnl_set_elem_add(set, element)
    }
}
