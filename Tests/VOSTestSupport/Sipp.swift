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
///
/// They come from below the kernel's ephemeral range (`ip_local_port_range`, 32768 up by
/// default): a port in it can be taken at any moment as the local end of an outgoing
/// connection (a PostgreSQL client, a webhook), and a controller binding it then fails with
/// "Address already in use". Each block is also probed, so a port a daemon still holds is
/// skipped rather than handed out twice.
public enum TestPorts {
    private static let lock = NSLock()
    private static let lowest = 20_000
    private static let ceiling = min(ephemeralRangeStart(), 65_000)
    nonisolated(unsafe) private static var next = lowest + Int(getpid() % 50) * 100

    /// `count` consecutive free ports (even start, so RTP pairs line up).
    public static func allocate(_ count: Int) -> Int {
        lock.lock()
        defer { lock.unlock() }
        let width = (count + 1) & ~1
        for _ in 0..<((ceiling - lowest) / 2) {
            if next + width > ceiling { next = lowest }
            let start = next
            next += width
            if (start..<(start + width)).allSatisfy(isFree) { return start }
        }
        // Nothing free below the ephemeral range: hand out the next block and let the bind say so.
        return next
    }

    private static func ephemeralRangeStart() -> Int {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        return text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first.flatMap { Int($0) } ?? 32_768
    }

    /// Whether TCP and UDP can both bind `port` on loopback right now.
    private static func isFree(_ port: Int) -> Bool {
        [SOCK_STREAM, SOCK_DGRAM].allSatisfy { type in
            let fd = socket(AF_INET, Int32(type.rawValue), 0)
            guard fd >= 0 else { return false }
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            } == 0
        }
    }
}
