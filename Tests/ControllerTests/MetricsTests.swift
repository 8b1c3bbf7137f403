import Foundation
import Testing
import VOSTestSupport

/// Prometheus metrics end to end: the built vos-mediad and vos-controller serve /metrics, a real
/// Prometheus (Debian's) scrapes both while sipp places calls through the switch, and what it
/// stores is what the calls were. The shipped rules and dashboard are checked against it.
@Suite(.serialized) struct MetricsTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test(.timeLimit(.minutes(4))) func prometheusScrapesBothDaemonsAndCountsTheCalls() throws {
        let lab = try SwitchLab(mediaMode: 3)
        let vendorPort = TestPorts.allocate(8)
        let controllerPort = TestPorts.allocate(2), mediadPort = TestPorts.allocate(2), prometheusPort = TestPorts.allocate(2)
        try lab.vendor("ven1", port: vendorPort)
        try lab.vosctl.ok("account", "set", "acme", "--balance-metric")
        try lab.startMediad(metricsListen: "127.0.0.1:\(mediadPort)")
        try lab.startController(metricsListen: "127.0.0.1:\(controllerPort)")
        let directory = lab.scratch.child("prometheus")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let prometheus = try PrometheusServer(
            directory: directory, webPort: prometheusPort,
            targets: [("vos-controller", "127.0.0.1:\(controllerPort)"), ("vos-mediad", "127.0.0.1:\(mediadPort)")],
            ruleFiles: [Self.repository.appendingPathComponent("appliance/prometheus/vos-rules.yml").path])
        defer { prometheus.stop() }
        #expect(prometheus.waitUntilReady(), "prometheus did not get ready:\n\(prometheus.log)")
        func controller() throws -> String { try HTTPGet(port: controllerPort, path: "/metrics").body }
        func mediad() throws -> String { try HTTPGet(port: mediadPort, path: "/metrics").body }

        // Ten calls with RTP (the pcap, echoed by the vendor), then one with no route.
        try lab.uas(port: vendorPort, scenario: "uas", ["-rtp_echo"], seconds: 60)
        let customer = try lab.uac("4420123", calls: 10, rate: 10, scenario: "uac_pcap", seconds: 60)
        #expect(try eventually(seconds: 10) { Self.value(try controller(), "vos_calls_active") ?? 0 >= 1 }, "calls in progress are shown")
        #expect(try eventually(seconds: 10) { Self.mediaSessions(try mediad()) >= 1 }, "relay sessions in progress are shown by path")
        customer.wait(seconds: 60)
        #expect(customer.successfulCalls == 10, "\(customer.output)")
        let refused = try lab.uac("3312345", scenario: try lab.scenario("uac_expect", ["__STATUS__": "503"]))
        refused.wait()
        #expect(refused.successfulCalls == 1, "\(refused.output)")
        #expect(try lab.waitForCDRs(11).count == 11)

