/// RFC 3262 reliable provisional responses (100rel/PRACK) on a gateway's legs. vos terminates
/// them per leg: its own RSeq towards the customer, its own PRACKs towards the vendor; a PRACK
/// never crosses from one leg to the other.
public enum ReliableProvisionalMode: String, Sendable, Codable, CaseIterable {
    /// Not used: a customer that requires 100rel gets 420; nothing is offered to a vendor.
    case off
    /// Used when the peer wants it: `Supported: 100rel` to vendors; reliable 18x to a customer
    /// that supports it.
    case supported
    /// Insisted on: `Require: 100rel` to vendors; a customer that does not support it gets 421.
    case require
}
