/// A named set of number prefixes (VOS3000 "number group"), referred to from gateways' caller and
/// callee prefix filters as `@NAME` (`PrefixFilter.allowGroups`/`denyGroups`), so one set of
/// prefixes (a country's mobile ranges, premium ranges) is kept in one place.
public struct NumberGroup: Sendable, Hashable, Codable {
    /// Prefixes are matched through a hash set per filter, so size costs memory, not call time.
    public static let maximumPrefixes = 1_000_000

    public var name: String
    /// Sorted and unique (`normalised` keeps them so).
    public var prefixes: [String]

    public init(name: String, prefixes: [String] = []) {
        self.name = name
        self.prefixes = NumberGroup.normalised(prefixes)
    }

    public static func normalised(_ prefixes: [String]) -> [String] { Array(Set(prefixes)).sorted() }

    public func validate() throws(ModelError) {
        try GatewayName.validate(name, field: "number group name")
        guard prefixes.count <= NumberGroup.maximumPrefixes else {
            throw ModelError.outOfRange(field: "number group '\(name)' size", value: String(prefixes.count), range: "0-\(NumberGroup.maximumPrefixes)")
        }
        for prefix in prefixes { try NumberPrefix.validate(prefix, field: "number group '\(name)' prefix") }
    }
}
