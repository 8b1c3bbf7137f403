import CNftnl
import Glibc

/// Owners of libnftnl objects built from the model; each frees its object when dropped.
final class TableObject {
    let pointer: OpaquePointer
    init(family: TableFamily, name: String) throws {
        guard let pointer = nftnl_table_alloc() else { throw outOfMemory("table") }
        self.pointer = pointer
        nftnl_table_set_str(pointer, UInt16(NFTNL_TABLE_NAME.rawValue), name)
        nftnl_table_set_u32(pointer, UInt16(NFTNL_TABLE_FAMILY.rawValue), UInt32(family.netlinkFamily))
    }
    deinit { nftnl_table_free(pointer) }
}

final class ChainObject {
    let pointer: OpaquePointer
    init(table: Table, chain: Chain) throws {
        guard let pointer = nftnl_chain_alloc() else { throw outOfMemory("chain") }
        self.pointer = pointer
        nftnl_chain_set_str(pointer, UInt16(NFTNL_CHAIN_TABLE.rawValue), table.name)
        nftnl_chain_set_str(pointer, UInt16(NFTNL_CHAIN_NAME.rawValue), chain.name)
        nftnl_chain_set_u32(pointer, UInt16(NFTNL_CHAIN_FAMILY.rawValue), UInt32(table.family.netlinkFamily))
        if let hook = chain.hook {
            nftnl_chain_set_str(pointer, UInt16(NFTNL_CHAIN_TYPE.rawValue), hook.kind.rawValue)
            nftnl_chain_set_u32(pointer, UInt16(NFTNL_CHAIN_HOOKNUM.rawValue), hook.hook.netlinkNumber)
            nftnl_chain_set_s32(pointer, UInt16(NFTNL_CHAIN_PRIO.rawValue), hook.priority)
            nftnl_chain_set_u32(pointer, UInt16(NFTNL_CHAIN_POLICY.rawValue), hook.policyAccepts ? 1 : 0)
        }
    }
    deinit { nftnl_chain_free(pointer) }
}

final class SetObject {
    let pointer: OpaquePointer
    init(table: Table, set: NamedSet, id: UInt32) throws {
        guard let pointer = nftnl_set_alloc() else { throw outOfMemory("set") }
        self.pointer = pointer
        nftnl_set_set_str(pointer, UInt16(NFTNL_SET_TABLE.rawValue), table.name)
        nftnl_set_set_str(pointer, UInt16(NFTNL_SET_NAME.rawValue), set.name)
        nftnl_set_set_u32(pointer, UInt16(NFTNL_SET_FAMILY.rawValue), UInt32(table.family.netlinkFamily))
        nftnl_set_set_u32(pointer, UInt16(NFTNL_SET_ID.rawValue), id)
        nftnl_set_set_u32(pointer, UInt16(NFTNL_SET_FLAGS.rawValue), set.kernelFlags.rawValue)
        nftnl_set_set_u32(pointer, UInt16(NFTNL_SET_KEY_TYPE.rawValue), NamedSet.concatenatedType(set.keyFields))
        nftnl_set_set_u32(pointer, UInt16(NFTNL_SET_KEY_LEN.rawValue), UInt32(set.keyLength))
        if set.isMap {
            nftnl_set_set_u32(pointer, UInt16(NFTNL_SET_DATA_TYPE.rawValue), NamedSet.concatenatedType(set.valueFields))
            nftnl_set_set_u32(pointer, UInt16(NFTNL_SET_DATA_LEN.rawValue), UInt32(set.valueLength))
        }
        if let size = set.size { nftnl_set_set_u32(pointer, UInt16(NFTNL_SET_DESC_SIZE.rawValue), size) }
        if let timeout = set.timeoutSeconds {
            nftnl_set_set_u64(pointer, UInt16(NFTNL_SET_TIMEOUT.rawValue), UInt64(timeout) * 1000)
        }
        if set.elementCounters, let counter = nftnl_expr_alloc("counter") {
            nftnl_set_add_expr(pointer, counter)
        }
    }
    deinit { nftnl_set_free(pointer) }
}

final class RuleObject {
    let pointer: OpaquePointer
    init(table: Table, chain: String, rule: Rule) throws {
        guard let pointer = nftnl_rule_alloc() else { throw outOfMemory("rule") }
        self.pointer = pointer
        nftnl_rule_set_str(pointer, UInt16(NFTNL_RULE_TABLE.rawValue), table.name)
        nftnl_rule_set_str(pointer, UInt16(NFTNL_RULE_CHAIN.rawValue), chain)
        nftnl_rule_set_u32(pointer, UInt16(NFTNL_RULE_FAMILY.rawValue), UInt32(table.family.netlinkFamily))
        for expression in try RuleLowering.lower(rule, in: table.family) {
            nftnl_rule_add_expr(pointer, try ExpressionCodec.build(expression))
        }
        if let userdata = Userdata.comment(rule.comment) {
            userdata.withUnsafeBytes {
                _ = nftnl_rule_set_data(pointer, UInt16(NFTNL_RULE_USERDATA.rawValue), $0.baseAddress, UInt32($0.count))
            }
        }
    }
    deinit { nftnl_rule_free(pointer) }
}

func outOfMemory(_ what: String) -> NetfilterError {
    .kernel(operation: "allocate libnftnl \(what)", errno: ENOMEM, reason: "out of memory")
}
