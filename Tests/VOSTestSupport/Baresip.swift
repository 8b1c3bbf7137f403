import Foundation

/// baresip as a softphone for a test: one account registering with a password, auto-answer,
/// a 440 Hz tone as its microphone (ausine, which only runs at 48 kHz stereo: baresip
/// resamples), no speaker, and commands (dial, hang up) over its ctrl_tcp socket. Runs in the host's namespace or, with `namespace`, in
/// one of a lab's (then commands are sent with `ip netns exec`).
public final class Baresip: @unchecked Sendable {
    public let directory: String
    public let ip: String
    public let sipPort: Int
    public let controlPort: Int
    private let namespace: String?
    private let daemon: Daemon

    /// `registrar` is host:port of vos; `account` extra parameters go on the account line
    /// (e.g. `;regint=600`).
    public init(ip: String, registrar: String, username: String, password: String, directory: String,
                namespace: String? = nil, account extra: String = "") throws {
        self.directory = directory
        self.ip = ip
        self.namespace = namespace
        sipPort = TestPorts.allocate(2)
        controlPort = TestPorts.allocate(2)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let config = """
        poll_method\t\tepoll
        sip_listen\t\t\(ip):\(sipPort)
        sip_transports\t\tudp
        audio_source\t\tausine,440
        ausrc_srate\t\t48000
        ausrc_channels\t\t2
        auplay_srate\t\t48000
        auplay_channels\t\t2
        audio_alert\t\taufile,/dev/null
        module_path\t\t/usr/lib/baresip/modules
        module\t\t\tg711.so
        module\t\t\tausine.so
        module\t\t\taufile.so
        module_app\t\taccount.so
        module_app\t\tmenu.so
        module_app\t\tctrl_tcp.so
        ctrl_tcp_listen\t\t\(ip):\(controlPort)

        """
        try config.write(toFile: directory + "/config", atomically: true, encoding: .utf8)
        let account = "<sip:\(username)@\(registrar)>;auth_pass=\(password);answermode=auto;audio_codecs=PCMU,PCMA\(extra)\n"
        try account.write(toFile: directory + "/accounts", atomically: true, encoding: .utf8)
        let prefix = namespace.map { ["/usr/sbin/ip", "netns", "exec", $0] } ?? []
        daemon = try Daemon("/usr/bin/baresip", ["-f", directory, "-v"], log: directory + "/baresip.log", prefix: prefix)
    }

    public var log: String { daemon.log }

    public func waitForLog(_ text: String, seconds: Double = 10) -> Bool { daemon.waitForLog(text, seconds: seconds) }

    /// Sends one ctrl_tcp command (a JSON netstring) and returns baresip's reply line.
    @discardableResult
    public func command(_ name: String, _ parameters: String = "") throws -> String {
        let json = #"{"command":"\#(name)","params":"\#(parameters)","token":"t"}"#
        let netstring = "\(json.utf8.count):\(json),"
        let script = "import socket,sys\ns=socket.create_connection(('\(ip)',\(controlPort)),timeout=5)\ns.sendall(sys.argv[1].encode())\n"
            + "data=b''\ntry:\n  while b'\"response\"' not in data:\n    chunk=s.recv(4096)\n    if not chunk: break\n    data+=chunk\nexcept Exception: pass\nprint(data.decode(errors='replace'))\n"
        let process = Process()
        let pipe = Pipe()
        if let namespace {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
            process.arguments = ["netns", "exec", namespace, "python3", "-c", script, netstring]
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = ["-c", script, netstring]
        }
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        process.waitUntilExit()
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    public func stop() { daemon.stop() }

    deinit { stop() }
}
