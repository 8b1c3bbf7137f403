import ArgumentParser
import ClusterStore
import HostNetwork
import Logging
import MediaControl
import MediaDSP
import MediaRelay
import enum Netfilter.MediaOffloadTable
import struct Sockets.SocketAddress
import VOSModel
import VOSRuntime
import VOSStore
#if canImport(Glibc)
import Glibc
#endif

/// vos-mediad: the media data plane. Wires the store's media parameters into a `RelayEngine`,
/// serves the control protocol on a Unix socket, follows configuration changes and stops cleanly
/// on SIGTERM/SIGINT. Under systemd (`Type=notify`) it reports ready once the firewall is
/// programmed and the control socket serves.
@main
struct VosMediad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vos-mediad", abstract: "vos media relay and firewall programmer.",
        discussion: """
            Media legs bind to --media-ip when given, else to SS_MEDIA_IP (empty: every address, 0.0.0.0); \
            an address this host lacks is refused at start (exit 1). Under systemd (Type=notify) it reports \
            ready once the firewall is programmed and the control socket serves. Kernel offload \
            (SS_MEDIA_KERNEL_OFFLOAD) needs net.ipv4.ip_forward=1, which `vosctl media forwarding` sets.
            """,
        version: VOSVersion.number)

    @Option(name: .customLong("data-dir"), help: "Data directory (default: $VOS_DATA_DIR, else ./var).")
    var dataDirectory: String?

    @Option(name: .customLong("control"), help: "Control socket path (default: DATA_DIR/mediad.sock).")
    var controlPath: String?

    @Option(name: .customLong("media-ip"),
            help: "Local IP media legs bind to when a request names none, overriding SS_MEDIA_IP (default: SS_MEDIA_IP from the store, followed at run time; empty there means every address, 0.0.0.0). Must be an address of this host.")
    var mediaIP: String?

    @Option(name: .customLong("io-threads"), help: "I/O threads (default: one per online CPU).")
    var ioThreads: Int?

    @Option(name: .customLong("io-wake-interval-us"),
            help: "Shortest time between two wakeups of an I/O thread, in microseconds: packets gather into batches meanwhile (0 = wake per packet).")
    var wakeIntervalMicroseconds = 1000

    @Flag(name: .customLong("socket-send"),
          help: "Send relayed IPv4 from each leg's own socket instead of one raw socket per I/O thread (the raw socket needs CAP_NET_RAW; without it this is automatic).")
    var socketSend = false

    @Option(name: .customLong("receive"),
            help: "How I/O threads receive IPv4 legs: 'capture' (one socket per thread, legs' ports steered to it by table ip vos_capture; needs CAP_NET_ADMIN and nft_tproxy, else falls back) or 'sockets' (each leg's own socket).")
    var receive: ReceiveMode = .capture

    @Option(name: .customLong("metrics-listen"),
            help: "Prometheus metrics address IP:PORT (GET /metrics; port 0: any free port, logged). Keep it on a management address: SS_FIREWALL_MANAGEMENT_PORTS opens it to SS_FIREWALL_MANAGEMENT_SUBNETS only.")
    var metricsListen: String = "127.0.0.1:9465"

    @Option(name: .customLong("cluster-dsn"),
            help: "Cluster mode (default: $VOS_CLUSTER_DSN): vos-mediad reads the configuration the controller's follower copies into the store; this only checks the database schema. See docs/CLUSTER.md.")
    var clusterDSN: String?

    enum ReceiveMode: String, ExpressibleByArgument, CaseIterable {
        case capture, sockets
    }

    func validate() throws {
        if let mediaIP, (try? IPAddress(parsing: mediaIP)) == nil {
            throw ValidationError("--media-ip \(mediaIP) is not an IP address")
        }
        do { _ = try SocketAddress(parsing: metricsListen) } catch {
            throw ValidationError("--metrics-listen: \(error) (expected IP:PORT, e.g. 127.0.0.1:9465)")
        }
    }

    func run() async throws {
        VOSLogging.bootstrap()
        let logger = Logger(label: "vos-mediad")
        guard let metricsAddress = try? SocketAddress(parsing: metricsListen) else {
            throw ValidationError("--metrics-listen \(metricsListen) is not IP:PORT")
        }
        let directory = DataDirectory.resolve(dataDirectory)
        let store: Store
        do { store = try Store(directory: directory) } catch {
            logger.critical("cannot open the store at \(directory): \(error)")
            throw ExitCode(1)
        }
        do {
            try await Self.checkCluster(flag: clusterDSN, logger: logger)
        } catch {
            logger.critical("refusing to start in cluster mode: \(error)")
            throw ExitCode(1)
        }
        let addressSetting = MediaAddressSetting(override: mediaIP.flatMap { try? IPAddress(parsing: $0) })
        let initial: RelayConfiguration
        let address: MediaAddressSetting.Choice
        do {
            let parameters = try store.read { try $0.parameters() }
            address = addressSetting.choice(parameters)
            initial = Self.relayConfiguration(parameters, mediaIP: address.address.description)
        } catch {
            logger.critical("cannot read the media parameters: \(error)")
            throw ExitCode(1)
        }
        // Every session would fail to bind: refuse to start rather than take calls without media.
        if let problem = addressSetting.problem(address) {
            logger.critical("\(problem)")
            throw ExitCode(1)
        }
        let threads = ioThreads ?? max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        let broadcaster = MediaEventBroadcaster()
        let offload = NetfilterKernelOffload.start(enabled: initial.kernelOffload, dscp: initial.dscp, relayPorts: initial.portRange, logger: logger)
        // Capture sends through the raw socket, so it needs raw sends.
        let capture = NetfilterPortCapture.start(enabled: receive == .capture && !socketSend, relayPorts: initial.portRange, logger: logger)
        let engine: RelayEngine
        do {
            engine = try RelayEngine(configuration: initial, workerCount: threads,
                                     minimumWakeInterval: UInt64(max(0, wakeIntervalMicroseconds)) * 1000, rawSend: !socketSend,
                                     offload: offload, capture: capture, sendMark: MediaOffloadTable.relayPacketMark) { event in
                logger.info("event \(event.event.rawValue) session \(event.session)\(event.leg.map { " leg \($0)" } ?? "")\(event.address.map { " from \($0)" } ?? "")")
                broadcaster.publish(event)
            }
        } catch {
            logger.critical("cannot start the relay: \(error)")
            capture.stop()
            throw ExitCode(1)
        }
        let socketPath = controlPath ?? directory + "/mediad.sock"
        let firewall = MediadFirewall(store: store, logger: logger)
        let metrics = MediadMetrics(listen: metricsAddress, engine: engine, firewall: firewall.service, logger: logger)
        do { try metrics.start() } catch {
            logger.critical("refusing to start: \(error)")
            engine.shutdown()
            capture.stop()
            throw ExitCode(1)
        }
        let server: MediaControlServer
        do {
            server = try MediaControlServer(path: socketPath, handler: RelayControlHandler(engine: engine), broadcaster: broadcaster,
                                            firewall: firewall.service) { problem in
                logger.error("control: \(problem)")
            }
        } catch {
            logger.critical("cannot open the control socket: \(error)")
            engine.shutdown()
            capture.stop()
            throw ExitCode(1)
        }
        // One watcher for everything configured in the store: the firewall and the relay's parameters.
        let watcher = try ConfigurationWatcher(store: store, logger: logger) { generation in
            firewall.configurationChanged(generation: generation)
            do {
                let parameters = try store.read { try $0.parameters() }
                let current = engine.currentConfiguration
                var next = Self.relayConfiguration(parameters, mediaIP: current.defaultLocalIP)
                let wanted = addressSetting.choice(parameters)
                if wanted.address.description != current.defaultLocalIP {
                    // Running sessions are unaffected either way; an address the host lacks would
                    // fail every new one, so the one in use stays.
                    if let problem = addressSetting.problem(wanted) {
                        logger.error("\(problem); new sessions keep media IP \(current.defaultLocalIP)")
                    } else {
                        next.defaultLocalIP = wanted.address.description
                    }
                }
                guard next != current else { return }
                engine.reconfigure(next)
                logger.info("configuration changed (generation \(generation)): media IP \(next.defaultLocalIP), ports \(next.portRange), DSCP \(next.dscp), RTP timeout \(next.rtpTimeoutSeconds) s (new sessions)")
            } catch {
                logger.error("cannot re-read the media parameters: \(error)")
            }
        }
        // Synchronous: the firewall is programmed (or its failure logged) before readiness.
        let firewallState = firewall.start()
        server.start()
        watcher.start()
        logger.info("vos-mediad started: control \(socketPath), media IP \(address.address) (\(address.origin)), \(threads) I/O threads, ports \(initial.portRange), DSCP \(initial.dscp), RTP timeout \(initial.rtpTimeoutSeconds) s")
        // A failed firewall is logged, not fatal: readiness still comes so the box boots and relays.
        ServiceNotification.ready(status: "relaying on \(address.address), ports \(initial.portRange), \(firewallState)")
        // In start order; stopped last first. The firewall's rules stay in the kernel.
        var stages: [StopStage] = []
        stages.append(StopStage("relay") {
            engine.shutdown()
            capture.stop()
            offload.stop(relayPorts: engine.currentConfiguration.portRange)
        })
        // Stopped before the relay, so no scrape asks stopped I/O threads for statistics.
        stages.append(StopStage("metrics") { metrics.stop() })
        stages.append(StopStage("control") {
            ServiceNotification.stopping()
            logger.info("vos-mediad stopping")
            server.stop()
        })
        stages.append(StopStage("configuration") { watcher.stop() })
        try await DaemonLifecycle.runUntilSignalled(stages, daemon: "vos-mediad", logger: logger)
        logger.info("vos-mediad stopped")
    }

    /// What decoded (transcoded) legs apply, from the VOS3000 parameters (requirements §5): the
    /// jitter buffer (mode 0 fixed at DEFAULT ms, 1 adaptive MIN..MAX), the echo canceller and its
    /// tail, comfort noise and voice gain. Plain relayed legs never see any of it. The store
    /// validates the sizes together, so the configuration cannot be refused here; if it were, the
    /// legs run without a buffer.
    private static func decodedLegOptions(_ parameters: ParameterSet) -> DecodedLegOptions {
        let jitterBuffer = try? JitterBufferConfiguration(
            modeValue: parameters.int(.jitterBufferMode), minimumMilliseconds: parameters.int(.jitterBufferMin),
            maximumMilliseconds: parameters.int(.jitterBufferMax), defaultMilliseconds: parameters.int(.jitterBufferDefault))
        return DecodedLegOptions(voiceGainDecibels: Double(parameters.int(.voiceGain)), jitterBuffer: jitterBuffer,
                                 echoCancelTailMilliseconds: parameters.bool(.echoCancel) ? parameters.int(.echoCancelTail) : nil,
                                 comfortNoise: parameters.bool(.comfortNoise))
    }

    /// The store's view of media settings, as the relay takes them, with legs binding to `mediaIP`.
    private static func relayConfiguration(_ parameters: ParameterSet, mediaIP: String) -> RelayConfiguration {
        let start = parameters.int(.mediaProxyPortStart)
        let end = max(start, parameters.int(.mediaProxyPortEnd))
        return RelayConfiguration(portRange: start...end, dscp: parameters.int(.qosRTP), rtpTimeoutSeconds: parameters.int(.rtpTimeout),
                                  defaultLocalIP: mediaIP, kernelOffload: parameters.bool(.mediaKernelOffload),
                                  decodedLeg: decodedLegOptions(parameters))
    }

    /// vos-mediad never talks to PostgreSQL for media; in cluster mode it only refuses a database
    /// whose schema this vos cannot read, like the controller. An unreachable database is no
    /// reason to stop relaying: the store holds the configuration the controller copied.
    static func checkCluster(flag: String?, logger: Logger) async throws {
        guard let dsn = try ClusterDSN.from(flag: flag) else { return }
        let database = ClusterDatabase(dsn: dsn, logger: logger)
        defer { Task { await database.close() } }
        do {
            try await ClusterSchema.check(database)
            logger.info("cluster mode: \(dsn), schema \(ClusterSchema.version)")
        } catch ClusterError.unreachable(let operation, let reason) {
            logger.warning("cluster database unreachable (\(operation): \(reason)); relaying with the store's configuration")
        }
    }
}
