import Foundation
import VOSTestSupport

/// A switch in network namespaces the test creates and always deletes:
///
///     gw  198.51.100.2 ──veth── 198.51.100.1  sw  203.0.113.1 ──veth── 203.0.113.66  atk
///
/// `sw` runs vos-mediad (which programs `sw`'s nftables) and vos-controller on 0.0.0.0:5060.
/// `gw` is a trusted gateway: the mapping gateway (customer) and the routing gateway (sipp UAS on
/// 5070). `atk` is an untrusted host running scanners and floods.
final class FirewallLab: @unchecked Sendable {
    static let switchGatewaySide = "198.51.100.1"
    static let gatewayIP = "198.51.100.2"
    static let switchAttackerSide = "203.0.113.1"
    static let attackerIP = "203.0.113.66"

    let scratch: Scratch
    let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
    var sw: String { "vosfw-sw-\(tag)" }
    var gw: String { "vosfw-gw-\(tag)" }
    var atk: String { "vosfw-atk-\(tag)" }
    var dataDirectory: String { scratch.child("var") }
    private var daemons: [Daemon] = []
    private var processes: [Process] = []

    init(banSeconds: Int = 600) throws {
        scratch = try Scratch()
        do {
            for name in [sw, gw, atk] {
                try Self.run(["ip", "netns", "add", name])
                try Self.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"])
            }
            try link(sw, Self.switchGatewaySide, gw, Self.gatewayIP, prefix: 24)
            try link(sw, Self.switchAttackerSide, atk, Self.attackerIP, prefix: 24)
            try vosctl("init")
            try vosctl("param", "set", "SS_MEDIAPROXYMODE", "0")
            try vosctl("param", "set", "SS_FIREWALL_BAN_TIME", String(banSeconds))
            let rates = scratch.child("rates.csv")
            try "prefix,price,first,next\n44,0.0100,1,1\n".write(toFile: rates, atomically: true, encoding: .utf8)
            try vosctl("rate", "import", "retail", rates)
            try vosctl("account", "add", "acme", "--type", "postpaid", "--limit-money", "100000", "--rate-table", "retail")
            try vosctl("gateway", "add", "mapping", "cust", "--ip", Self.gatewayIP, "--account", "acme")
            try vosctl("gateway", "add", "routing", "carrier", "--address", "\(Self.gatewayIP):5070", "--prefix", "44",
                       "--options-check", "off")
        } catch {
            remove()
            throw error
        }
    }

    private func link(_ a: String, _ aIP: String, _ b: String, _ bIP: String, prefix: Int) throws {
        let suffix = String(UInt16.random(in: 0...UInt16.max), radix: 16)
        let left = "fa\(suffix)", right = "fb\(suffix)"
        try Self.run(["ip", "link", "add", left, "netns", a, "type", "veth", "peer", "name", right, "netns", b])
        try Self.run(["ip", "netns", "exec", a, "ip", "addr", "add", "\(aIP)/\(prefix)", "dev", left])
        try Self.run(["ip", "netns", "exec", b, "ip", "addr", "add", "\(bIP)/\(prefix)", "dev", right])
        try Self.run(["ip", "netns", "exec", a, "ip", "link", "set", left, "up"])
        try Self.run(["ip", "netns", "exec", b, "ip", "link", "set", right, "up"])
    }

    /// `controllerArguments` are added to vos-controller's (e.g. another `--metrics-listen`).
    func startSwitch(controllerArguments: [String] = []) throws {
        let mediad = try Daemon(Vosctl.binary("vos-mediad"), ["--data-dir", dataDirectory, "--media-ip", Self.switchGatewaySide,
                                                              "--io-threads", "1"],
                                log: scratch.child("mediad.log"), prefix: ["/usr/bin/ip", "netns", "exec", sw])
        daemons.append(mediad)
        guard mediad.waitForLog("vos-mediad started") else { throw Failure("vos-mediad did not start:\n\(mediad.log)") }
        let controller = try Daemon(Vosctl.binary("vos-controller"),
                                    ["--data-dir", dataDirectory, "--sip-listen", "0.0.0.0:5060", "--sip-advertise", Self.switchGatewaySide]
                                        + controllerArguments,
                                    log: scratch.child("controller.log"), prefix: ["/usr/bin/ip", "netns", "exec", sw])
        daemons.append(controller)
        guard controller.waitForLog("vos-controller started") else { throw Failure("controller did not start:\n\(controller.log)") }
    }

    var mediadLog: String { (try? String(contentsOfFile: scratch.child("mediad.log"), encoding: .utf8)) ?? "" }
    var controllerLog: String { (try? String(contentsOfFile: scratch.child("controller.log"), encoding: .utf8)) ?? "" }

    /// vosctl inside the switch namespace (so direct kernel access hits the switch's tables).
    @discardableResult
    func vosctl(_ arguments: String...) throws -> String {
        let result = try vosctlResult(arguments)
        guard result.status == 0 else { throw Failure("vosctl \(arguments.joined(separator: " ")) exited \(result.status): \(result.output)") }
        return result.output
    }

    func vosctlResult(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try Self.capture(["ip", "netns", "exec", sw, Vosctl.path, "--data-dir", dataDirectory] + arguments)
    }

