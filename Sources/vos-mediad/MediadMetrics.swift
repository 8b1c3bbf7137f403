import Firewall
import Logging
import MediaControl
import MediaRelay
import Synchronization
import Telemetry
import VOSModel
import struct Sockets.SocketAddress

/// vos-mediad's Prometheus metrics (docs/OBSERVABILITY.md, "Metrics"), all read when Prometheus
/// scrapes, on the endpoint's render thread: relay sessions by forwarding path, packets and bytes
/// relayed, legs by quality band (from `RelayEngine`'s statistics, what `vosctl media sessions`
/// shows, plus its totals of ended sessions), and the firewall's per-rule drop counters, active
/// bans and drift (from `FirewallService.audit`, what `vosctl firewall audit` shows).
///
/// Nothing here runs on the packet path: a scrape costs one statistics snapshot per I/O thread
/// (as `vosctl media sessions` does) and one firewall read. It must not change relay or firewall state.
final class MediadMetrics: Sendable {
    private let exposition: MetricsExposition
    private let endpoint: MetricsEndpoint
    /// Last value exported per counter series: the relay's totals can dip for an instant while a
    /// session moves from live to ended, and a Prometheus counter must never go down.
    private let exported = Mutex<[String: Double]>([:])
    private let firewallWarned = Mutex(false)

    static let help: [String: String] = [
        "vos_media_sessions": "Relay sessions in progress by forwarding path: userspace (relayed by vos-mediad), kernel (offloaded to ip vos_media), transcode (decoded: transcoding, DTMF interworking).",
        "vos_media_packets_total": "RTP/RTCP packets relayed since vos-mediad started: received from the legs' far ends, or sent to them; kernel-offloaded packets included.",
        "vos_media_bytes_total": "Bytes of the packets in vos_media_packets_total (UDP payload).",
        "vos_media_dropped_packets_total": "Packets dropped because they came from a source other than the leg's latched one.",
        "vos_media_sessions_ended_total": "Relay sessions deleted since vos-mediad started.",
        "vos_media_legs": "Legs of sessions in progress by their current quality band (loss, jitter, round trip; requirements §5); unmeasured before any measurement.",
        "vos_media_legs_ended_total": "Legs of ended sessions by the quality band they ended in.",
        "vos_media_one_way_audio_legs": "Legs of sessions in progress whose far end has sent no RTP for 5 s while the other far end has.",
        "vos_firewall_readable": "1 when this scrape could read the firewall (table, counters, bans) from the kernel, else 0.",
        "vos_firewall_dropped_packets_total": "Packets dropped by each counting drop rule of table inet vos_filter, by rule comment; restarts at 0 when the table is reprogrammed.",
        "vos_firewall_active_bans": "Addresses in the firewall's ban sets now (flood bans, controller bans, manual bans).",
        "vos_firewall_drift": "Differences between the kernel's firewall and the policy the store renders (0: in sync), what `vosctl firewall audit` lists.",
    ]

    init(listen: SocketAddress, engine: RelayEngine, firewall: FirewallService, logger: Logger) {
        exposition = MetricsExposition()
        exposition.bootstrapMetricsSystem()
        endpoint = MetricsEndpoint(listen: listen, exposition: exposition, logger: logger)
        exposition.addCollector { [self] in media(engine, logger: logger) + self.firewall(firewall, logger: logger) }
    }

    @discardableResult
    func start() throws(MetricsEndpointError) -> SocketAddress { try endpoint.start() }

    func stop() { endpoint.stop() }

    private func family(_ name: String, _ kind: ScrapedFamily.Kind) -> ScrapedFamily {
        ScrapedFamily(name, kind, help: Self.help[name] ?? name)
    }

    // MARK: Relay

