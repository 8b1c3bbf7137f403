/// One header field line as received: the name exactly as written (so `v`, `TO` or `C%6Fntact`
/// survive a round trip) and the value with folding collapsed to single spaces and outer
/// whitespace trimmed. Values stay text; typed views decode them on demand.
public struct SIPHeader: Sendable, Equatable, CustomStringConvertible {
    public var name: String {
        didSet { key = SIPHeaderName.key(for: name) }
    }
    public var value: String
    /// Canonical lowercase long name, used for lookups.
    public private(set) var key: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
        self.key = SIPHeaderName.key(for: name)
    }

    /// True when this header is `name` in any case or in its compact form.
    public func hasName(_ name: String) -> Bool {
        key == SIPHeaderName.key(for: name)
    }

    public var description: String { "\(name): \(value)" }

    public static func == (lhs: SIPHeader, rhs: SIPHeader) -> Bool {
        lhs.name == rhs.name && lhs.value == rhs.value
    }
}
