import VOSModel

/// Prints tables the way `nft list` does, so `vosctl firewall render` reads like the live
/// ruleset. Output depends only on the model (no clocks, no hash ordering).
///
/// Rules with an xtables `string` match have no nft text form: they are printed as `#` lines
/// that spell out the kernel rule (`xt string "PATTERN" algo bm ...`). `nft -f` skips them, so a
/// file loaded by hand lacks the scanner drops; vos programs them over netlink.
public enum RulesetRenderer {
    public static func render(_ tables: [Table], header: [String] = []) -> String {
        var out = header.map { $0.isEmpty ? "#\n" : "# \($0)\n" }.joined()
        if !header.isEmpty { out += "\n" }
        out += tables.map(render).joined(separator: "\n")
        return out
    }

    public static func render(_ table: Table) -> String {
        var blocks: [String] = table.sets.map(render)
        blocks += table.chains.map(render)
        let body = blocks.joined(separator: "\n")
        return "table \(table.family.rawValue) \(table.name) {\n\(body)}\n"
    }

    static func render(_ set: NamedSet) -> String {
        var lines = ["\t\(set.isMap ? "map" : "set") \(set.name) {"]
        let key = set.keyFields.map(\.rawValue).joined(separator: " . ")
        let value = set.valueFields.map(\.rawValue).joined(separator: " . ")
        lines.append("\t\ttype \(key)\(set.isMap ? " : \(value)" : "")")
        if let size = set.size { lines.append("\t\tsize \(size)") }
        let flagNames: [(NamedSet.Flags, String)] = [
            (.constant, "constant"), (.dynamic, "dynamic"), (.interval, "interval"), (.timeout, "timeout"),
        ]
        let flags = flagNames.filter { set.flags.contains($0.0) }.map(\.1)
        if !flags.isEmpty { lines.append("\t\tflags \(flags.joined(separator: ","))") }
        if let timeout = set.timeoutSeconds { lines.append("\t\ttimeout \(duration(timeout))") }
        if set.elementCounters { lines.append("\t\tcounter") }
        if !set.elements.isEmpty {
            lines.append("\t\telements = { \(set.elements.map(render).joined(separator: ", ")) }")
        }
        lines.append("\t}")
        return lines.joined(separator: "\n") + "\n"
    }

    static func render(_ element: SetElementValue) -> String {
        switch element {
        case .prefix(let prefix): return prefix.nftText
        case .port(let port): return String(port)
        }
    }

