/// A caller or callee dial plan (VOS3000 "dial plan", requirements §8): ordered rules, the first
/// whose FROM the number starts with decides.
///
/// Written `FROM:TO[,FROM:TO...]` (`vosctl --caller-rewrite`, `--callee-rewrite`):
/// - `0:+880` replaces a leading `0` by `+880`;
/// - `0:` strips a leading `0` (empty TO);
/// - `:99` adds `99` in front of every number (empty FROM matches every number);
/// - `xx:` strips any two leading characters: `x` in FROM matches any one character, so a strip
///   of N digits is N `x`s and `xxx:0044` is "strip 3, add 0044";
/// - `900:!` denies numbers starting with `900` (`!` as TO); `:!` denies every number;
/// - `+:+` keeps numbers starting with `+` as they are (a rule that matches and changes nothing
///   stops later rules from applying).
/// A number no rule matches is left as it is. A rule that an earlier rule always wins over can
/// never apply and is refused, as is a rule that does nothing (`:`).
public struct DialPlan: Sendable, Hashable {
    public struct Rule: Sendable, Hashable, CustomStringConvertible {
        /// The leading characters a number must start with; `x` matches any one character.
        /// Empty: every number.
        public var from: String
        public var action: Action

        public init(from: String, action: Action) {
            self.from = from
            self.action = action
        }

        public static func replace(_ from: String, with to: String) -> Rule { Rule(from: from, action: .replace(with: to)) }
        public static func deny(_ from: String) -> Rule { Rule(from: from, action: .deny) }

        public var description: String {
            switch action {
            case let .replace(to): return "\(from):\(to)"
            case .deny: return "\(from):!"
            }
        }

        /// Whether `number` starts with `from`, `x` matching any one character.
        public func matches(_ number: String) -> Bool {
            var characters = number.makeIterator()
            for expected in from {
                guard let actual = characters.next() else { return false }
                if expected != DialPlan.wildcard && expected != actual { return false }
            }
            return true
        }

        /// Whether every number this rule matches is matched by `earlier` too.
        func isShadowed(by earlier: Rule) -> Bool {
            guard earlier.from.count <= from.count else { return false }
            return zip(earlier.from, from).allSatisfy { $0 == DialPlan.wildcard || $0 == $1 }
        }
    }

    public enum Action: Sendable, Hashable {
        /// The matched leading characters are replaced by this text (empty: stripped).
        case replace(with: String)
        /// The call is refused.
        case deny
    }

    /// What a dial plan makes of a number.
    public enum Outcome: Sendable, Hashable {
        /// The number to use (unchanged when no rule matched).
        case number(String)
        /// A deny rule matched: the number must not be used.
        case denied(by: Rule)
    }

    public static let wildcard: Character = "x"
    public static let denyMarker = "!"
    public static let maximumRules = 64
    /// What `--caller-rewrite` and `--callee-rewrite` accept, for error messages and help.
    public static let syntax = "comma-separated FROM:TO rules: replace a leading FROM by TO; an empty TO strips it; an empty FROM adds TO; x in FROM matches any one character; TO '!' denies"

    public var rules: [Rule]

    public init(rules: [Rule] = []) {
        self.rules = rules
    }

    public var isEmpty: Bool { rules.isEmpty }

    /// The first matching rule decides; a number no rule matches is used as it is.
    public func apply(to number: String) -> Outcome {
        guard let rule = rules.first(where: { $0.matches(number) }) else { return .number(number) }
        switch rule.action {
        case .deny:
            return .denied(by: rule)
        case let .replace(to):
            return .number(to + number.dropFirst(rule.from.count))
        }
    }

    /// The legacy `{strip, add}` rewrite as rules: strip N characters (N `x`s) then add.
    public init(strip: Int, add: String) {
        guard strip > 0 || !add.isEmpty else {
            self.init()
            return
        }
        self.init(rules: [.replace(String(repeating: DialPlan.wildcard, count: max(0, strip)), with: add)])
    }

