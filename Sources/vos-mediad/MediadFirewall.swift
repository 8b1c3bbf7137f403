import Firewall
import Logging
import MediaControl
import VOSStore

/// vos-mediad's side of the firewall: programs it from the store at start and again whenever the
/// configuration generation moves (gateways, SS_FIREWALL_*, the RTP range; vos-mediad's one
/// `ConfigurationWatcher` calls `configurationChanged`), and serves the firewall operations on
/// the control socket through `service`.
///
/// It does not re-apply on a timer: a hand edit stays visible to `vosctl firewall diff` until an
/// operator (or the next configuration change) repairs it, instead of being silently undone.
final class MediadFirewall: Sendable {
    let service: FirewallService
    private let logger: Logger

    init(store: Store, logger: Logger) {
        service = FirewallService(store: store)
        self.logger = logger
    }

    /// Programs the firewall before returning (`FirewallService.apply` is synchronous), so the
    /// daemon reports itself ready only afterwards; returns a short state for that report.
    @discardableResult
    func start() -> String { program(because: "start") }

    func configurationChanged(generation: UInt64) { program(because: "configuration generation \(generation)") }

    /// Failures are logged, never fatal: media relaying must go on without the firewall.
    @discardableResult
    private func program(because trigger: String) -> String {
        do {
            let report = try service.apply()
            for name in report.untrustedGatewayNames ?? [] {
                logger.warning("firewall: gateway host \(name) is a DNS name and is not trusted; use its IP address")
            }
            for warning in report.warnings ?? [] { logger.warning("firewall: \(warning)") }
            switch (report.enabled, report.changed ?? false) {
            case (false, true): logger.notice("firewall disabled (SS_FIREWALL_ENABLE=0): table \(report.table) removed (\(trigger))")
            case (false, false): logger.info("firewall disabled (SS_FIREWALL_ENABLE=0) (\(trigger))")
            case (true, true): logger.notice("firewall programmed: table \(report.table), \(report.drift.count) difference(s) repaired (\(trigger))")
            case (true, false): logger.info("firewall already in sync: table \(report.table) (\(trigger))")
            }
            return report.enabled ? "firewall programmed" : "firewall disabled"
        } catch {
            logger.error("firewall not programmed (\(trigger)): \(error.message)")
            return "firewall NOT programmed (see the log)"
        }
    }
}