    static func render(_ chain: Chain) -> String {
        var lines = ["\tchain \(chain.name) {"]
        if let hook = chain.hook {
            lines.append(
                "\t\ttype \(hook.kind.rawValue) hook \(hook.hook.rawValue) priority \(priorityName(hook)); "
                    + "policy \(hook.policyAccepts ? "accept" : "drop");")
        }
        lines += chain.rules.map { "\t\t" + render($0) }
        lines.append("\t}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// One rule as nft prints it; kernel-only rules come out as a `#` line.
    public static func render(_ rule: Rule) -> String {
        let text = (rule.terms.map(render) + ["comment \(quoted(Userdata.storedComment(rule.comment)))"]).joined(separator: " ")
        return rule.isKernelOnly ? "# \(text)" : text
    }

    static func render(_ term: RuleTerm) -> String {
        switch term {
        case .inputInterface(let name): return "iifname \(quoted(name))"
        case .explicitTransport(let proto): return "meta l4proto \(proto.rawValue)"
        case .sourceInSet(let family, let set): return "\(family.headerKeyword) saddr @\(set)"
        case .destinationPortInSet(let proto, let set): return "\(proto.rawValue) dport @\(set)"
        case .destinationPortRange(let proto, let range):
            return "\(proto.rawValue) dport \(range.lowerBound)-\(range.upperBound)"
        case .conntrackState(let states): return "ct state \(states.map(\.rawValue).joined(separator: ","))"
        case .transportPayloadPrefix(let offset, let bytes):
            return "@th,\(offset),\(bytes.count * 8) 0x\(hex(bytes))"
        case .stringMatch(let pattern):
            // Only ever printed inside a `#` line, so the exact pattern can be shown C-escaped.
            let escaped = pattern.flatMap { $0 == "\"" || $0 == "\\" ? ["\\", $0] : [$0] }
            return "xt string \"\(String(escaped))\" algo bm from 0 to 65535"
        case .meterOver(let family, let set, let rate, let burst):
            return "update @\(set) { \(family.headerKeyword) saddr limit rate over \(rate)/second burst \(burst) packets }"
        case .addSourceToSet(let family, let set, let timeout):
            let suffix = timeout.map { " timeout \(duration($0))" } ?? ""
            return "add @\(set) { \(family.headerKeyword) saddr\(suffix) }"
        case .conntrackCountOver(let family, let set, let prefixLength, let count):
            let mask = prefixLength.map { " & \(maskText(family, $0))" } ?? ""
            return "add @\(set) { \(family.headerKeyword) saddr\(mask) ct count over \(count) }"
        case .concatenationInSet(let fields, let set):
            return "\(fields.map(\.rawValue).joined(separator: " . ")) @\(set)"
        case .concatenationNotInSet(let fields, let set):
            return "\(fields.map(\.rawValue).joined(separator: " . ")) != @\(set)"
        case .destinationNATMap(let fields, let map):
            return "dnat ip to \(fields.map(\.rawValue).joined(separator: " . ")) map @\(map)"
        case .sourceNATMap(let fields, let map):
            return "snat ip to \(fields.map(\.rawValue).joined(separator: " . ")) map @\(map)"
        case .transparentProxyMap(let fields, let map):
            return "tproxy to : \(fields.map(\.rawValue).joined(separator: " . ")) map @\(map)"
        case .setDSCP(let dscp): return "ip dscp set \(dscpName(dscp))"
        case .packetMark(let mark): return "meta mark 0x" + hex(withUnsafeBytes(of: mark.bigEndian) { Array($0) })
        case .noConntrack: return "notrack"
        case .destinationIsLocal: return "fib daddr type local"
        case .counter: return "counter"
        case .verdict(.accept): return "accept"
        case .verdict(.drop): return "drop"
        case .verdict(.jump(let chain)): return "jump \(chain)"
        }
    }

    static func maskText(_ family: AddressFamily, _ length: Int) -> String {
        (family == .ipv4 ? IPAddress.v4(.max) : IPAddress.v6(high: .max, low: .max)).masked(to: length).description
    }

    /// nft's time format: 1d2h3m4s with zero parts left out.
    static func duration(_ seconds: Int) -> String {
        if seconds == 0 { return "0s" }
        let parts: [(Int, String)] = [(86400, "d"), (3600, "h"), (60, "m"), (1, "s")]
        var rest = seconds
        var out = ""
        for (unit, suffix) in parts where rest >= unit {
            out += "\(rest / unit)\(suffix)"
            rest %= unit
        }
        return out
    }

    /// nft's spelling: a standard priority by name, one within 10 of it as an offset
    /// (`dstnat + 1`), anything else as a number. `dstnat` and `srcnat` are only names on the
    /// hook they belong to, whatever the chain type (nft 1.0.6 prints it so and reads it back).
    static func priorityName(_ hook: Chain.BaseHook) -> String {
        let standard: [(value: Int32, name: String, hook: Chain.BaseHook.Hook?)] = [
            (-300, "raw", nil), (-150, "mangle", nil), (-100, "dstnat", .prerouting),
            (0, "filter", nil), (50, "security", nil), (100, "srcnat", .postrouting),
        ]
        for entry in standard where entry.hook == nil || entry.hook == hook.hook {
            let offset = Int(hook.priority) - Int(entry.value)
            guard abs(offset) <= 10 else { continue }
            if offset == 0 { return entry.name }
            return "\(entry.name) \(offset > 0 ? "+" : "-") \(abs(offset))"
        }
        return String(hook.priority)
    }

    /// nft prints the DiffServ names it knows and a hex value otherwise.
    static func dscpName(_ dscp: UInt8) -> String {
        let names: [UInt8: String] = [
            0: "cs0", 8: "cs1", 16: "cs2", 24: "cs3", 32: "cs4", 40: "cs5", 48: "cs6", 56: "cs7",
            10: "af11", 12: "af12", 14: "af13", 18: "af21", 20: "af22", 22: "af23",
            26: "af31", 28: "af32", 30: "af33", 34: "af41", 36: "af42", 38: "af43", 46: "ef",
        ]
        return names[dscp] ?? "0x" + hex([dscp])
    }

    static func quoted(_ text: String) -> String {
        "\"" + String(text.map { $0 == "\"" ? "'" : $0 }) + "\""
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xf)]] })
    }
}