    /// Parses the `FROM:TO,...` form; empty text is no rules. `field` names the option in errors.
    public init(parsing text: String, field: String) throws(ModelError) {
        var rules: [Rule] = []
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpaces }
        if items.count == 1 && items[0].isEmpty {
            self.init()
            return
        }
        for (index, item) in items.enumerated() {
            let parts = item.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw ModelError.invalid(field: "\(field) rule \(index + 1)", value: item,
                                         expected: "FROM:TO (\(DialPlan.syntax))")
            }
            let from = parts[0].trimmingSpaces.replacingWildcards
            let to = parts[1].trimmingSpaces
            rules.append(to == DialPlan.denyMarker ? .deny(from) : .replace(from, with: to))
        }
        self.init(rules: rules)
        try validate(field: field)
    }

    /// The `FROM:TO,...` form, as `vosctl` accepts it ("" for no rules).
    public var text: String { rules.map(\.description).joined(separator: ",") }

    public func validate(field: String) throws(ModelError) {
        guard rules.count <= DialPlan.maximumRules else {
            throw ModelError.outOfRange(field: "\(field) rule count", value: String(rules.count), range: "0-\(DialPlan.maximumRules)")
        }
        for (index, rule) in rules.enumerated() {
            let name = "\(field) rule \(index + 1)"
            guard rule.from.count <= 32, rule.from.allSatisfy({ $0.isDialCharacter || $0 == DialPlan.wildcard }) else {
                throw ModelError.invalid(field: name, value: rule.description,
                                         expected: "a FROM of at most 32 characters of 0-9, +, *, # and x (any one character)")
            }
            if case let .replace(to) = rule.action {
                guard to.count <= 32, to.allSatisfy(\.isDialCharacter) else {
                    throw ModelError.invalid(field: name, value: rule.description,
                                             expected: "a TO of at most 32 characters of 0-9, +, *, #, or '!' to deny")
                }
                guard !(rule.from.isEmpty && to.isEmpty) else {
                    throw ModelError.invalid(field: name, value: rule.description, expected: "a FROM or a TO: ':' changes nothing")
                }
            }
            if let earlier = rules[..<index].firstIndex(where: { rule.isShadowed(by: $0) }) {
                throw ModelError.inconsistent("\(name) '\(rule)' can never apply: rule \(earlier + 1) '\(rules[earlier])' matches every number it matches, and the first match wins")
            }
        }
    }
}

/// Stored as an array of `{"from": F, "to": T}` or `{"from": F, "deny": true}`. Records written
/// before dial plans hold a `{"strip": N, "add": P}` object: it decodes as the equivalent rule.
extension DialPlan: Codable {
    private enum LegacyKeys: String, CodingKey { case strip, add }

    public init(from decoder: any Decoder) throws {
        if let legacy = try? decoder.container(keyedBy: LegacyKeys.self) {
            self.init(strip: try legacy.decodeIfPresent(Int.self, forKey: .strip) ?? 0,
                      add: try legacy.decodeIfPresent(String.self, forKey: .add) ?? "")
            return
        }
        self.init(rules: try [Rule](from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try rules.encode(to: encoder)
    }
}

extension DialPlan.Rule: Codable {
    private enum Keys: String, CodingKey { case from, to, deny }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        let from = try container.decodeIfPresent(String.self, forKey: .from) ?? ""
        if try container.decodeIfPresent(Bool.self, forKey: .deny) == true {
            self.init(from: from, action: .deny)
        } else {
            self.init(from: from, action: .replace(with: try container.decode(String.self, forKey: .to)))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(from, forKey: .from)
        switch action {
        case let .replace(to): try container.encode(to, forKey: .to)
        case .deny: try container.encode(true, forKey: .deny)
        }
    }
}

extension Character {
    /// The characters numbers and prefixes are written with: digits, `+`, `*`, `#`.
    public var isDialCharacter: Bool { isASCIIDigit || self == "+" || self == "*" || self == "#" }
}

private extension String {
    /// `X` written for the wildcard is accepted and stored as `x`.
    var replacingWildcards: String { String(map { $0 == "X" ? DialPlan.wildcard : $0 }) }
}
