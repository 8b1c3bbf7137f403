import Metrics
import Prometheus
import Synchronization

/// One metric family a daemon computes when it is scraped rather than counting it as things
/// happen: values another part of the daemon already keeps (gateway states, relay sessions,
/// firewall rule counters, account balances). Like a Go client's const metrics: the family is
/// rebuilt on every scrape, so a gateway or rule that is gone disappears with it.
public struct ScrapedFamily: Sendable {
    public enum Kind: String, Sendable {
        /// A cumulative count read from its owner (it may restart at zero when its owner does).
        case counter
        case gauge
    }

    public struct Sample: Sendable {
        public var labels: [(String, String)]
        public var value: Double

        public init(_ labels: [(String, String)] = [], _ value: Double) {
            self.labels = labels
            self.value = value
        }
    }

    public var name: String
    public var help: String
    public var kind: Kind
    /// Empty is allowed: the family is still declared (HELP and TYPE), so dashboards and
    /// `promtool` see it before anything is there to count.
    public var samples: [Sample]

    public init(_ name: String, _ kind: Kind, help: String, samples: [Sample] = []) {
        self.name = name
        self.kind = kind
        self.help = help
        self.samples = samples
    }
}

/// A daemon's Prometheus metrics: the swift-prometheus registry that swift-metrics handles
/// (counters, histograms kept as things happen) write into, plus the families its collectors
/// compute at scrape time, rendered together in the text format 0.0.4.
///
/// It owns the registry and the help texts; it must not know what a call or a packet is: the
/// daemons and `CallControl.CallMetrics` name and fill the metrics.
public final class MetricsExposition: Sendable {
    public let registry: PrometheusCollectorRegistry
    /// The swift-metrics backend over `registry`, with help texts (`promtool` requires them).
    public let factory: PrometheusHelpFactory
    private let collectors = Mutex<[@Sendable () -> [ScrapedFamily]]>([])

    /// `help`: each metric name's help text; `buckets`: histogram bucket bounds by metric name.
    public init(help: [String: String] = [:], buckets: [String: [Double]] = [:]) {
        registry = PrometheusCollectorRegistry()
        factory = PrometheusHelpFactory(registry: registry, help: help, valueBuckets: buckets)
    }

    /// `collect` runs on the endpoint's render thread, once per scrape, one scrape at a time.
    /// It may block briefly (a daemon's loop, the store, the kernel) but must bound the wait.
    public func addCollector(_ collect: @escaping @Sendable () -> [ScrapedFamily]) {
        collectors.withLock { $0.append(collect) }
    }

    /// The whole exposition: the registry's families, then each collector's.
    public func render() -> [UInt8] {
        var buffer = registry.emitToBuffer()
        let current = collectors.withLock { $0 }
        for collect in current { Self.render(collect(), into: &buffer) }
        return buffer
    }

    /// Makes this exposition's factory the process's swift-metrics backend. swift-metrics allows
    /// one bootstrap per process; a second call is refused (false) instead of trapping.
    @discardableResult
    public func bootstrapMetricsSystem() -> Bool {
        Self.bootstrapped.withLock { done in
            guard !done else { return false }
            MetricsSystem.bootstrap(factory)
            done = true
            return true
        }
    }

    private static let bootstrapped = Mutex(false)

    // MARK: Text format 0.0.4

    static func render(_ families: [ScrapedFamily], into buffer: inout [UInt8]) {
        for family in families {
            buffer.append(contentsOf: "# HELP \(family.name) ".utf8)
            appendEscaped(family.help, quotes: false, into: &buffer)
            buffer.append(contentsOf: "\n# TYPE \(family.name) \(family.kind.rawValue)\n".utf8)
            for sample in family.samples {
                buffer.append(contentsOf: family.name.utf8)
                if !sample.labels.isEmpty {
                    buffer.append(UInt8(ascii: "{"))
                    for (index, (name, value)) in sample.labels.enumerated() {
                        if index > 0 { buffer.append(UInt8(ascii: ",")) }
                        buffer.append(contentsOf: name.utf8)
                        buffer.append(contentsOf: "=\"".utf8)
                        appendEscaped(value, quotes: true, into: &buffer)
                        buffer.append(UInt8(ascii: "\""))
                    }
                    buffer.append(UInt8(ascii: "}"))
                }
                buffer.append(UInt8(ascii: " "))
                buffer.append(contentsOf: format(sample.value).utf8)
                buffer.append(UInt8(ascii: "\n"))
            }
        }
    }

    /// Whole numbers print without a fraction (counts stay readable); the rest as Swift prints a
    /// Double, which Prometheus' parser reads back exactly.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 9_007_199_254_740_992 { return String(Int64(value)) }
        return String(value)
    }

    /// Help text escapes backslash and line feed; label values also the double quote.
    private static func appendEscaped(_ text: String, quotes: Bool, into buffer: inout [UInt8]) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): buffer.append(contentsOf: "\\\\".utf8)
            case UInt8(ascii: "\n"): buffer.append(contentsOf: "\\n".utf8)
            case UInt8(ascii: "\"") where quotes: buffer.append(contentsOf: "\\\"".utf8)
            default: buffer.append(byte)
            }
        }
    }
}
