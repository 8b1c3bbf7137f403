import Foundation

/// A real PostgreSQL server for one test (cluster mode): `initdb` in a temporary directory, run by
/// `pg_ctl` as the `postgres` user on a free loopback port, no system service. `stop()`/`start()`
/// simulate an outage; `destroy()` (and deinit) stop it and delete the directory.
public final class TemporaryPostgres: @unchecked Sendable {
    public let directory: String
    public let port: Int
    public let binDirectory: String
    public var dataDirectory: String { directory + "/data" }
    /// TCP on loopback, trust authentication, user and database `vos`.
    public var dsn: String { "postgres://vos@127.0.0.1:\(port)/vos" }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    public init() throws {
        guard let bin = TemporaryPostgres.findBinDirectory() else {
            throw Failure(description: "no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql)")
        }
        binDirectory = bin
        directory = NSTemporaryDirectory() + "vos-pg-" + UUID().uuidString.prefix(8)
        port = TestPorts.allocate(2)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try TemporaryPostgres.run(["/bin/chown", "postgres:postgres", directory])
        try asPostgres([bin + "/initdb", "-D", dataDirectory, "-A", "trust", "-U", "vos", "-E", "UTF8", "--no-sync", "--no-instructions"])
        try start()
        try asPostgres([bin + "/psql", "-h", "127.0.0.1", "-p", String(port), "-U", "vos", "-d", "postgres", "-q",
                        "-c", "CREATE DATABASE vos"])
    }

    /// Starts (or restarts after `stop()`) the server and waits until it accepts connections.
    public func start() throws {
        try asPostgres([binDirectory + "/pg_ctl", "-D", dataDirectory, "-l", directory + "/server.log", "-w", "-t", "30",
                        "-o", "-k \(directory) -p \(port) -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
                        "start"])
    }

    /// Stops the server at once (`-m immediate`, like a crash or a cut link).
    public func stop() throws {
        try asPostgres([binDirectory + "/pg_ctl", "-D", dataDirectory, "-m", "immediate", "-w", "stop"])
    }

    /// One SQL statement through psql, its unaligned output trimmed.
    @discardableResult
    public func sql(_ statement: String) throws -> String {
        try asPostgres([binDirectory + "/psql", "-h", "127.0.0.1", "-p", String(port), "-U", "vos", "-d", "vos", "-qAtX",
                        "-v", "ON_ERROR_STOP=1", "-c", statement]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public func destroy() {
        _ = try? asPostgres([binDirectory + "/pg_ctl", "-D", dataDirectory, "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { destroy() }

    @discardableResult
    private func asPostgres(_ arguments: [String]) throws -> String {
        try TemporaryPostgres.run(["/usr/sbin/runuser", "-u", "postgres", "--"] + arguments)
    }

    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        let result = try Spawn.run(arguments)
        guard result.status == 0 else {
            throw Failure(description: "\(arguments.joined(separator: " ")) exited \(result.status): \(result.output)")
        }
        return result.output
    }

    static func findBinDirectory() -> String? {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
        return versions.map { "\(root)/\($0)/bin" }.first { FileManager.default.fileExists(atPath: $0 + "/initdb") }
    }
}
