import Foundation
import Metrics
import Testing
import VOSTestSupport
import struct Sockets.SocketAddress
@testable import Telemetry

/// The metrics endpoint in-process on loopback: what an HTTP client gets, that `promtool`
/// accepts it, and the shipped Prometheus rules and configuration checked by `promtool`.
@Suite struct MetricsEndpointTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let prometheusDirectory = repository.appendingPathComponent("appliance/prometheus").path

    /// An exposition with one swift-metrics counter (3), one histogram and one scraped gauge
    /// whose label needs escaping, served on a free loopback port.
    private func serving() throws -> (MetricsEndpoint, Int) {
        let exposition = MetricsExposition(help: ["vos_test_calls_total": "Test calls.", "vos_test_setup_seconds": "Test delays."],
                                           buckets: ["vos_test_setup_seconds": [0.5, 1, 5]])
        let counter = Counter(label: "vos_test_calls_total", dimensions: [("gateway", "ven1")], factory: exposition.factory)
        counter.increment(by: 3)
        let recorder = Recorder(label: "vos_test_setup_seconds", dimensions: [("gateway", "ven1")], aggregate: true, factory: exposition.factory)
        recorder.record(0.7)
        recorder.record(2.0)
        exposition.addCollector {
            [ScrapedFamily("vos_test_gateway_online", .gauge, help: "A gateway's state.\nSecond line \\ backslash.",
                           samples: [.init([("gateway", "quote\"d\\name")], 1), .init([("gateway", "plain")], 0)]),
             ScrapedFamily("vos_test_empty_total", .counter, help: "Declared before anything counted.")]
        }
        let endpoint = MetricsEndpoint(listen: try SocketAddress(parsing: "127.0.0.1:0"), exposition: exposition)
        let bound = try endpoint.start()
        return (endpoint, Int(bound.port))
    }

    @Test func getMetricsServesTheRegistryAndCollectorsInTextFormat() throws {
        let (endpoint, port) = try serving()
        defer { endpoint.stop() }
        let answer = try HTTPGet(port: port, path: "/metrics")
        #expect(answer.status == 200)
        #expect(answer.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
        #expect(answer.body.contains("# HELP vos_test_calls_total Test calls.\n# TYPE vos_test_calls_total counter\n"))
        #expect(answer.body.contains("vos_test_calls_total{gateway=\"ven1\"} 3\n"))
        #expect(answer.body.contains("# TYPE vos_test_setup_seconds histogram\n"))
        #expect(answer.body.contains("vos_test_setup_seconds_bucket{gateway=\"ven1\",le=\"1.0\"} 1\n"))
        #expect(answer.body.contains("vos_test_setup_seconds_count{gateway=\"ven1\"} 2\n"))
        #expect(answer.body.contains("# HELP vos_test_gateway_online A gateway's state.\\nSecond line \\\\ backslash.\n"))
        #expect(answer.body.contains("vos_test_gateway_online{gateway=\"quote\\\"d\\\\name\"} 1\n"))
        #expect(answer.body.contains("vos_test_gateway_online{gateway=\"plain\"} 0\n"))
        #expect(answer.body.contains("# TYPE vos_test_empty_total counter\n"))
        // A query string is not part of the path.
        #expect(try HTTPGet(port: port, path: "/metrics?from=test").status == 200)
    }

    @Test func promtoolAcceptsTheScrape() throws {
        let (endpoint, port) = try serving()
        defer { endpoint.stop() }
        let body = try HTTPGet(port: port, path: "/metrics").body
        let check = try Promtool.run(["check", "metrics"], input: body)
        #expect(check.status == 0, "promtool check metrics: \(check.output)\n\(body)")
    }

    @Test func otherPathsAre404AndOtherMethods405() throws {
        let (endpoint, port) = try serving()
        defer { endpoint.stop() }
        let missing = try HTTPGet(port: port, path: "/")
        #expect(missing.status == 404)
        #expect(missing.body.contains("/metrics"))
        #expect(try HTTPGet(port: port, path: "/metrics/extra").status == 404)
        let posted = try HTTPGet(port: port, path: "/metrics", method: "POST")
        #expect(posted.status == 405)
        #expect(posted.headers["allow"] == "GET, HEAD")
        let head = try HTTPGet(port: port, path: "/metrics", method: "HEAD")
        #expect(head.status == 200)
        #expect(head.body.isEmpty)
    }

    @Test func anAddressInUseIsAClearStartError() throws {
        let (first, port) = try serving()
        defer { first.stop() }
        let second = MetricsEndpoint(listen: try SocketAddress(parsing: "127.0.0.1:\(port)"), exposition: MetricsExposition())
        #expect {
            try second.start()
        } throws: { error in
            let text = "\(error)"
            return text.contains("127.0.0.1:\(port)") && text.contains("address already in use") && text.contains("--metrics-listen")
        }
        // The first one still serves.
        #expect(try HTTPGet(port: port, path: "/metrics").status == 200)
    }

    @Test func stopClosesTheListener() throws {
        let (endpoint, port) = try serving()
        endpoint.stop()
        #expect(throws: (any Error).self) { try HTTPGet(port: port, path: "/metrics", timeoutSeconds: 2) }
        endpoint.stop()
    }

    @Test func valuesPrintAsPrometheusReadsThem() {
        #expect(MetricsExposition.format(3) == "3")
        #expect(MetricsExposition.format(-2) == "-2")
        #expect(MetricsExposition.format(12.4994) == "12.4994")
        #expect(MetricsExposition.format(.nan) == "NaN")
        #expect(MetricsExposition.format(.infinity) == "+Inf")
        #expect(MetricsExposition.format(-.infinity) == "-Inf")
        #expect(MetricsExposition.format(1e300) == "1e+300")
    }

    // MARK: Shipped Prometheus files

    @Test func recordingRulesPassPromtoolCheck() throws {
        let check = try Promtool.run(["check", "rules", Self.prometheusDirectory + "/vos-rules.yml"])
        #expect(check.status == 0, "\(check.output)")
        // 9 recording rules and the 3 cluster alerts.
        #expect(check.output.contains("SUCCESS: 12 rules found"), "\(check.output)")
    }

    /// ASR and ACD computed by the rules from known counter series, and the cluster alerts firing
    /// for the node that lost the database or fell behind and not for the healthy one
    /// (vos-rules.test.yml).
    @Test func recordingRulesComputeASRAndACD() throws {
        let test = try Promtool.run(["test", "rules", Self.prometheusDirectory + "/vos-rules.test.yml"])
        #expect(test.status == 0, "\(test.output)")
        #expect(test.output.contains("SUCCESS"), "\(test.output)")
    }

    @Test func exampleScrapeConfigurationIsValid() throws {
        let check = try Promtool.run(["check", "config", Self.prometheusDirectory + "/prometheus.yml"])
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("SUCCESS: 1 rule files found"), "\(check.output)")
    }
}
