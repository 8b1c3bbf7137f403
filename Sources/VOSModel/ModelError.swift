/// A value an operator or a peer supplied that the model refuses, with the field, the value and
/// what would have been accepted, so every message can be acted on without reading code.
public enum ModelError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalid(field: String, value: String, expected: String)
    case outOfRange(field: String, value: String, range: String)
    case missing(field: String)
    case inconsistent(String)

    public var description: String {
        switch self {
        case let .invalid(field, value, expected):
            return "invalid \(field) '\(value)': expected \(expected)"
        case let .outOfRange(field, value, range):
            return "\(field) \(value) is out of range: allowed \(range)"
        case let .missing(field):
            return "\(field) is required"
        case let .inconsistent(message):
            return message
        }
    }
}
