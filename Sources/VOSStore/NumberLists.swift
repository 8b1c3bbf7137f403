import CLMDB
import VOSModel

/// Number lists: a small JSON header per list in `number_lists` (name, kind, target, count: what
/// `vosctl list show` and gateway checks read) and the numbers in `number_list_numbers` as one
/// binary record (`NumberSet.binary`, 16 bytes a number, sorted). A million numbers are one 16 MB
/// value: written in one put, read back by the controller with one copy out of the memory map,
/// and never decoded as JSON. Records of the first layout (a JSON `numbers` array in the header)
/// still load.
public struct NumberListHeader: Sendable, Hashable, Codable {
    public var name: String
    public var kind: NumberList.Kind
    public var target: NumberList.Target
    public var count: Int

    /// The first layout kept the numbers here.
    fileprivate var legacyNumbers: [String]?

    private enum CodingKeys: String, CodingKey { case name, kind, target, count, legacyNumbers = "numbers" }

    init(_ list: NumberList) {
        name = list.name
        kind = list.kind
        target = list.target
        count = list.numbers.count
    }

    public init(from decoder: any Decoder) throws {
        let stored = try decoder.container(keyedBy: CodingKeys.self)
        name = try stored.decode(String.self, forKey: .name)
        kind = try stored.decode(NumberList.Kind.self, forKey: .kind)
        target = try stored.decodeIfPresent(NumberList.Target.self, forKey: .target) ?? .both
        legacyNumbers = try stored.decodeIfPresent([String].self, forKey: .legacyNumbers)
        count = try stored.decodeIfPresent(Int.self, forKey: .count) ?? legacyNumbers?.count ?? 0
    }

    public func encode(to encoder: any Encoder) throws {
        var stored = encoder.container(keyedBy: CodingKeys.self)
        try stored.encode(name, forKey: .name)
        try stored.encode(kind, forKey: .kind)
        try stored.encode(target, forKey: .target)
        try stored.encode(count, forKey: .count)
    }
}

/// What a change to a list did, for the operator's one-line answer.
public struct NumberListChange: Sendable, Equatable {
    /// Numbers the change added or removed.
    public let changed: Int
    /// Numbers given that were already in the list (add) or not in it (remove).
    public let unchanged: Int
    /// Numbers in the list after the change.
    public let count: Int
    public let list: NumberListHeader
}

extension Transaction {
    // MARK: Reading

    public func numberListHeaders() throws -> [NumberListHeader] {
        try records(NumberListHeader.self, in: .numberLists)
    }

    public func numberListHeader(named name: String) throws -> NumberListHeader? {
        try record(NumberListHeader.self, in: .numberLists, key: name)
    }

    /// Every list with its numbers: what the controller loads.
    public func numberLists() throws -> [NumberList] {
        try numberListHeaders().map(numberList(header:))
    }

    public func numberList(named name: String) throws -> NumberList? {
        try numberListHeader(named: name).map(numberList(header:))
    }

    private func numberList(header: NumberListHeader) throws -> NumberList {
        NumberList(name: header.name, kind: header.kind, target: header.target, numbers: try numbers(of: header))
    }

