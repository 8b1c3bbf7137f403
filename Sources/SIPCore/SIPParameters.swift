/// One `;name[=value]` parameter. `value` is kept as written (a quoted value keeps its quotes)
/// so unknown parameters are forwarded unchanged.
public struct SIPParameter: Sendable, Equatable {
    public var name: String
    public var value: String?

    public init(name: String, value: String? = nil) {
        self.name = name
        self.value = value
    }
}

/// An ordered parameter list with case-insensitive name lookup.
public struct SIPParameters: Sendable, Equatable, ExpressibleByArrayLiteral {
    public var items: [SIPParameter]

    public init(_ items: [SIPParameter] = []) { self.items = items }
    public init(arrayLiteral elements: SIPParameter...) { self.items = elements }

    public var isEmpty: Bool { items.isEmpty }

    public func contains(_ name: String) -> Bool {
        items.contains { ByteClass.equalsIgnoringCase($0.name, name) }
    }

    /// The value of `name`; nil when absent or present without a value.
    public subscript(name: String) -> String? {
        items.first { ByteClass.equalsIgnoringCase($0.name, name) }?.value
    }

    /// Replaces the first `name` in place (keeping order) or appends it.
    public mutating func set(_ name: String, _ value: String?) {
        if let index = items.firstIndex(where: { ByteClass.equalsIgnoringCase($0.name, name) }) {
            items[index].value = value
        } else {
            items.append(SIPParameter(name: name, value: value))
        }
    }

    public mutating func remove(_ name: String) {
        items.removeAll { ByteClass.equalsIgnoringCase($0.name, name) }
    }

    func write(to output: inout String) {
        for item in items {
            output += ";"
            output += item.name
            if let value = item.value {
                output += "="
                output += value
            }
        }
    }

    /// Parses `*( SWS ";" SWS name [ SWS "=" SWS value ] )` and stops before anything else
    /// (a ',' between list elements, '?' in a URI, the end).
    static func parse(
        _ reader: inout ByteReader, allowWhitespace: Bool, nameClass: (UInt8) -> Bool,
        valueClass: (UInt8) -> Bool
    ) throws(SIPParseError) -> SIPParameters {
        var parameters = SIPParameters()
        while true {
            let start = reader.position
            if allowWhitespace { reader.skipWhitespace() }
            guard reader.consume(ByteClass.semicolon) else {
                reader.position = start
                return parameters
            }
            if allowWhitespace { reader.skipWhitespace() }
            let nameRange = reader.read(while: nameClass)
            guard !nameRange.isEmpty else {
                throw SIPParseError(.invalidHeader, "empty parameter name")
            }
            var value: String?
            let beforeEquals = reader.position
            if allowWhitespace { reader.skipWhitespace() }
            if reader.consume(ByteClass.equals) {
                if allowWhitespace { reader.skipWhitespace() }
                let valueRange: Range<Int>
                if allowWhitespace, reader.current == ByteClass.quote {
                    valueRange = try reader.readQuotedString()
                } else {
                    valueRange = reader.read(while: valueClass)
                }
                guard !valueRange.isEmpty else {
                    throw SIPParseError(
                        .invalidHeader, "parameter '\(reader.string(nameRange))' has an empty value")
                }
                value = reader.string(valueRange)
            } else {
                reader.position = beforeEquals
            }
            parameters.items.append(SIPParameter(name: reader.string(nameRange), value: value))
        }
    }
}
