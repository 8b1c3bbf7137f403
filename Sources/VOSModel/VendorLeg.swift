/// The routing gateway that carries a call and the vendor account its cost is cleared against.
public struct VendorLeg: Sendable, Hashable, Codable {
    public var gateway: String
    /// The gateway's clearing account; nil = the vendor side is not rated.
    public var clearingAccount: String?
    /// The number sent to the vendor, searched in the clearing account's rate table.
    public var callee: String

    public init(gateway: String, clearingAccount: String?, callee: String) {
        self.gateway = gateway
        self.clearingAccount = clearingAccount
        self.callee = callee
    }
}
