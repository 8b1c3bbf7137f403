import Foundation
import VOSTestSupport

/// Runs helper programs (ip, nft, python3, vosctl, vos-mediad) for the namespace tests, always
/// with a time bound so a stuck child cannot hang the suite.
struct CommandResult {
    let status: Int32
    let output: String
    let errorOutput: String
}

struct CommandFailure: Error, CustomStringConvertible {
    let command: [String]
    let result: CommandResult
    var description: String {
        "`\(command.joined(separator: " "))` exited \(result.status): \(result.errorOutput)\(result.output)"
    }
}

/// A started child whose output goes to files (so a chatty child never blocks on a full pipe).
final class BackgroundCommand: @unchecked Sendable {
    let process: SpawnedChild
    let arguments: [String]
    let outputPath: String
    let errorPath: String

    init(_ arguments: [String], logDirectory: String, name: String) throws {
        self.arguments = arguments
        outputPath = "\(logDirectory)/\(name).out"
        errorPath = "\(logDirectory)/\(name).err"
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        process = try SpawnedChild(["/usr/bin/env"] + arguments, stdoutPath: outputPath, stderrPath: errorPath)
    }

    /// Waits up to `seconds` for the child to exit, then kills it; returns what it wrote.
    @discardableResult
    func finish(within seconds: Double) -> CommandResult {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            let killDeadline = Date().addingTimeInterval(2)
            while process.isRunning && Date() < killDeadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        return CommandResult(status: process.isRunning ? -1 : process.terminationStatus,
                             output: (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "",
                             errorOutput: (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "")
    }

    /// SIGTERM, then SIGKILL after a grace period.
    func stop() { finish(within: 0) }
}

enum Command {
    /// Output files of short commands go straight into the temp directory and are removed after each run.
    private static let scratch = NSTemporaryDirectory()

    /// Runs to completion (at most `timeout` seconds); throws when the exit status is not 0.
    @discardableResult
    static func run(_ arguments: [String], timeout: Double = 20) throws -> CommandResult {
        let child = try BackgroundCommand(arguments, logDirectory: scratch, name: "vos-media-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let result = child.finish(within: timeout)
        try? FileManager.default.removeItem(atPath: child.outputPath)
        try? FileManager.default.removeItem(atPath: child.errorPath)
        guard result.status == 0 else { throw CommandFailure(command: arguments, result: result) }
        return result
    }

    /// Like `run`, but a failure is ignored: for cleanup, which must go on past errors.
    static func attempt(_ arguments: [String]) {
        _ = try? run(arguments, timeout: 10)
    }
}
