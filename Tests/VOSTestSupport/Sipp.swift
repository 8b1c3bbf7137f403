import Foundation

/// sipp run in the foreground of its own process (never -bg), bounded by -timeout and by a
/// kill on deinit, with results read from its -trace_stat file.
public final class Sipp: @unchecked Sendable {
    public let process = Process()
    public let directory: String
    private let statFile: String

    public init(_ arguments: [String], in directory: String, name: String) throws {
        self.directory = directory
        statFile = (directory as NSString).appendingPathComponent("\(name)-stat.csv")
        try? FileManager.default.removeItem(atPath: statFile)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sipp")
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.arguments = arguments + ["-trace_stat", "-stf", statFile, "-fd", "1", "-nostdin",
                                         "-trace_err", "-error_file", (directory as NSString).appendingPathComponent("\(name)-errors.log")]
        let log = (directory as NSString).appendingPathComponent("\(name).out")
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// Waits for sipp to exit by itself (its -m / -timeout bound it), killing it after `seconds`.
    @discardableResult
    public func wait(seconds: Double = 30) -> Int32 {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning { stop() }
        process.waitUntilExit()
        return process.terminationStatus
    }

    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(2)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// The last row of the statistics file, by column name (e.g. `SuccessfulCall(C)`).
    public func statistics() -> [String: String] {
        guard let text = try? String(contentsOfFile: statFile, encoding: .utf8) else { return [:] }
        let lines = text.split(separator: "\n").filter { !$0.isEmpty }
        guard let header = lines.first, lines.count >= 2, let last = lines.last else { return [:] }
        let names = header.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        let values = last.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        var result: [String: String] = [:]
        for (index, name) in names.enumerated() where index < values.count { result[name] = values[index] }
        return result
    }

    public func count(_ column: String) -> Int { Int(statistics()[column] ?? "") ?? -1 }

    public var successfulCalls: Int { count("SuccessfulCall(C)") }
    public var failedCalls: Int { count("FailedCall(C)") }

    public var errors: String {
        (try? String(contentsOfFile: (directory as NSString).appendingPathComponent("errors.log"), encoding: .utf8)) ?? ""
    }

    public var output: String {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return files.filter { $0.hasSuffix(".out") || $0.hasSuffix("errors.log") }.compactMap {
            try? String(contentsOfFile: (directory as NSString).appendingPathComponent($0), encoding: .utf8)
        }.joined(separator: "\n")
    }

    deinit { stop() }
}

/// Ports for one test, far from well-known ones and from other tests running in parallel.
public enum TestPorts {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var next = 20_000 + Int(getpid() % 200) * 100

    /// `count` consecutive free-looking ports (even start, so RTP pairs line up).
    public static func allocate(_ count: Int) -> Int {
        lock.lock()
        defer { lock.unlock() }
        let start = next
        next += (count + 1) & ~1
        if next > 60_000 { next = 20_000 }
        return start
    }
}