        // What each daemon serves now, and that promtool accepts it.
        var controllerText = try controller()
        #expect(try eventually(seconds: 5) {
            controllerText = try controller()
            return Self.value(controllerText, "vos_calls_failed_total{mapping_gateway=\"cust\",routing_gateway=\"\",code=\"503\"}") == 1
        }, "\(controllerText)")
        let mediadText = try mediad()
        for (name, text) in [("vos-controller", controllerText), ("vos-mediad", mediadText)] {
            let check = try Promtool.run(["check", "metrics"], input: text)
            #expect(check.status == 0, "promtool check metrics on \(name)'s scrape: \(check.output)\n\(text)")
        }
        #expect(Self.value(controllerText, "vos_calls_answered_total{mapping_gateway=\"cust\",routing_gateway=\"ven1\"}") == 10)
        #expect(Self.value(controllerText, "vos_calls_attempted_total{mapping_gateway=\"cust\"}") == 11)
        #expect(Self.value(controllerText, "vos_vendor_attempts_total{routing_gateway=\"ven1\"}") == 10)
        #expect(Self.value(controllerText, "vos_call_setup_seconds_count{routing_gateway=\"ven1\"}") == 10)
        #expect(Self.value(controllerText, "vos_call_duration_seconds_count{routing_gateway=\"ven1\"}") == 10)
        #expect(Self.value(controllerText, "vos_calls_active") == 0)
        #expect(Self.value(controllerText, "vos_gateway_online{gateway=\"ven1\",kind=\"routing\"}") == 1)
        #expect(Self.value(controllerText, "vos_gateway_online{gateway=\"cust\",kind=\"mapping\"}") == 1)
        #expect(Self.value(controllerText, "vos_cps{gateway=\"cust\",kind=\"mapping\"}") != nil)
        // Labels are gateway names and codes: no number dialled or caller name ever becomes one.
        #expect(!controllerText.contains("4420123") && !controllerText.contains("3312345") && !controllerText.contains("sipp"))
        // The flagged account's balance is the one vosctl shows.
        let account = try #require(try lab.vosctl.json("account", "show", "acme") as? [String: Any])
        let balance = try #require((account["balance"] as? String).flatMap(Double.init) ?? (account["balance"] as? Double))
        #expect(balance < 0, "the calls were charged")
        #expect(Self.value(controllerText, "vos_account_balance{account=\"acme\"}") == balance)
        #expect(Self.value(mediadText, "vos_media_sessions_ended_total") == 10)
        #expect(Self.value(mediadText, "vos_media_packets_total{direction=\"sent\"}") ?? 0 > 1000, "the pcaps' RTP and its echo were relayed")
        #expect(Self.value(mediadText, "vos_media_packets_total{direction=\"received\"}") ?? 0 > 1000)
        #expect(Self.mediaSessions(mediadText) == 0)

        // Prometheus scraped both and stored the same counts.
        var health: [String: String] = [:]
        #expect(try eventually(seconds: 15) {
            health = try prometheus.targetHealth()
            return health["vos-controller"] == "up" && health["vos-mediad"] == "up"
        }, "targets: \(health)")
        var answered: [(labels: [String: String], value: Double)] = []
        #expect(try eventually(seconds: 20) {
            answered = try prometheus.query("sum(vos_calls_answered_total)")
            return answered.first?.value == 10
        }, "sum(vos_calls_answered_total) = \(answered)")
        #expect(try eventually(seconds: 20) { try prometheus.query("sum(vos_calls_failed_total)").first?.value == 1 })
        #expect(try eventually(seconds: 20) { try prometheus.query("sum(vos_media_sessions_ended_total)").first?.value == 10 })
        #expect(try prometheus.query("vos_calls_failed_total{code=\"503\"}").first?.labels["mapping_gateway"] == "cust")

        // The shipped rules load and evaluate without error against the real series: 9 recording
        // rules, and the 3 cluster alerts, which a single node never fires (it has no such series).
        var rules: [[String: Any]] = []
        #expect(try eventually(seconds: 20) {
            rules = try Self.rules(prometheus)
            return rules.count == 12 && rules.allSatisfy { $0["health"] as? String == "ok" }
        }, "rules: \(rules)")
        #expect(rules.filter { $0["type"] as? String == "recording" }.count == 9, "rules: \(rules)")
        let alerts = rules.filter { $0["type"] as? String == "alerting" }
        #expect(alerts.count == 3 && alerts.allSatisfy { $0["state"] as? String == "inactive" }, "alerts: \(alerts)")

        // The dashboard: every panel's queries name metrics the daemons expose, and run.
        let exposed = Self.declaredNames(controllerText).union(Self.declaredNames(mediadText))
        let dashboardURL = Self.repository.appendingPathComponent("appliance/grafana/vos-dashboard.json")
        let dashboard = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dashboardURL)) as? [String: Any])
        let panels = ((dashboard["panels"] as? [[String: Any]]) ?? []).filter { $0["type"] as? String != "row" }
        #expect(panels.count >= 10)
        for panel in panels {
            let title = panel["title"] as? String ?? "?"
            let expressions = ((panel["targets"] as? [[String: Any]]) ?? []).compactMap { $0["expr"] as? String }
            #expect(!expressions.isEmpty, "panel \(title) has no query")
            for expression in expressions {
                let names = Self.metricNames(in: expression)
                #expect(!names.isEmpty, "panel \(title): \(expression) names no vos metric")
                for name in names {
                    #expect(exposed.contains(name), "panel \(title) uses \(name), which neither daemon exposes")
                }
                #expect(throws: Never.self, "panel \(title): \(expression)") { _ = try prometheus.query(expression) }
            }
        }
        prometheus.stop()
        #expect(!prometheus.isRunning)
    }

    /// The value of one series (name with its labels as the daemon prints them).
    static func value(_ text: String, _ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    /// Relay sessions in progress, whatever their path (kernel offload may take plain calls).
    static func mediaSessions(_ text: String) -> Double {
        ["userspace", "kernel", "transcode"].compactMap { value(text, "vos_media_sessions{path=\"\($0)\"}") }.reduce(0, +)
    }

    /// Every metric family a scrape declares (`# TYPE name kind`).
    static func declaredNames(_ text: String) -> Set<String> {
        Set(text.split(separator: "\n").compactMap { line -> String? in
            let parts = line.split(separator: " ")
            return parts.count == 4 && parts[0] == "#" && parts[1] == "TYPE" ? String(parts[2]) : nil
        })
    }

    /// The vos metric families a PromQL expression reads (a histogram's _bucket/_sum/_count are its family).
    static func metricNames(in expression: String) -> Set<String> {
        var names = Set<String>()
        var current = ""
        for character in expression + " " {
            if character.isLetter || character.isNumber || character == "_" || character == ":" {
                current.append(character)
                continue
            }
            if current.hasPrefix("vos_") {
                var name = current
                for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) && name.hasPrefix("vos_call_") {
                    name = String(name.dropLast(suffix.count))
                }
                names.insert(name)
            }
            current = ""
        }
        return names
    }

    static func rules(_ prometheus: PrometheusServer) throws -> [[String: Any]] {
        let answer = try HTTPGet(port: prometheus.webPort, path: "/api/v1/rules")
        let json = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any]
        let groups = ((json?["data"] as? [String: Any])?["groups"] as? [[String: Any]]) ?? []
        return groups.flatMap { ($0["rules"] as? [[String: Any]]) ?? [] }
    }
}
