import Foundation
import VOSTestSupport

/// One softswitch under test: a fresh store, vos-controller (and vos-mediad when media is
/// relayed) on loopback, customers as sipp on 127.0.0.2, vendors as sipp on 127.0.0.3.
final class SwitchLab: @unchecked Sendable {
    static let customerIP = "127.0.0.2"
    static let vendorIP = "127.0.0.3"

    let scratch: Scratch
    let vosctl: Vosctl
    let sipPort: Int
    private var daemons: [Daemon] = []
    private var sipps: [Sipp] = []
    private var sippCount = 0

    init(mediaMode: Int = 0) throws {
        scratch = try Scratch()
        vosctl = Vosctl(dataDirectory: scratch.child("var"))
        sipPort = TestPorts.allocate(2)
        try vosctl.ok("init")
        // These labs run in the host's own network namespace: never program its firewall.
        try vosctl.ok("param", "set", "SS_FIREWALL_ENABLE", "0")
        try vosctl.ok("param", "set", "SS_MEDIAPROXYMODE", String(mediaMode))
        let rates = try scratch.write("retail.csv", "prefix,price,first,next\n4,0.0100,1,1\n3,0.0200,1,1\n")
        try vosctl.ok("rate", "import", "retail", rates)
        try vosctl.ok("account", "add", "acme", "--type", "postpaid", "--limit-money", "100000", "--rate-table", "retail")
        try vosctl.ok("gateway", "add", "mapping", "cust", "--ip", SwitchLab.customerIP, "--account", "acme")
    }

    /// Adds a routing gateway on 127.0.0.3:`port` (OPTIONS checks off unless asked for).
    func vendor(_ name: String, port: Int, prefix: String = "44", _ extra: String...) throws {
        var arguments = ["gateway", "add", "routing", name, "--address", "\(SwitchLab.vendorIP):\(port)", "--prefix", prefix]
        if !extra.contains("--options-check") { arguments += ["--options-check", "off"] }
        try vosctl.okArray(arguments + extra)
    }

    @discardableResult
    /// `metricsListen`: port 0 by default, so labs running at once do not fight over 9464.
    func startController(environment: [String: String] = [:], metricsListen: String = "127.0.0.1:0") throws -> Daemon {
        let daemon = try Daemon(Vosctl.binary("vos-controller"),
                                ["--data-dir", scratch.child("var"), "--sip-listen", "127.0.0.1:\(sipPort)", "--metrics-listen", metricsListen],
                                log: scratch.child("controller.log"), environment: environment)
        daemons.append(daemon)
        guard daemon.waitForLog("vos-controller started") else { throw Failure("controller did not start:\n\(daemon.log)") }
        return daemon
    }

    @discardableResult
    func startMediad(metricsListen: String = "127.0.0.1:0") throws -> Daemon {
        // The host's namespace: per-leg sockets, so no capture table goes into the host's nftables.
        let daemon = try Daemon(Vosctl.binary("vos-mediad"), ["--data-dir", scratch.child("var"), "--media-ip", "127.0.0.1", "--receive", "sockets",
                                                              "--metrics-listen", metricsListen],
                                log: scratch.child("mediad.log"))
        daemons.append(daemon)
        guard daemon.waitForLog("vos-mediad started") else { throw Failure("vos-mediad did not start:\n\(daemon.log)") }
        return daemon
    }

    /// A scenario file from the bundle with placeholders replaced, written into the lab.
    func scenario(_ name: String, _ replacements: [String: String] = [:]) throws -> String {
        guard let url = Bundle.module.url(forResource: name, withExtension: "xml", subdirectory: "Scenarios") else {
            throw Failure("scenario \(name) missing from the test bundle")
        }
        var text = try String(contentsOf: url, encoding: .utf8)
        for (key, value) in replacements { text = text.replacingOccurrences(of: key, with: value) }
        return try scratch.write("\(name)-\(replacements.values.joined(separator: "-")).xml", text)
    }

    private func sippDirectory() throws -> String {
        sippCount += 1
        let directory = scratch.child("sipp\(sippCount)")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // Built-in pcap scenarios play "pcap/g711a.pcap" relative to the working directory.
        try? FileManager.default.createSymbolicLink(atPath: directory + "/pcap", withDestinationPath: "/usr/share/sip-tester")
        return directory
    }

    /// A vendor: sipp as UAS on 127.0.0.3:`port`. `scenario` is a built-in name (`uas`) or a file.
    @discardableResult
    func uas(port: Int, scenario: String = "uas", _ extra: [String] = [], seconds: Int = 30) throws -> Sipp {
        let choose = scenario.hasSuffix(".xml") ? ["-sf", scenario] : ["-sn", scenario]
        let sipp = try Sipp(choose + ["-i", SwitchLab.vendorIP, "-p", String(port), "-mp", String(port + 2),
                                      "-timeout", "\(seconds)s"] + extra, in: try sippDirectory(), name: "uas")
        sipps.append(sipp)
        usleep(300_000)
        return sipp
    }

    /// A customer: sipp as UAC from 127.0.0.2 calling `callee` through the switch.
    func uac(_ callee: String, calls: Int = 1, rate: Int = 10, scenario: String = "uac", from ip: String = SwitchLab.customerIP,
             _ extra: [String] = [], seconds: Int = 30) throws -> Sipp {
        let choose = scenario.hasSuffix(".xml") ? ["-sf", scenario] : ["-sn", scenario]
        let port = TestPorts.allocate(8)
        let sipp = try Sipp(choose + ["127.0.0.1:\(sipPort)", "-i", ip, "-p", String(port), "-mp", String(port + 2),
                                      "-s", callee, "-m", String(calls), "-r", String(rate), "-timeout", "\(seconds)s",
                                      "-timeout_error"] + extra, in: try sippDirectory(), name: "uac")
        sipps.append(sipp)
        return sipp
    }

    func cdrs() throws -> [[String: Any]] {
        (try vosctl.json("cdr", "list") as? [[String: Any]]) ?? []
    }

    /// Waits until `count` CDRs exist (the controller writes them as calls end).
    func waitForCDRs(_ count: Int, seconds: Double = 10) throws -> [[String: Any]] {
        _ = try eventually(seconds: seconds) { try cdrs().count >= count }
        return try cdrs()
    }

    var controllerLog: String { (try? String(contentsOfFile: scratch.child("controller.log"), encoding: .utf8)) ?? "" }

    deinit {
        for sipp in sipps { sipp.stop() }
        for daemon in daemons.reversed() { daemon.stop() }
    }
}

extension Dictionary where Key == String, Value == Any {
    var reason: String? { self["endReason"] as? String }
    var sipCode: Int? { self["sipCode"] as? Int }
    var attempts: [(gateway: String, code: Int?)] {
        ((self["attempts"] as? [[String: Any]]) ?? []).map { ($0["gateway"] as? String ?? "", $0["sipCode"] as? Int) }
    }
}