    private func media(_ engine: RelayEngine, logger: Logger) -> [ScrapedFamily] {
        var sessions = family("vos_media_sessions", .gauge)
        var packets = family("vos_media_packets_total", .counter)
        var bytes = family("vos_media_bytes_total", .counter)
        var dropped = family("vos_media_dropped_packets_total", .counter)
        var ended = family("vos_media_sessions_ended_total", .counter)
        var legs = family("vos_media_legs", .gauge)
        var legsEnded = family("vos_media_legs_ended_total", .counter)
        var oneWay = family("vos_media_one_way_audio_legs", .gauge)
        let live: [SessionInfo]
        do { live = try engine.statistics(session: nil) } catch {
            logger.warning("metrics scrape: relay statistics unavailable: \(error)")
            return [sessions, packets, bytes, dropped, ended, legs, legsEnded, oneWay]
        }
        // Read after the snapshot: a session deleted in between is then counted in both, never in neither.
        var totals = engine.endedTotals
        var byPath: [ForwardingPath: Int] = [.userspace: 0, .kernel: 0, .transcode: 0]
        var byBand: [QualityBand?: Int] = [:]
        var oneWayLegs = 0
        for session in live {
            let paths = session.legs.map(\.path)
            let path: ForwardingPath = paths.contains(.transcode) ? .transcode : paths.contains(.kernel) ? .kernel : .userspace
            byPath[path, default: 0] += 1
            for leg in session.legs {
                byBand[leg.quality, default: 0] += 1
                if leg.oneWayAudio == true { oneWayLegs += 1 }
                totals.received.packets &+= leg.received.packets
                totals.received.bytes &+= leg.received.bytes
                totals.sent.packets &+= leg.sent.packets
                totals.sent.bytes &+= leg.sent.bytes
                totals.dropped &+= leg.dropped
            }
        }
        for path in [ForwardingPath.userspace, .kernel, .transcode] {
            sessions.samples.append(.init([("path", path.rawValue)], Double(byPath[path, default: 0])))
        }
        for (direction, traffic) in [("received", totals.received), ("sent", totals.sent)] {
            packets.samples.append(.init([("direction", direction)], counter("packets \(direction)", traffic.packets)))
            bytes.samples.append(.init([("direction", direction)], counter("bytes \(direction)", traffic.bytes)))
        }
        dropped.samples = [.init([], counter("dropped", totals.dropped))]
        ended.samples = [.init([], Double(totals.sessions))]
        let bands: [(QualityBand?, String)] = QualityBand.allCases.map { ($0, $0.rawValue) } + [(nil, "unmeasured")]
        for (band, name) in bands {
            legs.samples.append(.init([("quality", name)], Double(byBand[band, default: 0])))
            legsEnded.samples.append(.init([("quality", name)], Double(totals.legsByQuality[band, default: 0])))
        }
        oneWay.samples = [.init([], Double(oneWayLegs))]
        return [sessions, packets, bytes, dropped, ended, legs, legsEnded, oneWay]
    }

    /// `value`, or the last one exported for `series` if that was higher.
    private func counter(_ series: String, _ value: UInt64) -> Double {
        exported.withLock { last in
            let kept = max(last[series] ?? 0, Double(value))
            last[series] = kept
            return kept
        }
    }

    // MARK: Firewall

    private func firewall(_ service: FirewallService, logger: Logger) -> [ScrapedFamily] {
        var readable = family("vos_firewall_readable", .gauge)
        var drops = family("vos_firewall_dropped_packets_total", .counter)
        var bans = family("vos_firewall_active_bans", .gauge)
        var drift = family("vos_firewall_drift", .gauge)
        let report: FirewallReport
        do { report = try service.audit() } catch {
            // Logged once: it is the same every scrape (no CAP_NET_ADMIN, no nf_tables).
            if firewallWarned.withLock({ warned in defer { warned = true }; return !warned }) {
                logger.warning("metrics scrape: cannot read the firewall: \(error.message); firewall metrics are empty until it can")
            }
            readable.samples = [.init([], 0)]
            return [readable, drops, bans, drift]
        }
        readable.samples = [.init([], 1)]
        // Rules are labelled by comment; the same comment twice (one per address family) is summed.
        var byRule: [String: UInt64] = [:]
        var order: [String] = []
        for rule in report.rules ?? [] where rule.expression.contains("reg 0 drop ]") && rule.expression.contains("[ counter ]") {
            let name = rule.comment ?? "\(rule.chain) rule \(rule.handle)"
            if byRule[name] == nil { order.append(name) }
            byRule[name, default: 0] += rule.packets
        }
        drops.samples = order.map { .init([("rule", $0)], Double(byRule[$0, default: 0])) }
        bans.samples = [.init([], Double(report.bans?.count ?? 0))]
        drift.samples = [.init([], Double(report.drift.count))]
        return [readable, drops, bans, drift]
    }
}
