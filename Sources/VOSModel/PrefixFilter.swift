/// Which numbers a gateway accepts (requirements §7, both kinds of gateway): a number passes when
/// it starts with no deny prefix, directly or in a denied number group, and, when the filter has
/// any allow entry (a prefix or a group, even an empty one), starts with one of them. Groups are
/// `NumberGroup` names, written `@NAME` on the command line. Refused: 403 Blacklisted on a
/// mapping gateway; on a routing gateway, the gateway is no candidate for the call.
///
/// Holds the configuration only; Softswitch's `NumberScreening` resolves groups and matches.
public struct PrefixFilter: Sendable, Hashable, Codable {
    public var allow: [String] = []
    public var deny: [String] = []
    public var allowGroups: [String] = []
    public var denyGroups: [String] = []

    public init(allow: [String] = [], deny: [String] = [], allowGroups: [String] = [], denyGroups: [String] = []) {
        self.allow = allow
        self.deny = deny
        self.allowGroups = allowGroups
        self.denyGroups = denyGroups
    }

    public var isEmpty: Bool { allow.isEmpty && deny.isEmpty && allowGroups.isEmpty && denyGroups.isEmpty }

    /// Number groups the filter names, allow and deny.
    public var groups: [String] { allowGroups + denyGroups }

    public func validate(field: String) throws(ModelError) {
        for prefix in allow { try NumberPrefix.validate(prefix, field: "\(field) allow prefix") }
        for prefix in deny { try NumberPrefix.validate(prefix, field: "\(field) deny prefix") }
        for group in groups { try GatewayName.validate(group, field: "\(field) number group") }
    }

    // Records written before number groups have no group keys; a filter without groups is
    // written without them, as before.
    private enum CodingKeys: String, CodingKey { case allow, deny, allowGroups, denyGroups }

    public init(from decoder: any Decoder) throws {
        let stored = try decoder.container(keyedBy: CodingKeys.self)
        allow = try stored.decodeIfPresent([String].self, forKey: .allow) ?? []
        deny = try stored.decodeIfPresent([String].self, forKey: .deny) ?? []
        allowGroups = try stored.decodeIfPresent([String].self, forKey: .allowGroups) ?? []
        denyGroups = try stored.decodeIfPresent([String].self, forKey: .denyGroups) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var stored = encoder.container(keyedBy: CodingKeys.self)
        try stored.encode(allow, forKey: .allow)
        try stored.encode(deny, forKey: .deny)
        if !allowGroups.isEmpty { try stored.encode(allowGroups, forKey: .allowGroups) }
        if !denyGroups.isEmpty { try stored.encode(denyGroups, forKey: .denyGroups) }
    }
}
