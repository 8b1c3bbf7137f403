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
    }

    public init() throws {
        guard let bin = TemporaryPostgres.findBinDirectory() else {
            throw Failure(description: "no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql)")
        }
        binDirectory = bin
        directory = NSTemporaryDirectory() + "vos-pg-" + UUID().uuidString.prefix(8)
        port = try TemporaryPostgres.freePort()
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

    /// posix_spawn and waitpid, not Foundation's Process: its child reaping missed runuser's exit
    /// here (left a zombie and waited forever). Output goes to a file, not a pipe, because the
    /// server pg_ctl starts inherits the descriptors and would hold a pipe open.
    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        let outputPath = NSTemporaryDirectory() + "vos-pg-output-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, arguments[0], &actions, nil, &argv, environ)
        guard spawned == 0 else { throw Failure(description: "cannot start \(arguments[0]): errno \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let exited = (status & 0x7f) == 0
        let code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            throw Failure(description: "\(arguments.joined(separator: " ")) failed (status \(status)): \(text)")
        }
        return text
    }

    static func findBinDirectory() -> String? {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
        return versions.map { "\(root)/\($0)/bin" }.first { FileManager.default.fileExists(atPath: $0 + "/initdb") }
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw Failure(description: "bind: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
