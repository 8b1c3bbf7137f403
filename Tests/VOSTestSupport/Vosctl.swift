import Foundation

/// Runs the built `vosctl` as an operator would, against one data directory.
public struct Vosctl: Sendable {
    public struct Result: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
    }

    public let dataDirectory: String

    public init(dataDirectory: String) { self.dataDirectory = dataDirectory }

    /// The executables sit next to the test bundle in the build directory.
    public static var binaryDirectory: String {
        if let override = ProcessInfo.processInfo.environment["VOS_BIN_DIR"] { return override }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = (executable as NSString).deletingLastPathComponent
        // On some toolchains the runner lives inside NAME.xctest/; step out of it.
        if directory.hasSuffix(".xctest") { directory = (directory as NSString).deletingLastPathComponent }
        return directory
    }

    public static func binary(_ name: String) -> String { (binaryDirectory as NSString).appendingPathComponent(name) }

    public static var path: String { binary("vosctl") }

    @discardableResult
    public func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        // posix_spawn, not Foundation's Process: Process hung now and then in full runs here.
        let result = try Spawn.runSeparately([Vosctl.path, "--data-dir", dataDirectory] + arguments, environment: environment)
        return Result(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }

    /// Runs and requires success, returning stdout.
    @discardableResult
    public func ok(_ arguments: String...) throws -> String {
        try okArray(arguments)
    }

    @discardableResult
    public func okArray(_ arguments: [String]) throws -> String {
        let result = try run(arguments)
        guard result.status == 0 else {
            throw Failure("vosctl \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)")
        }
        return result.stdout
    }

    /// Runs and requires failure, returning stderr.
    public func fails(_ arguments: String...) throws -> String {
        let result = try run(arguments)
        guard result.status != 0 else {
            throw Failure("vosctl \(arguments.joined(separator: " ")) unexpectedly succeeded: \(result.stdout)")
        }
        return result.stderr
    }

    public func json(_ arguments: String...) throws -> Any {
        let result = try run(arguments + ["--json"])
        guard result.status == 0 else { throw Failure("vosctl \(arguments) --json failed: \(result.stderr)") }
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
    }
}

public struct Failure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A fresh directory removed when the test is done.
public final class Scratch: @unchecked Sendable {
    public let path: String

    public init() throws {
        path = NSTemporaryDirectory() + "vos-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func child(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    public func write(_ name: String, _ text: String) throws -> String {
        let file = child(name)
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A shell command running in the background, for tests of concurrent processes.
public struct ShellLoop {
    public let process: Process

    public static func start(_ script: String) throws -> ShellLoop {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        try process.run()
        return ShellLoop(process: process)
    }

    public func wait() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }
}
