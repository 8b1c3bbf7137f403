/// One difference between the model and the kernel.
public enum Drift: Sendable, Equatable, CustomStringConvertible {
    case missingTable(String)
    case missingChain(String)
    case extraChain(String)
    case missingSet(String)
    case extraSet(String)
    case changedSet(String, detail: String)
    case changedElements(set: String, missing: Int, extra: Int)
    case missingRule(chain: String, comment: String, expected: String)
    case extraRule(chain: String, handle: UInt64, comment: String?, actual: String)
    case changedRule(chain: String, comment: String, expected: String, actual: String)
    case misorderedRule(chain: String, comment: String)

    public var description: String {
        switch self {
        case .missingTable(let name): return "table \(name) is missing"
        case .missingChain(let name): return "chain \(name) is missing"
        case .extraChain(let name): return "chain \(name) is not in the model"
        case .missingSet(let name): return "set \(name) is missing"
        case .extraSet(let name): return "set \(name) is not in the model"
        case .changedSet(let name, let detail): return "set \(name) differs: \(detail)"
        case .changedElements(let set, let missing, let extra):
            return "set \(set) elements differ: \(missing) missing, \(extra) extra"
        case .missingRule(let chain, let comment, _): return "chain \(chain): rule \"\(comment)\" is missing"
        case .extraRule(let chain, let handle, let comment, let actual):
            return "chain \(chain): rule handle \(handle) \(comment.map { "\"\($0)\"" } ?? actual) is not in the model"
        case .changedRule(let chain, let comment, let expected, let actual):
            return "chain \(chain): rule \"\(comment)\" differs\n  expected \(expected)\n  actual   \(actual)"
        case .misorderedRule(let chain, let comment): return "chain \(chain): rule \"\(comment)\" is out of order"
        }
    }
}

/// Compares a model table with what the kernel holds. Rules are matched by their comment
/// (every vos rule has a unique one) and compared expression by expression, so a hand edit
/// shows up as missing, extra, changed or moved. Dynamic elements (bans, meters) are not drift.
public enum RulesetAudit {
    public static func compare(model: Table, live: LiveTable?, elements: [String: [LiveSetElement]] = [:]) throws -> [Drift] {
        guard let live else { return [.missingTable("\(model.family.rawValue) \(model.name)")] }
        var drift: [Drift] = []
        let liveSets = Dictionary(live.sets.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for set in model.sets {
            guard let actual = liveSets[set.name] else { drift.append(.missingSet(set.name)); continue }
            if let detail = setDifference(set, actual) { drift.append(.changedSet(set.name, detail: detail)) }
            if !set.keepsLiveElements, !set.flags.contains(.dynamic), let liveElements = elements[set.name] {
                let expected = Set(ElementSpec.staticElements(of: set).map { ElementKey(key: $0.key, flags: $0.flags) })
                let actualKeys = Set(liveElements.map { ElementKey(key: $0.key, flags: $0.flags) })
                if expected != actualKeys {
                    drift.append(.changedElements(
                        set: set.name, missing: expected.subtracting(actualKeys).count, extra: actualKeys.subtracting(expected).count))
                }
            }
        }
        let modelSetNames = Set(model.sets.map(\.name))
        drift += live.sets.filter { !modelSetNames.contains($0.name) }.map { .extraSet($0.name) }

        let liveChains = Dictionary(live.chains.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for chain in model.chains {
            guard let actual = liveChains[chain.name] else { drift.append(.missingChain(chain.name)); continue }
            drift += try compareRules(chain, actual, family: model.family)
        }
        let modelChainNames = Set(model.chains.map(\.name))
        drift += live.chains.filter { !modelChainNames.contains($0.name) }.map { .extraChain($0.name) }
        return drift
    }

    static func compareRules(_ chain: Chain, _ live: LiveChain, family: TableFamily) throws -> [Drift] {
        var drift: [Drift] = []
        var unmatched = live.rules
        var matchedOrder: [Int] = []
        for rule in chain.rules {
            let expected = try RuleLowering.lower(rule, in: family)
            let expectedText = expected.map(\.description).joined(separator: " ")
            let storedComment = Userdata.storedComment(rule.comment)
            guard let index = unmatched.firstIndex(where: { $0.comment == storedComment }) else {
                drift.append(.missingRule(chain: chain.name, comment: rule.comment, expected: expectedText))
                continue
            }
            let actual = unmatched.remove(at: index)
            if actual.expressions != expected {
                drift.append(.changedRule(chain: chain.name, comment: rule.comment, expected: expectedText, actual: actual.description))
            }
            if let position = live.rules.firstIndex(where: { $0.handle == actual.handle }) {
                if let last = matchedOrder.last, position < last {
                    drift.append(.misorderedRule(chain: chain.name, comment: rule.comment))
                }
                matchedOrder.append(position)
            }
        }
        drift += unmatched.map { .extraRule(chain: chain.name, handle: $0.handle, comment: $0.comment, actual: $0.description) }
        return drift
    }

    static func setDifference(_ set: NamedSet, _ live: LiveSet) -> String? {
        var differences: [String] = []
        // The kernel may add bits of its own; compare the ones vos sets.
        let relevant: UInt32 = 0x2 | 0x4 | 0x8 | 0x10 | 0x20
        if set.kernelFlags.rawValue & relevant != live.flags & relevant {
            differences.append("flags 0x\(String(set.kernelFlags.rawValue, radix: 16)) vs 0x\(String(live.flags, radix: 16))")
        }
        if NamedSet.concatenatedType(set.keyFields) != live.keyType || UInt32(set.keyLength) != live.keyLength {
            differences.append("key type")
        }
        if set.isMap && (NamedSet.concatenatedType(set.valueFields) != live.dataType || UInt32(set.valueLength) != live.dataLength) {
            differences.append("value type")
        }
        let timeout = UInt64(set.timeoutSeconds ?? 0) * 1000
        if timeout != live.timeoutMilliseconds { differences.append("timeout \(timeout)ms vs \(live.timeoutMilliseconds)ms") }
        return differences.isEmpty ? nil : differences.joined(separator: ", ")
    }

    struct ElementKey: Hashable {
        var key: [UInt8]
        var flags: UInt32
    }
}

extension NftablesClient {
    /// Reads the live table and lists how it differs from `model` (empty = in sync).
    public func audit(_ model: Table) throws -> [Drift] {
        let live = try read(model.family, model.name)
        var elements: [String: [LiveSetElement]] = [:]
        if let live {
            let liveNames = Set(live.sets.map(\.name))
            for set in model.sets where !set.keepsLiveElements && !set.flags.contains(.dynamic) && liveNames.contains(set.name) {
                elements[set.name] = try listElements(model.family, model.name, set: set.name)
            }
        }
        return try RulesetAudit.compare(model: model, live: live, elements: elements)
    }
}
