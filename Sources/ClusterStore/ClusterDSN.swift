import Foundation
import PostgresNIO

/// The one setting that turns cluster mode on (`--cluster-dsn` / `VOS_CLUSTER_DSN`), parsed into
/// a postgres-nio configuration. Forms: `postgres://user[:password]@host[:port]/database` for TCP,
/// and `postgres://user@/database?host=/run/postgresql[&port=5432]` for a Unix socket.
/// TLS is not offered yet: `sslmode=require` is refused rather than silently sent in clear.
public struct ClusterDSN: Sendable, CustomStringConvertible {
    public let text: String
    public let user: String
    public let password: String?
    public let database: String
    public let host: String?
    public let port: Int
    public let socketPath: String?

    public static let environmentVariable = "VOS_CLUSTER_DSN"

    public init(_ text: String) throws(ClusterError) {
        self.text = text
        guard let components = URLComponents(string: text),
              components.scheme == "postgres" || components.scheme == "postgresql" else {
            throw ClusterError.badDSN(text, reason: "it must start with postgres://")
        }
        guard let user = components.user, !user.isEmpty else {
            throw ClusterError.badDSN(text, reason: "no user name (postgres://USER@host/database)")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty else {
            throw ClusterError.badDSN(text, reason: "no database name (postgres://user@host/DATABASE)")
        }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }) { _, new in new }
        var port = components.port ?? 5432
        if let text = query["port"] {
            guard let value = Int(text), (1...65535).contains(value) else {
                throw ClusterError.badDSN(self.text, reason: "port '\(text)' is not 1-65535")
            }
            port = value
        }
        var socketPath: String?
        var host = components.host.flatMap { $0.isEmpty ? nil : $0 }
        if let socketDirectory = query["host"], socketDirectory.hasPrefix("/") {
            socketPath = (socketDirectory as NSString).appendingPathComponent(".s.PGSQL.\(port)")
            host = nil
        }
        guard host != nil || socketPath != nil else {
            throw ClusterError.badDSN(text, reason: "no host (postgres://user@HOST/database, or ?host=/socket/directory)")
        }
        switch query["sslmode"] ?? "disable" {
        case "disable", "allow", "prefer": break
        case let other:
            throw ClusterError.badDSN(text, reason: "sslmode '\(other)': this vos speaks to PostgreSQL without TLS; "
                + "reach it over a private link or a tunnel, and use sslmode=disable")
        }
        self.user = user
        password = components.password
        self.database = database
        self.host = host
        self.port = port
        self.socketPath = socketPath
    }

    /// The DSN from the flag, else from `VOS_CLUSTER_DSN`; nil means single-node mode.
    public static func from(flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws(ClusterError) -> ClusterDSN? {
        let text = flag ?? environment[environmentVariable]
        guard let text, !text.isEmpty else { return nil }
        return try ClusterDSN(text)
    }

    var configuration: PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let socketPath {
            configuration = .init(unixSocketPath: socketPath, username: user, password: password, database: database)
        } else {
            configuration = .init(host: host ?? "localhost", port: port, username: user, password: password,
                                  database: database, tls: .disable)
        }
        configuration.options.connectTimeout = .seconds(3)
        return configuration
    }

    /// The DSN with its password hidden, for logs and errors.
    public static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "***"
        return components.string ?? text
    }

    public var description: String { ClusterDSN.redacted(text) }
}
