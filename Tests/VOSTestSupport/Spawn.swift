import Foundation

/// Runs a program to completion with posix_spawn and waitpid, its output (stdout and stderr) from
/// a file. Not Foundation's `Process`: in async tests its child reaping missed exits here (a
/// zombie, and a wait that never returned), and a pipe would be held open by any daemon the
/// program leaves behind (pg_ctl's server, a lab's sipp).
public enum Spawn {
    public struct Result: Sendable {
        public let status: Int32
        public let output: String
    }

    /// The output of a run with stdout and stderr kept apart.
    public struct SeparateResult: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
    }

    /// `environment` entries are added to this process's own.
    public static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let outputPath = NSTemporaryDirectory() + "vos-spawn-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let status = try spawnAndWait(arguments, environment: environment, stdoutPath: outputPath, stderrPath: nil)
        return Result(status: status, output: (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "")
    }

    /// As `run`, with stderr in its own file.
    public static func runSeparately(_ arguments: [String], environment: [String: String] = [:]) throws -> SeparateResult {
        let base = NSTemporaryDirectory() + "vos-spawn-" + UUID().uuidString
        defer {
            try? FileManager.default.removeItem(atPath: base + ".out")
            try? FileManager.default.removeItem(atPath: base + ".err")
        }
        let status = try spawnAndWait(arguments, environment: environment, stdoutPath: base + ".out", stderrPath: base + ".err")
        return SeparateResult(status: status, stdout: (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? "",
                              stderr: (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? "")
    }

    /// Starts `arguments` (stdin /dev/null; stderr into stdout's file when `stderrPath` is nil)
    /// and waits; the exit status, or 128 + the signal that ended it.
    private static func spawnAndWait(_ arguments: [String], environment: [String: String], stdoutPath: String,
                                     stderrPath: String?) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if let stderrPath {
            posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        var merged = ProcessInfo.processInfo.environment
        merged.merge(environment) { $1 }
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, arguments[0], &actions, nil, argv, envp)
        guard spawned == 0 else {
            throw TemporaryPostgres.Failure(description: "cannot start \(arguments[0]): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = (status & 0x7f) == 0
        return exited ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}

/// A child started with posix_spawnp and left running: stdout and stderr go to files, `isRunning`
/// polls with waitpid(WNOHANG), `terminate()` sends SIGTERM. For tests that start many commands
/// (the namespace tests), where Foundation's `Process.run` crashed now and then in
/// swift-corelibs-foundation's descriptor scan before exec.
public final class SpawnedChild: @unchecked Sendable {
    public let processIdentifier: pid_t
    private let lock = NSLock()
    private var exitStatus: Int32?

    public init(_ arguments: [String], stdoutPath: String, stderrPath: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, arguments[0], &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw TemporaryPostgres.Failure(description: "cannot start \(arguments[0]): \(String(cString: strerror(spawned)))")
        }
        processIdentifier = pid
    }

    public var isRunning: Bool { reap(blocking: false) == nil }

    /// The exit status (128 + signal when killed by one); waits for the child.
    public var terminationStatus: Int32 { reap(blocking: true) ?? -1 }

    public func terminate() { if isRunning { kill(processIdentifier, SIGTERM) } }

    public func waitUntilExit() { _ = reap(blocking: true) }

    private func reap(blocking: Bool) -> Int32? {
        lock.withLock {
            if let exitStatus { return exitStatus }
            var status: Int32 = 0
            var result: pid_t
            repeat { result = waitpid(processIdentifier, &status, blocking ? 0 : WNOHANG) } while result < 0 && errno == EINTR
            guard result == processIdentifier else { return nil }
            let exited = (status & 0x7f) == 0
            exitStatus = exited ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            return exitStatus
        }
    }
}
