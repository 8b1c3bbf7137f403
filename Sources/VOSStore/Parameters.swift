import VOSModel

extension Transaction {
    public func parameters() throws -> ParameterSet {
        var overrides: [SystemParameter: String] = [:]
        try scan(.parameters) { key, value in
            // A key this version does not know (written by a newer one) is kept but ignored.
            if let parameter = SystemParameter(rawValue: String(decoding: key, as: UTF8.self)) {
                overrides[parameter] = String(decoding: value, as: UTF8.self)
            }
            return true
        }
        return ParameterSet(overrides: overrides)
    }

    /// Validates alone and together with the other parameters, then stores the canonical text.
    @discardableResult
    public func setParameter(_ parameter: SystemParameter, to raw: String) throws -> String {
        var set = try parameters()
        do { try set.set(parameter, to: raw) } catch { throw StoreError.invalid(error) }
        let value = set.text(parameter)
        try put(.parameters, Array(parameter.rawValue.utf8), Array(value.utf8))
        return value
    }

    public func resetParameter(_ parameter: SystemParameter) throws {
        var set = try parameters()
        do { try set.reset(parameter) } catch { throw StoreError.invalid(error) }
        try delete(.parameters, Array(parameter.rawValue.utf8))
    }
}
