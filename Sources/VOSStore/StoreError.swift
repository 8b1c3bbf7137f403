import VOSModel

/// Everything that can go wrong reading or writing the store, each case saying what and why.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    case notInitialized(path: String)
    case schemaMismatch(path: String, found: Int, expected: Int)
    case lmdb(operation: String, code: Int32, message: String)
    case notFound(kind: String, name: String)
    case duplicate(kind: String, name: String)
    case invalid(ModelError)
    case conflict(String)
    case corruptRecord(table: String, key: String, reason: String)
    case io(path: String, reason: String)
    case backup(String)

    public var description: String {
        switch self {
        case let .notInitialized(path):
            return "no vos store at \(path): run `vosctl --data-dir \(path) init` first"
        case let .schemaMismatch(path, found, expected):
            return "the store at \(path) has schema version \(found) but this vos understands \(expected); use a matching vos version or restore a backup of schema \(expected)"
        case let .lmdb(operation, code, message):
            return "store \(operation) failed: \(message) (LMDB code \(code))"
        case let .notFound(kind, name):
            return "\(kind) '\(name)' does not exist"
        case let .duplicate(kind, name):
            return "\(kind) '\(name)' already exists"
        case let .invalid(error):
            return error.description
        case let .conflict(message):
            return message
        case let .corruptRecord(table, key, reason):
            return "record '\(key)' in table \(table) cannot be read: \(reason)"
        case let .io(path, reason):
            return "\(path): \(reason)"
        case let .backup(message):
            return message
        }
    }
}
