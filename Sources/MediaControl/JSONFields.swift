/// Typed, path-named access to the members of one parsed JSON object: what the hand-written
/// message decoders read with. A member that is absent or `null` is nil for the optional
/// readers and an error for the required ones, as with Codable's decodeIfPresent/decode.
struct JSONFields {
    private let members: [(key: String, value: JSONValue)]
    let path: String

    init(_ value: JSONValue, path: String = "") throws(JSONShapeError) {
        guard case let .object(members) = value else {
            throw JSONShapeError(path: path, reason: "expected an object, found \(value.typeName)")
        }
        self.members = members
        self.path = path
    }

    func contains(_ key: String) -> Bool { present(key) != nil }

    private func present(_ key: String) -> JSONValue? {
        for member in members where member.key == key {
            if case .null = member.value { return nil }
            return member.value
        }
        return nil
    }

    private func memberPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private func required(_ key: String) throws(JSONShapeError) -> JSONValue {
        guard let value = present(key) else { throw JSONShapeError(path: memberPath(key), reason: "missing \"\(key)\"") }
        return value
    }

    private func mismatch(_ key: String, _ expected: String, _ found: JSONValue) -> JSONShapeError {
        JSONShapeError(path: memberPath(key), reason: "expected \(expected), found \(found.typeName)")
    }

    func string(_ key: String) throws(JSONShapeError) -> String {
        let value = try required(key)
        guard case let .string(text) = value else { throw mismatch(key, "a string", value) }
        return text
    }

    func optionalString(_ key: String) throws(JSONShapeError) -> String? {
        guard present(key) != nil else { return nil }
        return try string(key)
    }

    private func numberText(_ key: String) throws(JSONShapeError) -> String {
        let value = try required(key)
        guard case let .number(text) = value else { throw mismatch(key, "a number", value) }
        return text
    }

    func unsigned(_ key: String) throws(JSONShapeError) -> UInt64 {
        let text = try numberText(key)
        guard let number = UInt64(text) else { throw JSONShapeError(path: memberPath(key), reason: "\(text) is not an unsigned 64-bit integer") }
        return number
    }

    func optionalUnsigned(_ key: String) throws(JSONShapeError) -> UInt64? {
        guard present(key) != nil else { return nil }
        return try unsigned(key)
    }

    func signed(_ key: String) throws(JSONShapeError) -> Int64 {
        let text = try numberText(key)
        guard let number = Int64(text) else { throw JSONShapeError(path: memberPath(key), reason: "\(text) is not a 64-bit integer") }
        return number
    }

    func optionalSigned(_ key: String) throws(JSONShapeError) -> Int64? {
        guard present(key) != nil else { return nil }
        return try signed(key)
    }

    func integer(_ key: String) throws(JSONShapeError) -> Int { Int(try signed(key)) }

    func optionalInteger(_ key: String) throws(JSONShapeError) -> Int? {
        guard present(key) != nil else { return nil }
        return try integer(key)
    }

    func double(_ key: String) throws(JSONShapeError) -> Double {
        let text = try numberText(key)
        guard let number = Double(text) else { throw JSONShapeError(path: memberPath(key), reason: "\(text) is not a number") }
        return number
    }

    func optionalDouble(_ key: String) throws(JSONShapeError) -> Double? {
        guard present(key) != nil else { return nil }
        return try double(key)
    }

    func bool(_ key: String) throws(JSONShapeError) -> Bool {
        let value = try required(key)
        guard case let .bool(flag) = value else { throw mismatch(key, "a boolean", value) }
        return flag
    }

    func optionalBool(_ key: String) throws(JSONShapeError) -> Bool? {
        guard present(key) != nil else { return nil }
        return try bool(key)
    }

    /// A string member that must be one of an enum's raw values.
    func choice<Choice: RawRepresentable>(_ key: String, _ type: Choice.Type) throws(JSONShapeError) -> Choice where Choice.RawValue == String {
        let text = try string(key)
        guard let choice = Choice(rawValue: text) else {
            throw JSONShapeError(path: memberPath(key), reason: "\"\(text)\" is not a valid \(key)")
        }
        return choice
    }

    func optionalChoice<Choice: RawRepresentable>(_ key: String, _ type: Choice.Type) throws(JSONShapeError) -> Choice? where Choice.RawValue == String {
        guard present(key) != nil else { return nil }
        return try choice(key, type)
    }

    func endpoint(_ key: String) throws(JSONShapeError) -> MediaEndpoint {
        let text = try string(key)
        do { return try MediaEndpoint(parsing: text) } catch {
            throw JSONShapeError(path: memberPath(key), reason: error.message)
        }
    }

    func optionalEndpoint(_ key: String) throws(JSONShapeError) -> MediaEndpoint? {
        guard present(key) != nil else { return nil }
        return try endpoint(key)
    }

    func object(_ key: String) throws(JSONShapeError) -> JSONFields {
        try JSONFields(try required(key), path: memberPath(key))
    }

    func optionalObject(_ key: String) throws(JSONShapeError) -> JSONFields? {
        guard present(key) != nil else { return nil }
        return try object(key)
    }

    /// An array of objects, each handed to `decode` with its own path (`legs.1`).
    func objects<Element>(_ key: String, _ decode: (JSONFields) throws(JSONShapeError) -> Element) throws(JSONShapeError) -> [Element] {
        let value = try required(key)
        guard case let .array(elements) = value else { throw mismatch(key, "an array", value) }
        var result: [Element] = []
        result.reserveCapacity(elements.count)
        for (offset, element) in elements.enumerated() {
            result.append(try decode(try JSONFields(element, path: "\(memberPath(key)).\(offset)")))
        }
        return result
    }

    func optionalObjects<Element>(_ key: String, _ decode: (JSONFields) throws(JSONShapeError) -> Element) throws(JSONShapeError) -> [Element]? {
        guard present(key) != nil else { return nil }
        return try objects(key, decode)
    }
}
