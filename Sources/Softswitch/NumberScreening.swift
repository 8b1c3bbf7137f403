import VOSModel

/// Number lists, number groups and prefix filters made ready for call setup (requirements §7):
/// built once per configuration generation (`ControllerSnapshot`), then asked per call without
/// allocating: a list is a binary search in a sorted array (`NumberSet`), a prefix filter one
/// hash lookup per prefix length it holds (`PrefixSet`). Pure: what a gateway refuses, never
/// which response that becomes (`Admission` and `RoutePlanner` decide).
public struct NumberScreening: Sendable {
    /// Screens of the gateways that have any filter or list, by gateway name.
    public let mapping: [String: GatewayScreen]
    public let routing: [String: GatewayScreen]
    /// Lists and groups gateways name that do not exist (the store refuses them; a damaged
    /// store could still hold them): a missing white list or allow group refuses every number
    /// it judges, a missing black list or deny group refuses none.
    public let missingReferences: [String]

    public static let none = NumberScreening(mapping: [], routing: [], lists: [], groups: [])

    public init(mapping: [MappingGateway], routing: [RoutingGateway], lists: [NumberList], groups: [NumberGroup]) {
        let listsByName = Dictionary(lists.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let groupsByName = Dictionary(groups.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var missing: [String] = []
        func screen(_ gateway: String, _ caller: PrefixFilter, _ callee: PrefixFilter, _ names: [String]) -> GatewayScreen? {
            guard !caller.isEmpty || !callee.isEmpty || !names.isEmpty else { return nil }
            return GatewayScreen(gateway: gateway, callerFilter: caller, calleeFilter: callee, listNames: names,
                                 lists: listsByName, groups: groupsByName, missing: &missing)
        }
        var mappingScreens: [String: GatewayScreen] = [:]
        for gateway in mapping {
            mappingScreens[gateway.name] = screen(gateway.name, gateway.callerFilter, gateway.calleeFilter, gateway.listGroups)
        }
        var routingScreens: [String: GatewayScreen] = [:]
        for gateway in routing {
            routingScreens[gateway.name] = screen(gateway.name, gateway.callerFilter, gateway.calleeFilter, gateway.listGroups)
        }
        self.mapping = mappingScreens
        self.routing = routingScreens
        self.missingReferences = missing
    }
}

/// One gateway's filters and lists, resolved.
public final class GatewayScreen: Sendable {
    let callerFilter: CompiledPrefixFilter
    let calleeFilter: CompiledPrefixFilter
    let callerLists: ListScreen
    let calleeLists: ListScreen

    init(gateway: String, callerFilter: PrefixFilter, calleeFilter: PrefixFilter, listNames: [String],
         lists: [String: NumberList], groups: [String: NumberGroup], missing: inout [String]) {
        self.callerFilter = CompiledPrefixFilter(callerFilter, groups: groups, gateway: gateway, missing: &missing)
        self.calleeFilter = CompiledPrefixFilter(calleeFilter, groups: groups, gateway: gateway, missing: &missing)
        var assigned: [NumberList] = []
        for name in listNames {
            if let list = lists[name] {
                assigned.append(list)
            } else {
                missing.append("number list '\(name)' of gateway '\(gateway)'")
                // Fail closed for white lists: the numbers the operator meant to allow are unknown.
                assigned.append(NumberList(name: name, kind: .white, target: .both))
            }
        }
        self.callerLists = ListScreen(assigned.filter { $0.target.covers(.caller) })
        self.calleeLists = ListScreen(assigned.filter { $0.target.covers(.callee) })
    }

    /// The prefix filters: caller and callee as the gateway's filters are defined on.
    public func permitsFilters(caller: String?, callee: String) -> Bool {
        if let caller, !callerFilter.permits(caller) { return false }
        return calleeFilter.permits(callee)
    }

    /// The lists: each number is in a list when either of its forms is (as it reached the
    /// gateway, and after the gateway's dial plan; nil when the plan left it as it was).
    public func permitsLists(caller: String?, callerAfterPlan: String? = nil, callee: String, calleeAfterPlan: String? = nil) -> Bool {
        if let caller, !callerLists.permits(caller, callerAfterPlan) { return false }
        return calleeLists.permits(callee, calleeAfterPlan)
    }
}

/// The lists that judge one side of a call.
struct ListScreen: Sendable {
    let black: [NumberSet]
    let white: [NumberSet]

    init(_ lists: [NumberList]) {
        black = lists.filter { $0.kind == .black }.map(\.numbers)
        white = lists.filter { $0.kind == .white }.map(\.numbers)
    }

    /// No black list holds the number, and when any white list applies, one holds it. A
    /// number that is not a dial string is in no list.
    func permits(_ number: String, _ alternative: String?) -> Bool {
        if black.isEmpty && white.isEmpty { return true }
        let first = PackedNumber(number)
        let second = alternative.flatMap { $0 == number ? nil : PackedNumber($0) }
        func holds(_ list: NumberSet) -> Bool {
            if let first, list.contains(first) { return true }
            if let second, list.contains(second) { return true }
            return false
        }
        for list in black where holds(list) { return false }
        if white.isEmpty { return true }
        for list in white where holds(list) { return true }
        return false
    }
}

/// A `PrefixFilter` with its groups merged in: nil `allow` when the filter allows everything.
struct CompiledPrefixFilter: Sendable {
    let allow: PrefixSet?
    let deny: PrefixSet

    init(_ filter: PrefixFilter, groups: [String: NumberGroup], gateway: String, missing: inout [String]) {
        func prefixes(_ direct: [String], _ names: [String]) -> [String] {
            var result = direct
            for name in names {
                if let group = groups[name] { result += group.prefixes } else { missing.append("number group '\(name)' of gateway '\(gateway)'") }
            }
            return result
        }
        let hasAllow = !filter.allow.isEmpty || !filter.allowGroups.isEmpty
        allow = hasAllow ? PrefixSet(prefixes(filter.allow, filter.allowGroups)) : nil
        deny = PrefixSet(prefixes(filter.deny, filter.denyGroups))
    }

    func permits(_ number: String) -> Bool {
        if deny.matches(number) { return false }
        return allow?.matches(number) ?? true
    }
}

/// Number prefixes, for "does this number start with any of them": a hash set of packed
/// prefixes and the lengths present, so a lookup tries only those lengths.
public struct PrefixSet: Sendable {
    private let prefixes: Set<PackedNumber>
    /// Bit n-1 set: some prefix has n characters.
    private let lengths: UInt32

    public init(_ texts: [String]) {
        var set = Set<PackedNumber>()
        var lengths: UInt32 = 0
        for text in texts {
            // Stored prefixes are validated; one that is not a dial string could match nothing.
            guard let packed = PackedNumber(text) else { continue }
            set.insert(packed)
            lengths |= 1 << UInt32(packed.length - 1)
        }
        self.prefixes = set
        self.lengths = lengths
    }

    public var isEmpty: Bool { prefixes.isEmpty }

    public func matches(_ number: String) -> Bool {
        guard lengths != 0 else { return false }
        let (packed, available) = PackedNumber.leading(number)
        var candidates = available >= 32 ? lengths : lengths & ((1 << UInt32(available)) - 1)
        while candidates != 0 {
            let length = candidates.trailingZeroBitCount + 1
            if prefixes.contains(packed.prefix(length)) { return true }
            candidates &= candidates - 1
        }
        return false
    }
}
