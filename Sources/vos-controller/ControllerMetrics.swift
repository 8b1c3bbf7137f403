import CallControl
import ClusterStore
import Dispatch
import Logging
import SIPStack
import Synchronization
import Telemetry
import VOSModel
import VOSStore

/// vos-controller's Prometheus metrics (docs/OBSERVABILITY.md, "Metrics"): the call counters and
/// histograms of `CallMetrics`, kept as calls happen, plus what is read when Prometheus scrapes:
/// gateway state (online, calls, CPS), calls in progress, and the balances of accounts flagged
/// with `--balance-metric`, and on a cluster node its cluster state (ControllerMetrics+Cluster).
/// Served by a `MetricsEndpoint` on `--metrics-listen`.
///
/// Gateway state lives on the SIP thread, so a scrape posts one task to the loop and waits at
/// most `loopWait` for it; it is read at scrape time rather than refreshed every second because
/// that costs the loop nothing between scrapes (nobody may be scraping at all), the values are
/// those of the scrape instant, and a removed gateway vanishes with the next scrape. Balances
/// are read from the store on the endpoint's render thread, never on the SIP thread.
/// It must not change call state.
final class ControllerMetrics: Sendable {
    let calls: CallMetrics
    private let exposition: MetricsExposition
    private let endpoint: MetricsEndpoint
    private let logger: Logger
    /// Set on a cluster node: its state is scraped too, and account amounts are the cluster's.
    private let cluster: ClusterNodeServices?
    /// Longest a scrape waits for the SIP loop; past it the gateway families are left empty.
    static let loopWait = Duration.seconds(2)

    static let help: [String: String] = [
        "vos_calls_active": "Calls in progress (routing or connected).",
        "vos_gateway_online": "1 when the gateway takes calls: a routing gateway answering OPTIONS (or not checked) with a usable address, an enabled mapping gateway; else 0.",
        "vos_gateway_calls_active": "Calls in progress through the gateway.",
        "vos_cps": "Calls of the last whole second through the gateway (customer calls for mapping gateways, vendor attempts for routing gateways), as `vosctl gateway status` shows.",
        "vos_account_balance": "Balance of an account flagged with --balance-metric, in the currency of its rates.",
        "vos_account_available_credit": "Credit a new call of an account flagged with --balance-metric may use: balance plus overdraft or credit line, less what live calls reserved.",
    ]

    /// Sets the process's swift-metrics backend (once per process) and prepares the endpoint; it
    /// listens from `start()` on.
    init(listen: SocketAddress, cluster: ClusterNodeServices? = nil, logger: Logger) {
        self.cluster = cluster
        exposition = MetricsExposition(help: CallMetrics.help, buckets: CallMetrics.buckets)
        exposition.bootstrapMetricsSystem()
        calls = CallMetrics(factory: exposition.factory)
        endpoint = MetricsEndpoint(listen: listen, exposition: exposition, logger: logger)
        self.logger = logger
    }

    /// The ledger's callback: one stored CDR (ledger thread).
    func recorded(_ record: CallDetailRecord) { calls.recorded(record) }

    /// Adds the scrape-time families; `b2bua` is touched only on `loop`.
    func observe(loop: any EventLoop, b2bua: B2BUA, store: Store) {
        let calls = self.calls, logger = self.logger, cluster = self.cluster
        exposition.addCollector {
            Self.gatewayFamilies(loop: loop, b2bua: b2bua, calls: calls, logger: logger)
                + Self.accountFamilies(store: store, cluster: cluster, logger: logger)
                + (cluster.map { Self.clusterFamilies($0, store: store, logger: logger) } ?? [])
        }
    }

    @discardableResult
    func start() throws(MetricsEndpointError) -> SocketAddress { try endpoint.start() }

    func stop() { endpoint.stop() }

    // MARK: Scrape time

    private struct LoopState: Sendable {
        var gateways: [GatewayView]
        var mappingCPS: [String: Int]
    }

    private static func gatewayFamilies(loop: any EventLoop, b2bua: B2BUA, calls: CallMetrics, logger: Logger) -> [ScrapedFamily] {
        var active = ScrapedFamily("vos_calls_active", .gauge, help: help["vos_calls_active"] ?? "")
        var online = ScrapedFamily("vos_gateway_online", .gauge, help: help["vos_gateway_online"] ?? "")
        var current = ScrapedFamily("vos_gateway_calls_active", .gauge, help: help["vos_gateway_calls_active"] ?? "")
        var cps = ScrapedFamily("vos_cps", .gauge, help: help["vos_cps"] ?? "")
        let state = loop.waitForResult(timeout: loopWait) {
            let state = LoopState(gateways: b2bua.gatewayViews(), mappingCPS: calls.mappingCallsPerSecond(wallMilliseconds: loop.wallMilliseconds))
            calls.prepare(state.gateways)
            return state
        }
        guard let state else {
            logger.warning("metrics scrape: the SIP loop did not answer within 2 s; gateway metrics left out of this scrape")
            return [active, online, current, cps]
        }
        var inProgress = 0
        for gateway in state.gateways {
            let labels = [("gateway", gateway.name), ("kind", gateway.kind)]
            online.samples.append(.init(labels, gateway.online ? 1 : 0))
            current.samples.append(.init(labels, Double(gateway.currentCalls)))
            let perSecond = gateway.kind == "mapping" ? state.mappingCPS[gateway.name, default: 0] : gateway.callsPerSecond
            cps.samples.append(.init(labels, Double(perSecond)))
            // Every call has exactly one mapping gateway.
            if gateway.kind == "mapping" { inProgress += gateway.currentCalls }
        }
        active.samples = [.init([], Double(inProgress))]
        return [active, online, current, cps]
    }

    private static func accountFamilies(store: Store, cluster: ClusterNodeServices?, logger: Logger) -> [ScrapedFamily] {
        var balance = ScrapedFamily("vos_account_balance", .gauge, help: help["vos_account_balance"] ?? "")
        var available = ScrapedFamily("vos_account_available_credit", .gauge, help: help["vos_account_available_credit"] ?? "")
        do {
            let rows = try store.read { transaction in
                try transaction.accounts().filter(\.exportsBalanceMetric).map { account in
                    (account, try transaction.accountReservation(account.name).reserved)
                }
            }
            let clusterBalances = cluster?.leaser.clusterBalances()
            for (account, reserved) in rows {
                let labels = [("account", account.name)]
                let amounts = Self.accountAmounts(account, localReserved: reserved, cluster: clusterBalances?[account.name])
                balance.samples.append(.init(labels, Self.amount(amounts.balance)))
                available.samples.append(.init(labels, Self.amount(amounts.available)))
            }
        } catch {
            logger.warning("metrics scrape: cannot read account balances from the store: \(error)")
        }
        return [balance, available]
    }

    /// Money is exact decimal; a gauge is a float, so amounts are shown to 4 decimals like `vosctl`.
    private static func amount(_ money: Money) -> Double { Double(money.units) / Double(Money.unitsPerWhole) }
}
