import CMnl
import CNftnl
import Glibc

/// Programs and reads vos's nftables tables over netlink (libnftnl + libmnl), never through the
/// `nft` program. Works in the network namespace of the thread that created it. Not
/// thread-safe: give each thread or actor its own client.
public final class NftablesClient {
    let socket: NetlinkSocket

    public init() throws {
        socket = try NetlinkSocket()
    }

    /// Replaces `table` atomically: one batch creates it if missing, deletes it and recreates it
    /// with the model's content. Other tables are never touched. Elements of sets marked
    /// `keepsLiveElements` (bans) are read first and re-added with their remaining lifetime.
    public func apply(_ table: Table) throws {
        var preserved: [String: [LiveSetElement]] = [:]
        if try tableExists(table.family, table.name) {
            for set in table.sets where set.keepsLiveElements {
                do {
                    preserved[set.name] = try listElements(table.family, table.name, set: set.name)
                } catch let NetfilterError.kernel(_, code, _) where code == ENOENT {
                    continue  // an older table without this set: nothing to keep
                }
            }
        }
        let batch = NetlinkBatch(socket: socket)
        try addTableMessages(table, to: batch, replacing: true)
        for (setName, elements) in preserved.sorted(by: { $0.key < $1.key }) where !elements.isEmpty {
            guard let set = table.set(named: setName) else { continue }
            let specs = elements.map {
                ElementSpec(key: $0.key, value: $0.value, flags: 0, timeoutMilliseconds: $0.timeoutMilliseconds,
                            expirationMilliseconds: $0.expiresInMilliseconds, comment: $0.comment)
            }
            addElementMessages(table, set, specs, to: batch, adding: true)
        }
        try socket.send(batch)
    }

    /// Creates the table only when it is missing or differs from the model (then it is
    /// replaced, dropping its dynamic elements). Returns true when the kernel was changed.
    @discardableResult
    public func ensure(_ table: Table) throws -> Bool {
        if try tableExists(table.family, table.name), try audit(table).isEmpty { return false }
        let batch = NetlinkBatch(socket: socket)
        try addTableMessages(table, to: batch, replacing: true)
        try socket.send(batch)
        return true
    }

    /// Removes a vos table (no error when it does not exist).
    public func delete(_ family: TableFamily, _ name: String) throws {
        let batch = NetlinkBatch(socket: socket)
        let tableObject = try TableObject(family: family, name: name)
        batch.add(UInt32(NFT_MSG_NEWTABLE.rawValue), family: family.netlinkFamily, flags: NLM_F_CREATE,
                  what: "create table \(family.rawValue) \(name)") { nftnl_table_nlmsg_build_payload($0, tableObject.pointer) }
        batch.add(UInt32(NFT_MSG_DELTABLE.rawValue), family: family.netlinkFamily, flags: 0,
                  what: "delete table \(family.rawValue) \(name)") { nftnl_table_nlmsg_build_payload($0, tableObject.pointer) }
        try socket.send(batch)
    }

    func addTableMessages(_ table: Table, to batch: NetlinkBatch, replacing: Bool) throws {
        let family = table.family.netlinkFamily
        let label = "\(table.family.rawValue) \(table.name)"
        let tableObject = try TableObject(family: table.family, name: table.name)
        batch.add(UInt32(NFT_MSG_NEWTABLE.rawValue), family: family, flags: NLM_F_CREATE, what: "create table \(label)") {
            nftnl_table_nlmsg_build_payload($0, tableObject.pointer)
        }
        if replacing {
            batch.add(UInt32(NFT_MSG_DELTABLE.rawValue), family: family, flags: 0, what: "delete table \(label)") {
                nftnl_table_nlmsg_build_payload($0, tableObject.pointer)
            }
            batch.add(UInt32(NFT_MSG_NEWTABLE.rawValue), family: family, flags: NLM_F_CREATE, what: "recreate table \(label)") {
                nftnl_table_nlmsg_build_payload($0, tableObject.pointer)
            }
        }
        for (index, set) in table.sets.enumerated() {
            let setObject = try SetObject(table: table, set: set, id: UInt32(index + 1))
            batch.add(UInt32(NFT_MSG_NEWSET.rawValue), family: family, flags: NLM_F_CREATE, what: "create set \(label) \(set.name)") {
                nftnl_set_nlmsg_build_payload($0, setObject.pointer)
            }
            let specs = ElementSpec.staticElements(of: set)
            if !specs.isEmpty { addElementMessages(table, set, specs, to: batch, adding: true) }
        }
        for chain in table.chains {
            let chainObject = try ChainObject(table: table, chain: chain)
            batch.add(UInt32(NFT_MSG_NEWCHAIN.rawValue), family: family, flags: NLM_F_CREATE, what: "create chain \(label) \(chain.name)") {
                nftnl_chain_nlmsg_build_payload($0, chainObject.pointer)
            }
        }
        for chain in table.chains {
            for rule in chain.rules {
                let ruleObject = try RuleObject(table: table, chain: chain.name, rule: rule)
                batch.add(UInt32(NFT_MSG_NEWRULE.rawValue), family: family, flags: NLM_F_CREATE | NLM_F_APPEND,
                          what: "add rule to \(label) \(chain.name) (\(rule.comment))") {
                    nftnl_rule_nlmsg_build_payload($0, ruleObject.pointer)
                }
            }
        }
    }

    /// Adds or deletes elements; one message carries many, the kernel limits it to one batch.
    func addElementMessages(_ table: Table, _ set: NamedSet, _ elements: [ElementSpec], to batch: NetlinkBatch, adding: Bool) {
        // Keep each message well under the 64 KiB scratch page.
        for chunk in stride(from: 0, to: elements.count, by: 200).map({ Array(elements[$0..<min($0 + 200, elements.count)]) }) {
            guard let setPointer = nftnl_set_alloc() else { continue }
            defer { nftnl_set_free(setPointer) }
            nftnl_set_set_str(setPointer, UInt16(NFTNL_SET_TABLE.rawValue), table.name)
            nftnl_set_set_str(setPointer, UInt16(NFTNL_SET_NAME.rawValue), set.name)
            nftnl_set_set_u32(setPointer, UInt16(NFTNL_SET_FAMILY.rawValue), UInt32(table.family.netlinkFamily))
            for spec in chunk { spec.attach(to: setPointer) }
            let type = adding ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM
            batch.add(UInt32(type.rawValue), family: table.family.netlinkFamily, flags: adding ? NLM_F_CREATE : 0,
                      what: "\(adding ? "add" : "delete") \(chunk.count) element(s) of \(table.family.rawValue) \(table.name) \(set.name)") {
                nftnl_set_elems_nlmsg_build_payload($0, setPointer)
            }
        }
    }
}
