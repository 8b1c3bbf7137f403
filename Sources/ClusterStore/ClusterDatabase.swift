import Foundation
import Logging
import NIOCore
import PostgresNIO

/// ClusterStore owns everything PostgreSQL in cluster mode (docs/CLUSTER.md): the connection, the
/// schema, the configuration mirror, credit leases and the CDR shipper. It must not know SIP or
/// packets, and the call path never waits on it: CallControl reaches it only through the
/// `CreditLeaser` protocol (VOSModel) and the LMDB snapshot the mirror writes.
///
/// One connection to the cluster database. Each long-running part (follower, shipper, leaser)
/// holds its own, so a slow report never delays a credit lease; a lost connection is re-opened on
/// the next use, and the caller decides what an outage means for it.
public final class ClusterDatabase: @unchecked Sendable {
    // @unchecked: `connection` is guarded by `lock`; postgres-nio connections are thread-safe.
    public let dsn: ClusterDSN
    private let logger: Logger
    private let lock = NSLock()
    private var connection: PostgresConnection?
    private static let connectionIDs = ManagedCounter()

    public init(dsn: ClusterDSN, logger: Logger) {
        self.dsn = dsn
        self.logger = logger
    }

    deinit { connection.map { conn in Task { try? await conn.close() } } }

    /// The open connection, opened (again) when needed.
    public func connected() async throws(ClusterError) -> PostgresConnection {
        if let existing = lock.withLock({ connection }), !existing.isClosed { return existing }
        do {
            let opened = try await PostgresConnection.connect(
                configuration: dsn.configuration, id: ClusterDatabase.connectionIDs.next(), logger: logger)
            lock.withLock { connection = opened }
            return opened
        } catch {
            throw ClusterError.unreachable(operation: "connect to \(dsn)", reason: ClusterDatabase.reason(error))
        }
    }

    /// Closes the connection (the next use opens a new one).
    public func close() async {
        let open = lock.withLock { () -> PostgresConnection? in
            defer { connection = nil }
            return connection
        }
        try? await open?.close()
    }

    /// Runs one statement outside a transaction and returns its rows.
    @discardableResult
    public func query(_ query: PostgresQuery, _ operation: String) async throws(ClusterError) -> [PostgresRow] {
        let conn = try await connected()
        do {
            var rows: [PostgresRow] = []
            for try await row in try await conn.query(query, logger: logger) { rows.append(row) }
            return rows
        } catch {
            throw failure(error, operation: operation)
        }
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    /// `REPEATABLE READ` transactions that lose a serialization race are retried up to
    /// `attempts` times, so two writers at once both land or one reports the conflict.
    public func transaction<Result: Sendable>(
        _ operation: String, isolation: Isolation = .readCommitted, attempts: Int = 3,
        _ body: (ClusterTransaction) async throws -> Result
    ) async throws -> Result {
        var attempt = 1
        while true {
            let conn = try await connected()
            do {
                _ = try await conn.query(PostgresQuery(unsafeSQL: "BEGIN ISOLATION LEVEL \(isolation.rawValue)"), logger: logger)
            } catch {
                throw failure(error, operation: operation)
            }
            do {
                let result = try await body(ClusterTransaction(connection: conn, logger: logger))
                _ = try await conn.query("COMMIT", logger: logger)
                return result
            } catch {
                _ = try? await conn.query("ROLLBACK", logger: logger)
                if ClusterDatabase.isSerializationFailure(error), attempt < attempts {
                    attempt += 1
                    try? await Task.sleep(for: .milliseconds(20 * attempt))
                    continue
                }
                if let clusterError = error as? ClusterError { throw clusterError }
                throw failure(error, operation: operation)
            }
        }
    }

    public enum Isolation: String, Sendable {
        case readCommitted = "READ COMMITTED"
        case repeatableRead = "REPEATABLE READ"
        case serializable = "SERIALIZABLE"
    }

    private func failure(_ error: any Error, operation: String) -> ClusterError {
        if let clusterError = error as? ClusterError { return clusterError }
        if let conn = lock.withLock({ connection }), conn.isClosed { lock.withLock { connection = nil } }
        if ClusterDatabase.isSerializationFailure(error) {
            return .conflict("\(operation): another writer changed the same rows at the same time (serialization failure); try again")
        }
        return .unreachable(operation: operation, reason: ClusterDatabase.reason(error))
    }

    static func isSerializationFailure(_ error: any Error) -> Bool {
        (error as? PSQLError)?.serverInfo?[.sqlState] == "40001"
    }

    /// The server's message (with its SQLSTATE) when there is one, else the client's error.
    static func reason(_ error: any Error) -> String {
        if let psql = error as? PSQLError {
            if let message = psql.serverInfo?[.message] {
                let state = psql.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                return message + state
            }
            return "\(psql.code)" + (psql.underlying.map { ": \($0)" } ?? "")
        }
        return "\(error)"
    }
}

/// The connection lent to one transaction's body.
public struct ClusterTransaction: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    @discardableResult
    public func query(_ query: PostgresQuery) async throws -> [PostgresRow] {
        var rows: [PostgresRow] = []
        for try await row in try await connection.query(query, logger: logger) { rows.append(row) }
        return rows
    }
}

/// Connection ids for postgres-nio's logs.
final class ManagedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.withLock { value += 1; return value } }
}
