import Metrics
import VOSModel

/// The call metrics of vos-controller, kept as calls happen through the swift-metrics API (the
/// Prometheus backend is the daemon's): attempts, answers and failures per gateway, post-dial
/// delay and duration histograms, and each mapping gateway's calls per second.
///
/// Two threads feed it and each has its own handles, so neither takes a lock or asks the
/// factory per call: the SIP thread (`CallEventObserver`: attempts, answers, the CPS window,
/// read back by `mappingCallsPerSecond` on the same thread) and the ledger thread (`recorded`:
/// failures, PDD, duration from the stored CDR). Handles are created once per gateway (label
/// set) and cached; label values are gateway names and SIP codes, never numbers dialled.
///
/// Answers are counted when they happen (SIP thread), not from the CDR at the call's end: an
/// answer counted at hang-up lands one call duration after its attempt, which would skew any
/// windowed ASR (answered / attempted over 5 minutes) by the traffic's holding time.
/// It must not block, do I/O, or keep anything per call.
public final class CallMetrics: CallEventObserver, @unchecked Sendable {
    // @unchecked: the SIP-thread and ledger-thread members below are each confined to their
    // thread (the caller's contract, see the type's comment); `factory` is immutable.

    public static let attemptedName = "vos_calls_attempted_total"
    public static let vendorAttemptsName = "vos_vendor_attempts_total"
    public static let answeredName = "vos_calls_answered_total"
    public static let failedName = "vos_calls_failed_total"
    public static let setupName = "vos_call_setup_seconds"
    public static let durationName = "vos_call_duration_seconds"

    /// Help text of every metric this type creates (the backend needs them: `promtool`).
    public static let help: [String: String] = [
        attemptedName: "Calls offered by customers (INVITEs that became calls, refused ones included), by mapping gateway.",
        vendorAttemptsName: "INVITEs sent to vendors (each failover attempt counts), by routing gateway.",
        answeredName: "Calls answered by a vendor, counted at the answer, by mapping and routing gateway.",
        failedName: "Calls that ended unanswered, counted when their CDR is stored, by mapping gateway, routing gateway (empty when no vendor was tried) and the final SIP code sent to the caller.",
        setupName: "Post-dial delay: call setup to the first 180/183 (or to the answer without one), in seconds, by routing gateway.",
        durationName: "Conversation time of answered calls (answer to hang-up), in seconds, by routing gateway.",
    ]

    /// Histogram bucket bounds, in seconds.
    public static let buckets: [String: [Double]] = [
        setupName: [0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60],
        durationName: [1, 5, 10, 30, 60, 120, 180, 300, 600, 1200, 1800, 3600, 7200],
    ]

    private let factory: any MetricsFactory

    // MARK: SIP thread only
    private var attempted: [String: Counter] = [:]
    private var vendorAttempts: [String: Counter] = [:]
    private var answered: [GatewayPair: Counter] = [:]
    private var mappingRates: [String: PerSecond] = [:]

    // MARK: Ledger thread only
    private var failed: [Failure: Counter] = [:]
    private var setup: [String: Recorder] = [:]
    private var duration: [String: Recorder] = [:]

    private struct GatewayPair: Hashable {
        var mapping: String
        var routing: String
    }

    private struct Failure: Hashable {
        var mapping: String
        var routing: String
        var code: Int
    }

    /// Calls of the current and the previous whole second (as `GatewayHealth` counts vendors').
    private struct PerSecond {
        var second: Int64 = 0
        var thisSecond = 0
        var lastSecond = 0

        mutating func count(second now: Int64) {
            if now != second {
                lastSecond = now == second + 1 ? thisSecond : 0
                thisSecond = 0
                second = now
            }
            thisSecond += 1
        }

        func rate(second now: Int64) -> Int {
            if now == second { return max(lastSecond, thisSecond) }
            return now == second + 1 ? thisSecond : 0
        }
    }

    /// `factory`: the process's backend unless a test gives its own.
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    // MARK: CallEventObserver (SIP thread)

    public func callStarted(_ event: CallStartedEvent) {
        counter(&attempted, event.mappingGateway, Self.attemptedName, [("mapping_gateway", event.mappingGateway)]).increment()
        mappingRates[event.mappingGateway, default: PerSecond()].count(second: event.setupTime / 1000)
    }

    public func vendorAttempted(callID: String, routingGateway: String) {
        counter(&vendorAttempts, routingGateway, Self.vendorAttemptsName, [("routing_gateway", routingGateway)]).increment()
    }

    public func callAnswered(_ event: CallAnsweredEvent) {
        let pair = GatewayPair(mapping: event.mappingGateway, routing: event.routingGateway)
        counter(&answered, pair, Self.answeredName,
                [("mapping_gateway", pair.mapping), ("routing_gateway", pair.routing)]).increment()
    }

    public func callEnded(callID: String, mappingGateway: String, routingGateway: String?) {}

    /// Creates the per-gateway attempt counters at 0 for every configured gateway: a series
    /// Prometheus first sees at N counts from N in `rate()`, so a gateway's first calls would be
    /// lost to ASR and CPS graphs. Called at each scrape; SIP (loop) thread only.
    public func prepare(_ gateways: [GatewayView]) {
        for gateway in gateways {
            if gateway.kind == "mapping" {
                _ = counter(&attempted, gateway.name, Self.attemptedName, [("mapping_gateway", gateway.name)])
            } else {
                _ = counter(&vendorAttempts, gateway.name, Self.vendorAttemptsName, [("routing_gateway", gateway.name)])
            }
        }
    }

    /// Calls per second of each mapping gateway that had calls, as `vosctl gateway status` shows
    /// vendors' (`GatewayView.callsPerSecond`). SIP (loop) thread only.
    public func mappingCallsPerSecond(wallMilliseconds: Int64) -> [String: Int] {
        mappingRates.mapValues { $0.rate(second: wallMilliseconds / 1000) }
    }

    // MARK: Ledger thread

    /// One stored CDR (`StoreCallLedger`'s `recorded` callback, on the ledger thread).
    public func recorded(_ record: CallDetailRecord) {
        let routing = record.routingGateway ?? ""
        if let reached = record.ringingTime ?? record.answerTime, reached >= record.setupTime {
            recorder(&setup, routing, Self.setupName).record(Double(reached - record.setupTime) / 1000)
        }
        if let answer = record.answerTime {
            recorder(&duration, routing, Self.durationName).record(Double(max(0, record.endTime - answer)) / 1000)
        } else {
            let key = Failure(mapping: record.mappingGateway, routing: routing, code: record.sipCode)
            counter(&failed, key, Self.failedName,
                    [("mapping_gateway", key.mapping), ("routing_gateway", key.routing), ("code", String(key.code))]).increment()
        }
    }

    // MARK: Handle caches

    private func counter<Key: Hashable>(_ cache: inout [Key: Counter], _ key: Key, _ name: String,
                                        _ labels: @autoclosure () -> [(String, String)]) -> Counter {
        if let known = cache[key] { return known }
        let made = Counter(label: name, dimensions: labels(), factory: factory)
        cache[key] = made
        return made
    }

    private func recorder(_ cache: inout [String: Recorder], _ routing: String, _ name: String) -> Recorder {
        if let known = cache[routing] { return known }
        let made = Recorder(label: name, dimensions: [("routing_gateway", routing)], aggregate: true, factory: factory)
        cache[routing] = made
        return made
    }
}
