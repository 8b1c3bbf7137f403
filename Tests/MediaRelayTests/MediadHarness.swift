import Foundation
import MediaControl

/// A vos-mediad with its own store (made by `vosctl init` in a temp directory), started inside a
/// namespace. `stop()` ends it and removes the directory; call it in a `defer`.
final class MediadHarness {
    let dataDirectory: String
    let controlPath: String
    let vosctl: String
    private var daemon: BackgroundCommand?

    init(parameters: [String: String]) throws {
        vosctl = try BuiltProducts.path(of: "vosctl")
        dataDirectory = NSTemporaryDirectory() + "vos-mediad-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        controlPath = dataDirectory + "/mediad.sock"
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        try vosctl(["init"])
        // A daemon started outside a namespace must never program the host's firewall.
        var parameters = parameters
        if parameters["SS_FIREWALL_ENABLE"] == nil { parameters["SS_FIREWALL_ENABLE"] = "0" }
        for (key, value) in parameters.sorted(by: { $0.key < $1.key }) { try vosctl(["param", "set", key, value]) }
    }

    @discardableResult
    func vosctl(_ arguments: [String]) throws -> CommandResult {
        try Command.run([vosctl, "--data-dir", dataDirectory] + arguments)
    }

    /// The daemon's command line: `--media-ip` only when `mediaIP` is given (else SS_MEDIA_IP in
    /// the store decides, as on the appliance). `prefix` runs before the binary (e.g. `setpriv`
    /// to drop a capability).
    func command(lab: NetworkLab?, role: String, mediaIP: String?, extraArguments: [String] = [], prefix: [String] = []) throws -> [String] {
        let binary = try BuiltProducts.path(of: "vos-mediad")
        // Metrics on any free port: harnesses in the host's namespace run side by side.
        let command = prefix + [binary, "--data-dir", dataDirectory, "--control", controlPath, "--metrics-listen", "127.0.0.1:0"]
            + (mediaIP.map { ["--media-ip", $0] } ?? []) + extraArguments
        return lab?.inside(role, command) ?? command
    }

    /// Starts the daemon (in `namespace` when given) and waits, at most 10 s, until it answers a ping.
    func start(lab: NetworkLab?, role: String, mediaIP: String?, extraArguments: [String] = [], prefix: [String] = []) throws {
        let command = try command(lab: lab, role: role, mediaIP: mediaIP, extraArguments: extraArguments, prefix: prefix)
        daemon = try BackgroundCommand(command, logDirectory: dataDirectory, name: "vos-mediad")
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let client = try? MediaControlClient(path: controlPath), (try? client.ping()) != nil { return }
            usleep(50_000)
        }
        throw StartFailure(log: log)
    }

    var isRunning: Bool { daemon?.process.isRunning ?? false }

    var log: String { (try? String(contentsOfFile: dataDirectory + "/vos-mediad.err", encoding: .utf8)) ?? "" }

    func client() throws -> MediaControlClient { try MediaControlClient(path: controlPath) }

    /// Ends the daemon (SIGTERM) but keeps its store, for a restart with other parameters.
    func stopDaemon() {
        daemon?.stop()
        daemon = nil
    }

    func stop() {
        daemon?.stop()
        daemon = nil
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }

    struct StartFailure: Error, CustomStringConvertible {
        let log: String
        var description: String { "vos-mediad did not answer within 10 s; its log:\n\(log)" }
    }
}
