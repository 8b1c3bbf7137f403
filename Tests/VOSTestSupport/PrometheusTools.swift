import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Debian's `promtool` (package prometheus): `check metrics` on a scrape, `check rules` and
/// `test rules` on rule files. Each run is bounded and killed past its time.
public enum Promtool {
    public static let path = "/usr/bin/promtool"

    /// Runs promtool with `input` on its standard input; returns its exit status and everything it printed.
    public static func run(_ arguments: [String], input: String? = nil, seconds: Double = 30) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let stdin = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try process.run()
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
        // Read while it runs so a full pipe cannot stall it; past `seconds` it is killed.
        let box = DataBox()
        let done = DispatchSemaphore(value: 0)
        let reader = output.fileHandleForReading
        Thread {
            box.data = reader.readDataToEndOfFile()
            done.signal()
        }.start()
        if done.wait(timeout: .now() + seconds) == .timedOut {
            kill(process.processIdentifier, SIGKILL)
            _ = done.wait(timeout: .now() + 2)
        }
        process.waitUntilExit()
        let collected = box.data
        return (process.terminationStatus, String(decoding: collected, as: UTF8.self))
    }

    private final class DataBox: @unchecked Sendable {
        var data = Data()
    }
}

/// A real Prometheus server (Debian's /usr/bin/prometheus) for one test: its configuration,
/// rule files and TSDB in `directory`, its web/API on 127.0.0.1:`webPort`, scraping the given
/// targets every second. Stopped (SIGTERM, then SIGKILL) by `stop()` or when released.
public final class PrometheusServer: @unchecked Sendable {
    public static let path = "/usr/bin/prometheus"
    public let webPort: Int
    private let daemon: Daemon

    /// `targets`: job name and `IP:PORT` of each /metrics endpoint; `ruleFiles`: absolute paths.
    public init(directory: String, webPort: Int, targets: [(job: String, address: String)], ruleFiles: [String] = []) throws {
        self.webPort = webPort
        var config = """
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
              evaluation_interval: 1s

            """
        if !ruleFiles.isEmpty {
            config += "rule_files:\n" + ruleFiles.map { "  - \"\($0)\"\n" }.joined()
        }
        config += "scrape_configs:\n"
        for target in targets {
            config += "  - job_name: \"\(target.job)\"\n    static_configs:\n      - targets: [\"\(target.address)\"]\n"
        }
        let configPath = (directory as NSString).appendingPathComponent("prometheus.yml")
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        let storage = (directory as NSString).appendingPathComponent("tsdb")
        try FileManager.default.createDirectory(atPath: storage, withIntermediateDirectories: true)
        daemon = try Daemon(Self.path, [
            "--config.file=\(configPath)", "--storage.tsdb.path=\(storage)",
            "--web.listen-address=127.0.0.1:\(webPort)",
        ], log: (directory as NSString).appendingPathComponent("prometheus.log"))
    }

    public var log: String { daemon.log }

    /// Waits until the server answers /-/ready with 200.
    public func waitUntilReady(seconds: Double = 30) -> Bool {
        eventually(seconds: seconds) { ((try? HTTPGet(port: webPort, path: "/-/ready", timeoutSeconds: 2))?.status ?? 0) == 200 }
    }

    /// One instant query through /api/v1/query: each series' labels and value.
    public func query(_ promQL: String) throws -> [(labels: [String: String], value: Double)] {
        let answer = try HTTPGet(port: webPort, path: "/api/v1/query?query=" + HTTPGet.queryEscaped(promQL))
        guard answer.status == 200,
              let json = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any],
              json["status"] as? String == "success", let data = json["data"] as? [String: Any] else {
            throw Failure("query \(promQL) failed: HTTP \(answer.status) \(answer.body)")
        }
        let results = data["result"] as? [[String: Any]] ?? []
        if data["resultType"] as? String == "scalar", let pair = data["result"] as? [Any], pair.count == 2,
           let text = pair[1] as? String, let value = Double(text) {
            return [([:], value)]
        }
        return results.compactMap { series in
            guard let pair = series["value"] as? [Any], pair.count == 2, let text = pair[1] as? String, let value = Double(text) else { return nil }
            return ((series["metric"] as? [String: String]) ?? [:], value)
        }
    }

    /// What Prometheus knows of its scrape targets: job and health ("up", "down", "unknown").
    public func targetHealth() throws -> [String: String] {
        let answer = try HTTPGet(port: webPort, path: "/api/v1/targets")
        let json = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any]
        let active = ((json?["data"] as? [String: Any])?["activeTargets"] as? [[String: Any]]) ?? []
        var health: [String: String] = [:]
        for target in active {
            let job = (target["labels"] as? [String: String])?["job"] ?? (target["scrapePool"] as? String ?? "?")
            health[job] = (target["health"] as? String ?? "?") + ((target["lastError"] as? String).map { $0.isEmpty ? "" : ": \($0)" } ?? "")
        }
        return health
    }

    public func stop() { daemon.stop() }

    public var isRunning: Bool { daemon.process.isRunning }

    deinit { daemon.stop() }
}