    private func numbers(of header: NumberListHeader) throws -> NumberSet {
        let key = Array(header.name.utf8)
        let stored: NumberSet? = try key.withUnsafeBytes { keyBytes -> NumberSet? in
            var keyValue = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
            var value = MDB_val()
            let code = mdb_get(txn, store.database(.numberListNumbers), &keyValue, &value)
            if code == MDB_NOTFOUND { return nil }
            try Store.check(code, "read \(Table.numberListNumbers.rawValue)")
            do {
                return try NumberSet(binary: UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size))
            } catch {
                throw StoreError.corruptRecord(table: Table.numberListNumbers.rawValue, key: header.name, reason: "\(error)")
            }
        }
        if let stored { return stored }
        guard let legacy = header.legacyNumbers else { return NumberSet() }
        do { return try NumberSet(validating: legacy, field: "number") } catch {
            throw StoreError.corruptRecord(table: Table.numberLists.rawValue, key: header.name, reason: "\(error)")
        }
    }

    /// Gateways of either kind whose `listGroups` name `list`, sorted.
    public func gatewaysAssigned(list name: String) throws -> [String] {
        let mapping = try mappingGateways().filter { $0.listGroups.contains(name) }.map(\.name)
        let routing = try routingGateways().filter { $0.listGroups.contains(name) }.map(\.name)
        return (mapping + routing).sorted()
    }

    // MARK: Writing

    /// Writes a whole list (header and numbers), replacing one of the same name.
    public func saveNumberList(_ list: NumberList) throws {
        do { try list.validate() } catch { throw StoreError.invalid(error) }
        try putRecord(NumberListHeader(list), in: .numberLists, key: list.name)
        try put(.numberListNumbers, Array(list.name.utf8), list.numbers.binary)
    }

    /// Adds `numbers` to the list `name`, creating it with `kind` and `target` (default both)
    /// when it does not exist. An existing list keeps its numbers; its kind must be `kind` and,
    /// when `target` is given, its target `target` (changing what a list means takes a
    /// deliberate `vosctl list set` or a new list).
    public func addNumbers(_ numbers: NumberSet, toList name: String, kind: NumberList.Kind,
                           target: NumberList.Target?) throws -> NumberListChange {
        var list: NumberList
        if let existing = try numberList(named: name) {
            guard existing.kind == kind else {
                throw StoreError.conflict("number list '\(name)' is a \(existing.kind.rawValue) list; add to it with --kind \(existing.kind.rawValue), or delete it and create a \(kind.rawValue) list")
            }
            if let target, target != existing.target {
                throw StoreError.conflict("number list '\(name)' judges \(existing.target.rawValue) numbers, not \(target.rawValue); change that with `vosctl list set \(name) --target \(target.rawValue)`")
            }
            list = existing
        } else {
            list = NumberList(name: name, kind: kind, target: target ?? .both)
        }
        let before = list.numbers.count
        list.numbers = list.numbers.union(numbers)
        try saveNumberList(list)
        let added = list.numbers.count - before
        return NumberListChange(changed: added, unchanged: numbers.count - added, count: list.numbers.count, list: NumberListHeader(list))
    }

    /// Removes `numbers` from the list `name` (numbers not in it are counted, not refused).
    public func removeNumbers(_ numbers: NumberSet, fromList name: String) throws -> NumberListChange {
        guard var list = try numberList(named: name) else { throw StoreError.notFound(kind: "number list", name: name) }
        let before = list.numbers.count
        list.numbers = list.numbers.subtracting(numbers)
        try saveNumberList(list)
        let removed = before - list.numbers.count
        return NumberListChange(changed: removed, unchanged: numbers.count - removed, count: list.numbers.count, list: NumberListHeader(list))
    }

    /// Changes whether a list judges callers, callees or both (its numbers stay).
    public func setNumberListTarget(_ name: String, to target: NumberList.Target) throws {
        guard var header = try numberListHeader(named: name) else { throw StoreError.notFound(kind: "number list", name: name) }
        if header.legacyNumbers != nil {
            // A first-layout record: write the numbers out in the binary layout first.
            guard var list = try numberList(named: name) else { throw StoreError.notFound(kind: "number list", name: name) }
            list.target = target
            return try saveNumberList(list)
        }
        header.target = target
        try putRecord(header, in: .numberLists, key: name)
    }

    /// Deletes a list; refused while a gateway has it in its `listGroups`.
    public func deleteNumberList(named name: String) throws {
        guard try numberListHeader(named: name) != nil else { throw StoreError.notFound(kind: "number list", name: name) }
        let gateways = try gatewaysAssigned(list: name)
        guard gateways.isEmpty else {
            throw StoreError.conflict("number list '\(name)' is assigned to gateway\(gateways.count == 1 ? "" : "s") \(gateways.joined(separator: ", ")): take it out of their --list-groups first; nothing was deleted")
        }
        try delete(.numberLists, Array(name.utf8))
        try delete(.numberListNumbers, Array(name.utf8))
    }

    // MARK: Gateway references

    /// The lists and number groups a gateway names must exist: checked when it is saved.
    func requireScreeningReferences(listGroups: [String], filters: [PrefixFilter], owner: String) throws {
        for name in listGroups {
            guard try numberListHeader(named: name) == nil else { continue }
            throw StoreError.conflict("number list '\(name)' does not exist (given in --list-groups of \(owner)); create it with `vosctl list add \(name) --kind black|white --numbers N,...`")
        }
        for name in filters.flatMap(\.groups) {
            guard try numberGroup(named: name) == nil else { continue }
            throw StoreError.conflict("number group '\(name)' does not exist (given as @\(name) in a filter of \(owner)); create it with `vosctl number-group add \(name) --prefixes P,...`")
        }
    }
}
