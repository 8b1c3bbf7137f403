import ClusterStore
import Foundation
import VOSStore

/// vosctl's one cluster session per command (docs/CLUSTER.md "Configuration: written centrally"):
/// opened by `GlobalOptions.openStore()` with a DSN, finished by `runReportingErrors`. It only
/// bridges the synchronous command to `OperatorSession`; what is pulled, pushed and refused is
/// ClusterStore's.
final class ClusterSession {
    /// vosctl runs one command on one thread, so one session at a time is the whole state.
    nonisolated(unsafe) private(set) static var current: ClusterSession?

    let operatorSession: OperatorSession
    var store: Store { operatorSession.store }

    private init(operatorSession: OperatorSession) { self.operatorSession = operatorSession }

    static func mirrorDirectory(dataDirectory: String) -> String {
        (dataDirectory as NSString).appendingPathComponent("cluster-mirror")
    }

    static func begin(dsn: ClusterDSN, dataDirectory: String) throws -> ClusterSession {
        let directory = mirrorDirectory(dataDirectory: dataDirectory)
        let opened = try runBlocking { try await OperatorSession.open(dsn: dsn, mirrorDirectory: directory) }
        let session = ClusterSession(operatorSession: opened)
        current = session
        return session
    }

    /// Writes the command's changes to the cluster and commits (no-op without a session).
    static func commitCurrent() throws {
        guard let session = current else { return }
        current = nil
        let operatorSession = session.operatorSession
        try runBlocking { _ = try await operatorSession.commit() }
    }

    /// Abandons the session: nothing reaches PostgreSQL and the mirror is put back.
    static func rollbackCurrent() {
        guard let session = current else { return }
        current = nil
        let operatorSession = session.operatorSession
        _ = try? runBlocking { await operatorSession.rollback() }
    }
}
