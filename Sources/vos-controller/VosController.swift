import ArgumentParser
import CallControl
import ClusterStore
import Dispatch
import Foundation
import Logging
import MediaControl
import SIPStack
import VOSModel
import VOSRuntime
import VOSStore

/// vos-controller: the SIP B2BUA. Wiring only: the event loop thread owns SIP and calls; helper
/// threads feed it configuration changes and media events through its mailbox.
@main
struct VosController: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "vos-controller", abstract: "vos SIP B2BUA.", version: VOSVersion.number)

    @Option(name: .customLong("data-dir"), help: "Data directory (default: $VOS_DATA_DIR, else ./var).")
    var dataDirectory: String?

    @Option(name: .customLong("sip-listen"), help: "SIP listen address IP:PORT (UDP, and TCP unless --no-tcp).")
    var sipListen: String = "127.0.0.1:5060"

    @Flag(name: .customLong("no-tcp"), help: "Do not accept or open SIP connections over TCP.")
    var noTCP = false

    @Option(name: .customLong("sip-advertise"),
            help: "One IP address shown to every peer in Via, Contact and SDP. Default: per leg, the address the route to the peer leaves from, mapped by SS_ADVERTISED_ADDRESSES; a gateway's --advertise wins over both.")
    var sipAdvertise: String?

    @Option(name: .customLong("media-control"), help: "vos-mediad control socket (default: DATA_DIR/mediad.sock).")
    var mediaControl: String?

    @Option(name: .customLong("metrics-listen"),
            help: "Prometheus metrics address IP:PORT (GET /metrics; port 0: any free port, logged). Keep it on a management address: SS_FIREWALL_MANAGEMENT_PORTS opens it to SS_FIREWALL_MANAGEMENT_SUBNETS only.")
    var metricsListen: String = "127.0.0.1:9464"

    @Option(name: .customLong("cluster-dsn"),
            help: "Cluster mode: the PostgreSQL all nodes share, postgres://USER@HOST[:PORT]/DATABASE (default: $VOS_CLUSTER_DSN; none: single node). See docs/CLUSTER.md.")
    var clusterDSN: String?

    @Option(name: .customLong("node-id"), help: "Cluster mode: this node's name (default: the host name). A data directory keeps the name it joined under.")
    var nodeID: String?

    func run() async throws {
        VOSLogging.bootstrap()
        let logger = Logger(label: "vos-controller")
        let directory = DataDirectory.resolve(dataDirectory)
        let listen: SocketAddress
        do { listen = try SocketAddress(parsing: sipListen) } catch {
            throw ValidationError("--sip-listen: \(error) (expected IP:PORT, e.g. 127.0.0.1:5060)")
        }
        let metricsAddress: SocketAddress
        do { metricsAddress = try SocketAddress(parsing: metricsListen) } catch {
            throw ValidationError("--metrics-listen: \(error) (expected IP:PORT, e.g. 127.0.0.1:9464)")
        }
        var advertise: IPAddress?
        if let sipAdvertise {
            do { advertise = try IPAddress(parsing: sipAdvertise, field: "--sip-advertise") } catch {
                throw ValidationError("\(error)")
            }
        }
        let store: Store
        do { store = try Store(directory: directory, durability: .flushedPeriodically) } catch {
            logger.critical("cannot open the store: \(error)")
            throw ExitCode(1)
        }
        let dsn: ClusterDSN?
        do { dsn = try ClusterDSN.from(flag: clusterDSN) } catch { throw ValidationError("--cluster-dsn: \(error)") }
        var cluster: ClusterNodeServices?
        if let dsn {
            let node = nodeID ?? ProcessInfo.processInfo.hostName
            do {
                cluster = try await ClusterNodeServices.prepare(dsn: dsn, node: node, store: store, logger: logger)
            } catch {
                logger.critical("refusing to start in cluster mode: \(error)")
                throw ExitCode(1)
            }
        }
        let metrics = ControllerMetrics(listen: metricsAddress, cluster: cluster, logger: logger)
        let controller: Controller
        do {
            controller = try Controller(store: store, directory: directory, listen: listen, advertise: advertise,
                                        mediaControl: mediaControl ?? (directory as NSString).appendingPathComponent("mediad.sock"),
                                        tcp: !noTCP, metrics: metrics,
                                        wrapLedger: { inner in cluster?.ledger(wrapping: inner) ?? inner }, logger: logger)
        } catch let refused as StartRefused {
            logger.critical("refusing to start: \(refused)")
            throw ExitCode(1)
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(1)
        }
        do { try metrics.start() } catch {
            logger.critical("refusing to start: \(error)")
            throw ExitCode(1)
        }
        await cluster?.start()
        controller.start()
        let tcp = controller.listensOnTCP ? " tcp:\(controller.listenAddress)" : ""
        let mode = cluster.map { ", cluster node \($0.node) of \($0.dsn)" } ?? ""
        logger.info("vos-controller started: store \(directory), SIP udp:\(controller.listenAddress)\(tcp)\(mode)")
        ServiceNotification.ready(status: "serving SIP on udp:\(controller.listenAddress)\(tcp)")
        // Stopped last first: SIP drains its calls while the metrics endpoint still serves.
        var stages: [StopStage] = []
        stages.append(StopStage("metrics") { metrics.stop() })
        // After SIP (stages stop last first): the final settlements are in the outbox by then.
        if let cluster { stages.append(StopStage("cluster") { await cluster.stop() }) }
        stages.append(StopStage("sip") {
            logger.info("vos-controller stopping: draining calls")
            await controller.drainCalls()
            controller.stop()
        })

        try await DaemonLifecycle.runUntilSignalled(stages, daemon: "vos-controller", logger: logger)
        logger.info("vos-controller stopped")
    }
}
