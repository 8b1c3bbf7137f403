import ArgumentParser
import ClusterStore
import VOSRuntime
import VOSStore

struct GlobalOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Data directory (default: $VOS_DATA_DIR, else ./var).")
    var dataDirectory: String?

    @Option(name: .customLong("cluster-dsn"),
            help: "Cluster mode: the PostgreSQL holding the configuration (default: $VOS_CLUSTER_DSN; none: this data directory only).")
    var clusterDSN: String?

    var resolvedDataDirectory: String { DataDirectory.resolve(dataDirectory) }

    /// The cluster DSN from the flag or the environment; nil in single-node mode.
    func resolvedClusterDSN() throws -> ClusterDSN? { try ClusterDSN.from(flag: clusterDSN) }

    /// The store a command reads and writes. In cluster mode it is vosctl's mirror of the cluster
    /// configuration (`<data-dir>/cluster-mirror`), brought up to date under the writer lock, and
    /// `runReportingErrors` writes the command's changes to PostgreSQL. Without a DSN, a cluster
    /// node's own data directory may be read but not written: its configuration comes from
    /// PostgreSQL and a local edit would be overwritten, or worse, silently differ.
    func openStore() throws -> Store {
        if let session = ClusterSession.current { return session.store }
        if let dsn = try resolvedClusterDSN() {
            return try ClusterSession.begin(dsn: dsn, dataDirectory: resolvedDataDirectory).store
        }
        let store = try Store(directory: resolvedDataDirectory)
        if let node = try store.read({ try $0.clusterNode() }) {
            store.writeRefusal = "this data directory is cluster node \(node): change configuration with --cluster-dsn"
        }
        return store
    }
}

/// Runs a command body and turns any failure into one line on stderr: exit status 64 for a bad
/// argument combination, 1 for anything refused or failed, so scripts can tell them apart. In
/// cluster mode the body's changes are written to PostgreSQL after it returns, or rolled back
/// (database and mirror both) when it or that write fails.
func runReportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
        try ClusterSession.commitCurrent()
    } catch let error as ExitCode {
        ClusterSession.rollbackCurrent()
        throw error
    } catch let error as ValidationError {
        ClusterSession.rollbackCurrent()
        printError("vosctl: \(error.message)")
        throw ExitCode(64)
    } catch {
        ClusterSession.rollbackCurrent()
        printError("vosctl: \(error)")
        throw ExitCode(1)
    }
}
