/// Everything cluster mode refuses or fails at, each case saying what and why.
public enum ClusterError: Error, CustomStringConvertible, Sendable {
    /// The DSN is not `postgres://user[:password]@host[:port]/database` or a Unix-socket form.
    case badDSN(String, reason: String)
    /// The database cannot be reached, or a query failed; `operation` says what vos was doing.
    case unreachable(operation: String, reason: String)
    /// The schema is newer than this vos reads, or older than it writes.
    case schemaVersion(found: Int, supported: Int, advice: String)
    /// A conflict PostgreSQL reported (serialization failure, a row in use).
    case conflict(String)

    public var description: String {
        switch self {
        case .badDSN(let dsn, let reason):
            return "cluster DSN '\(ClusterDSN.redacted(dsn))' is not usable: \(reason)"
        case .unreachable(let operation, let reason):
            return "cluster database: cannot \(operation): \(reason)"
        case .schemaVersion(let found, let supported, let advice):
            return "cluster database schema \(found), this vos reads \(supported): \(advice)"
        case .conflict(let text):
            return "cluster database: \(text)"
        }
    }
}
