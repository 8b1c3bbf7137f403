import VOSModel

/// What a customer's INVITE says about its caller, as the B2BUA parsed it.
public struct ReceivedIdentity: Sendable, Equatable {
    /// The From URI's user part.
    public var fromUser: String
    public var fromDisplayName: String?
    /// The Remote-Party-ID URI's user part, if the header came.
    public var remotePartyIDUser: String?
    /// The P-Asserted-Identity header values as received, and the first one's URI user part.
    public var assertedIdentities: [String]
    public var assertedIdentityUser: String?
    /// The P-Preferred-Identity header values as received.
    public var preferredIdentities: [String]
    /// The Privacy header values as received.
    public var privacy: [String]

    public init(fromUser: String, fromDisplayName: String? = nil, remotePartyIDUser: String? = nil,
                assertedIdentities: [String] = [], assertedIdentityUser: String? = nil,
                preferredIdentities: [String] = [], privacy: [String] = []) {
        self.fromUser = fromUser
        self.fromDisplayName = fromDisplayName
        self.remotePartyIDUser = remotePartyIDUser
        self.assertedIdentities = assertedIdentities
        self.assertedIdentityUser = assertedIdentityUser
        self.preferredIdentities = preferredIdentities
        self.privacy = privacy
    }
}

/// The caller as vos takes it from a mapping gateway: the number its caller source names, and
/// only the identity headers the gateway's trust settings let through.
public struct InboundCaller: Sendable, Equatable {
    /// The caller number before any dial plan.
    public var number: String
    /// The customer's P-Asserted-Identity and P-Preferred-Identity values, kept only from a
    /// gateway with `trustedIdentity`: an untrusted customer cannot assert an identity.
    public var assertedIdentities: [String]
    public var preferredIdentities: [String]
    /// The customer's Privacy values, kept only from a gateway with `supportPrivacy`.
    public var privacy: [String]

    public init(_ received: ReceivedIdentity, gateway: MappingGateway) {
        switch gateway.callerNumberSource {
        case .from:
            number = received.fromUser
        case .rpid:
            number = received.remotePartyIDUser ?? received.fromUser
        case .display:
            let display = received.fromDisplayName?.trimmingSpaces ?? ""
            number = !display.isEmpty && display.allSatisfy(\.isDialCharacter) ? display : received.fromUser
        case .pai:
            number = received.assertedIdentityUser ?? received.fromUser
        }
        assertedIdentities = gateway.trustedIdentity ? received.assertedIdentities : []
        preferredIdentities = gateway.trustedIdentity ? received.preferredIdentities : []
        privacy = gateway.supportPrivacy ? received.privacy : []
    }
}

/// One header of a vendor INVITE.
public struct IdentityHeader: Sendable, Equatable {
    public let name: String
    public let value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

public enum OutboundIdentity {
    /// The RFC 3325/3323 headers a vendor INVITE carries per the routing gateway's settings:
    /// P-Asserted-Identity, then Privacy, then P-Preferred-Identity. `callerOut` is the number
    /// the vendor sees in From (after the caller dial plans and the pool); `host` the address
    /// vos shows that vendor.
    public static func headers(for gateway: RoutingGateway, caller: InboundCaller, callerOut: String, host: String) -> [IdentityHeader] {
        let built = "<sip:\(callerOut)@\(host)>"
        var headers: [IdentityHeader] = []
        switch gateway.pAssertedIdentity {
        case .none: break
        case .passthrough: headers += caller.assertedIdentities.map { IdentityHeader("P-Asserted-Identity", $0) }
        case .caller: headers.append(IdentityHeader("P-Asserted-Identity", built))
        }
        switch gateway.privacy {
        case .none: break
        case .passthrough: headers += caller.privacy.map { IdentityHeader("Privacy", $0) }
        case .id: headers.append(IdentityHeader("Privacy", "id"))
        }
        switch gateway.pPreferredIdentity {
        case .none: break
        case .passthrough: headers += caller.preferredIdentities.map { IdentityHeader("P-Preferred-Identity", $0) }
        case .caller: headers.append(IdentityHeader("P-Preferred-Identity", built))
        }
        return headers
    }
}