    func json(_ arguments: String...) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(try vosctlStdout(arguments + ["--json"]).utf8))
    }

    private func vosctlStdout(_ arguments: [String]) throws -> String {
        let result = try Self.capture(["ip", "netns", "exec", sw, Vosctl.path, "--data-dir", dataDirectory] + arguments, mergeStderr: false)
        guard result.status == 0 else { throw Failure("vosctl \(arguments) exited \(result.status): \(result.output)") }
        return result.output
    }

    /// Runs a command in a namespace, bounded to `seconds`.
    @discardableResult
    func inNamespace(_ namespace: String, _ arguments: [String], seconds: Int = 30) throws -> (status: Int32, output: String) {
        try Self.capture(["timeout", "-s", "KILL", String(seconds), "ip", "netns", "exec", namespace] + arguments)
    }

    /// Starts a command in a namespace in the background; stopped (by PID) when the lab goes.
    func background(_ namespace: String, _ arguments: [String], log: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ip")
        process.arguments = ["netns", "exec", namespace] + arguments
        _ = FileManager.default.createFile(atPath: scratch.child(log), contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch.child(log)))
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        processes.append(process)
        return process
    }

    func read(_ log: String) -> String { (try? String(contentsOfFile: scratch.child(log), encoding: .utf8)) ?? "" }

    /// The trusted gateway as a vendor: sipp UAS on 198.51.100.2:5070.
    func startVendor(seconds: Int = 60) throws {
        _ = try background(gw, ["sipp", "-sn", "uas", "-i", Self.gatewayIP, "-p", "5070", "-mp", "5072", "-timeout", "\(seconds)s",
                                "-nostdin"], log: "uas.log")
        usleep(300_000)
    }

    /// The trusted gateway as a customer: `calls` calls to 4420... at `rate`/s. Returns sipp's
    /// exit status (0 = every call completed) and its statistics line.
    func customerCalls(_ calls: Int, rate: Int, seconds: Int = 60) throws -> (status: Int32, successful: Int, failed: Int) {
        let stat = scratch.child("uac-stat-\(UUID().uuidString).csv")
        let result = try inNamespace(gw, ["sipp", "-sn", "uac", "\(Self.switchGatewaySide):5060", "-i", Self.gatewayIP, "-p", "5090",
                                          "-mp", "5092", "-s", "4420123", "-m", String(calls), "-r", String(rate), "-d", "200",
                                          "-timeout", "\(seconds)s", "-timeout_error", "-nostdin", "-trace_stat", "-stf", stat],
                                     seconds: seconds + 10)
        let counters = Self.sippCounters(stat)
        return (result.status, counters["SuccessfulCall(C)"] ?? -1, counters["FailedCall(C)"] ?? -1)
    }

    static func sippCounters(_ statFile: String) -> [String: Int] {
        guard let text = try? String(contentsOfFile: statFile, encoding: .utf8) else { return [:] }
        let lines = text.split(separator: "\n").filter { !$0.isEmpty }
        guard let header = lines.first, lines.count >= 2, let last = lines.last else { return [:] }
        let names = header.split(separator: ";", omittingEmptySubsequences: false)
        let values = last.split(separator: ";", omittingEmptySubsequences: false)
        var result: [String: Int] = [:]
        for (index, name) in names.enumerated() where index < values.count { result[String(name)] = Int(values[index]) }
        return result
    }

    /// Live rules from `vosctl firewall audit --json`, by comment.
    func ruleCounters() throws -> [String: Int] {
        let report = try json("firewall", "audit") as? [String: Any]
        var counters: [String: Int] = [:]
        for rule in (report?["rules"] as? [[String: Any]]) ?? [] {
            if let comment = rule["comment"] as? String { counters[comment] = rule["packets"] as? Int ?? 0 }
        }
        return counters
    }

    func bans() throws -> [[String: Any]] { (try json("firewall", "bans") as? [[String: Any]]) ?? [] }

    func remove() {
        for process in processes where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        for daemon in daemons.reversed() { daemon.stop() }
        daemons.removeAll()
        for name in [sw, gw, atk] { _ = try? Self.capture(["ip", "netns", "del", name]) }
    }

    deinit { remove() }

    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        let result = try capture(arguments)
        guard result.status == 0 else { throw Failure("\(arguments.joined(separator: " ")) exited \(result.status): \(result.output)") }
        return result.output
    }

    static func capture(_ arguments: [String], mergeStderr: Bool = true) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = mergeStderr ? pipe : FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// Small UDP tools run with python3 inside a namespace (the test process itself stays in the
/// root namespace).
enum UDPTool {
    /// Sends `count` copies of each payload (in order) from `source` to `target`:`port`,
    /// `interval` seconds apart.
    static func sendScript(_ payloads: [String], to target: String, port: Int, count: Int = 1, interval: Double = 0) -> [String] {
        let list = payloads.map { "\"\"\"\($0)\"\"\"" }.joined(separator: ",")
        return ["python3", "-c", """
            import socket, time
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            for p in [\(list)]:
                for i in range(\(count)):
                    s.sendto(p.replace("\\n", "\\r\\n").encode(), ("\(target)", \(port)))
                    if \(interval) > 0: time.sleep(\(interval))
            """]
    }

    /// Receives for `seconds` on `port` and prints how many datagrams arrived.
    static func receiveScript(port: Int, seconds: Double) -> [String] {
        ["python3", "-c", """
            import socket, time
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("0.0.0.0", \(port)))
            s.settimeout(0.2)
            n = 0
            end = time.time() + \(seconds)
            while time.time() < end:
                try:
                    s.recv(4096); n += 1
                except socket.timeout:
                    pass
            print("received", n)
            """]
    }
}
