import VOSModel

/// Registration bindings and authentication suspensions: state the controller owns and writes,
/// kept here so it survives a restart and vosctl can show it.
extension Transaction {
    static func registrationKey(username: String, contact: String) -> [UInt8] {
        Array(username.utf8) + [0] + Array(contact.utf8)
    }

    /// Every binding, expired ones included (the caller decides what "now" is).
    public func registrationBindings() throws -> [RegistrationBinding] {
        try records(RegistrationBinding.self, in: .registrations)
    }

    public func saveRegistrationBinding(_ binding: RegistrationBinding) throws {
        let key = Self.registrationKey(username: binding.username, contact: binding.contact)
        try put(.registrations, key, try Transaction.encode(binding, table: .registrations, key: binding.username))
    }

    @discardableResult
    public func deleteRegistrationBinding(username: String, contact: String) throws -> Bool {
        try delete(.registrations, Self.registrationKey(username: username, contact: contact))
    }

    /// Removes bindings that expired before `now` (wall-clock ms); returns how many.
    @discardableResult
    public func purgeRegistrationBindings(expiredBefore now: Int64) throws -> Int {
        var removed = 0
        for binding in try registrationBindings() where binding.expiresAt <= now {
            if try deleteRegistrationBinding(username: binding.username, contact: binding.contact) { removed += 1 }
        }
        return removed
    }

    public func gatewaySuspensions() throws -> [GatewaySuspension] {
        try records(GatewaySuspension.self, in: .gatewaySuspensions)
    }

    public func saveGatewaySuspension(_ suspension: GatewaySuspension) throws {
        try putRecord(suspension, in: .gatewaySuspensions, key: suspension.gateway)
    }

    @discardableResult
    public func deleteGatewaySuspension(_ gateway: String) throws -> Bool {
        try delete(.gatewaySuspensions, Array(gateway.utf8))
    }
}
