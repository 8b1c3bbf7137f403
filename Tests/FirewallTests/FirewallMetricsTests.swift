import Foundation
import Testing
import VOSTestSupport

/// vos-mediad's firewall metrics against the real kernel firewall of a `FirewallLab`: scanner
/// packets dropped by their rule, a ban, read from /metrics inside the switch's namespace
/// (vos-mediad listens on its default 127.0.0.1:9465 there).
@Suite("Firewall metrics", .serialized, .timeLimit(.minutes(2)))
struct FirewallMetricsTests {
    static let scannerOptions = """
        OPTIONS sip:100@\(FirewallLab.switchAttackerSide) SIP/2.0
        Via: SIP/2.0/UDP \(FirewallLab.attackerIP):5099;branch=z9hG4bKscan1
        From: <sip:probe@\(FirewallLab.attackerIP)>;tag=scan1
        To: <sip:100@\(FirewallLab.switchAttackerSide)>
        Call-ID: scan1
        CSeq: 1 OPTIONS
        User-Agent: friendly-scanner
        Content-Length: 0


        """

    @Test func scannerDropsAndBansShowAsMetrics() throws {
        let lab = try FirewallLab()
        defer { lab.remove() }
        try lab.startSwitch()
        try lab.inNamespace(lab.atk, UDPTool.sendScript([Self.scannerOptions], to: FirewallLab.switchAttackerSide, port: 5060, count: 7))
        try lab.vosctl("firewall", "ban", "203.0.113.77", "--reason", "metrics test")
        let scrape = try lab.inNamespace(lab.sw, ["python3", "-c", """
            import urllib.request
            print(urllib.request.urlopen("http://127.0.0.1:9465/metrics", timeout=10).read().decode())
            """])
        #expect(scrape.status == 0, "\(scrape.output)")
        let text = scrape.output
        #expect(text.contains("vos_firewall_readable 1\n"), "\(text)")
        #expect(Self.value(text, "vos_firewall_dropped_packets_total{rule=\"scanner User-Agent: friendly-scanner\"}") == 7, "\(text)")
        // Accepting rules are not drop counters.
        #expect(!text.contains("rule=\"RTP/RTCP relay port range\""))
        #expect(text.contains("vos_firewall_dropped_packets_total{rule=\"management ports closed to everyone else\"} "))
        #expect(Self.value(text, "vos_firewall_active_bans") == 1, "\(text)")
        #expect(Self.value(text, "vos_firewall_drift") == 0, "\(text)")
        let check = try Promtool.run(["check", "metrics"], input: text)
        #expect(check.status == 0, "\(check.output)")
    }

    /// The metrics port on a public address is open to the management subnet and dropped, and
    /// counted, for everyone else.
    @Test func theMetricsPortIsOpenOnlyToManagementSubnets() throws {
        let lab = try FirewallLab()
        defer { lab.remove() }
        try lab.vosctl("param", "set", "SS_FIREWALL_MANAGEMENT_SUBNETS", "198.51.100.0/24")
        try lab.startSwitch(controllerArguments: ["--metrics-listen", "0.0.0.0:9464"])
        func fetch(from namespace: String, _ address: String) throws -> (status: Int32, output: String) {
            try lab.inNamespace(namespace, ["python3", "-c", """
                import urllib.request
                print(urllib.request.urlopen("http://\(address):9464/metrics", timeout=3).read().decode())
                """], seconds: 10)
        }
        let management = try fetch(from: lab.gw, FirewallLab.switchGatewaySide)
        #expect(management.status == 0, "the management subnet reaches /metrics: \(management.output)")
        #expect(management.output.contains("vos_calls_active"))
        let outsider = try fetch(from: lab.atk, FirewallLab.switchAttackerSide)
        #expect(outsider.status != 0, "an address outside the management subnets gets nothing: \(outsider.output)")
        #expect(outsider.output.contains("timed out"), "dropped, not refused: \(outsider.output)")
        let scrape = try lab.inNamespace(lab.sw, ["python3", "-c", """
            import urllib.request
            print(urllib.request.urlopen("http://127.0.0.1:9465/metrics", timeout=10).read().decode())
            """])
        let dropped = Self.value(scrape.output, "vos_firewall_dropped_packets_total{rule=\"management ports closed to everyone else\"}") ?? 0
        #expect(dropped >= 1, "the outsider's SYNs are counted by the rule: \(scrape.output)")
    }

    static func value(_ text: String, _ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }
}
