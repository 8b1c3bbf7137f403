/// A static black or white list group (requirements §7): full-number matches on caller, callee or both.
public struct NumberList: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable { case black, white }
    public enum Target: String, Sendable, Codable, CaseIterable { case caller, callee, both }

    public var name: String
    public var kind: Kind
    public var target: Target
    public var numbers: Set<String>

    public init(name: String, kind: Kind, target: Target = .both, numbers: Set<String> = []) {
        self.name = name
        self.kind = kind
        self.target = target
        self.numbers = numbers
    }

    public func validate() throws(ModelError) {
        try GatewayName.validate(name, field: "list name")
        for number in numbers { try NumberPrefix.validate(number, field: "number") }
    }
}
