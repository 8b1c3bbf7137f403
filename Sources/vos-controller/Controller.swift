import CVOSSys
import CallControl
import Dispatch
import Foundation
import HostNetwork
import Logging
import MediaControl
import SIPStack
import Softswitch
import VOSModel
import VOSRuntime
import Telemetry
import VOSStore

/// A configuration the controller will not run with; the message is the whole explanation.
struct StartRefused: Error, CustomStringConvertible {
    let description: String
}

/// The running controller: event loop thread, transports, B2BUA, and the helper threads around it.
final class Controller: @unchecked Sendable {
    // @unchecked: the loop-confined objects are touched on the loop thread only (via execute);
    // `stopping` is read by the media-event thread as a plain flag set once.
    private let store: Store
    private let loop: EpollEventLoop
    private let transport: UDPTransport
    /// SIP over TCP on the same address as UDP; nil with --no-tcp.
    private let streamTransport: TCPTransport?
    private let layer: TransactionLayer
    private let b2bua: B2BUA
    private let ledger: StoreCallLedger
    private let subscribers: StoreSubscriberState
    /// New dynamic blacklist entries go to the store on its thread (`vos-blacklist`).
    private let blacklistJournal: StoreDynamicBlacklistJournal
    /// Registrations kept from before this start (expired ones left out).
    private let bindings: [RegistrationBinding]
    private let watcher: ConfigurationWatcher
    private let status: StatusServer
    /// Alarm rules and webhook targets (`AlarmMonitor`, thread `vos-alarms`); webhook delivery
    /// (thread `vos-webhooks`) for alarms and the call-state events of `CallStateReporter`.
    private let alarms: AlarmMonitor
    private let webhooks: WebhookDelivery
    /// Every SIP message in and out: the trace ring (`vosctl trace`) and HEP capture.
    private let capture: SIPCapture
    private let mediaControlPath: String
    private let logger: Logger
    private let loopDone = DispatchSemaphore(value: 0)
    private var flushTimer: DispatchSourceTimer?
    private var stopping = false

    var listenAddress: SocketAddress { transport.localAddress }
    var listensOnTCP: Bool { streamTransport != nil }

    init(store: Store, directory: String, listen: SocketAddress, advertise: IPAddress?, mediaControl: String,
         tcp: Bool = true, metrics: ControllerMetrics? = nil,
         wrapLedger: (any CallLedger) -> any CallLedger = { $0 }, logger: Logger) throws {
        self.store = store
        self.logger = logger
        self.mediaControlPath = mediaControl
        let parameters = try store.read { try $0.parameters() }
        loop = try EpollEventLoop()
        transport = try UDPTransport(loop: loop, bind: listen, dscp: parameters.int(.qosSignal))
        layer = TransactionLayer(loop: loop)
        let transport = self.transport
        let layer = self.layer
        let capture = SIPCapture(listen: transport.localAddress, parameters: parameters, logger: logger)
        self.capture = capture
        layer.attach(.udp) { bytes, address in
            capture.sent(bytes, to: address, over: .udp)
            transport.send(bytes, to: address)
        }
        transport.onDatagram = { buffer, source in
            capture.received(buffer, from: source, over: .udp)
            layer.receive(buffer, from: Peer(address: source))
        }
        // The UDP socket's address, so an ephemeral UDP port (port 0) is shared by TCP too.
        let streamTransport = tcp ? try TCPTransport(loop: loop, bind: transport.localAddress, dscp: parameters.int(.qosSignal)) : nil
        self.streamTransport = streamTransport
        if let streamTransport {
            layer.attach(.tcp) { bytes, address in
                capture.sent(bytes, to: address, over: .tcp)
                streamTransport.send(bytes, to: address)
            }
            streamTransport.onMessage = { buffer, source in
                capture.received(buffer, from: source, over: .tcp)
                layer.receive(buffer, from: Peer(address: source, transport: .tcp))
            }
            streamTransport.onFramingError = { source, error in
                logger.info("SIP over TCP from \(source): \(error); answered if possible and closed")
                layer.onMalformed(source, error.parseError)
            }
        }
        let webhooks = WebhookDelivery(logger: logger)
        self.webhooks = webhooks
        let callState = CallStateReporter(webhooks: webhooks, node: ProcessInfo.processInfo.hostName)
        let alarms = try AlarmMonitor(store: store, webhooks: webhooks, node: ProcessInfo.processInfo.hostName, logger: logger)
        self.alarms = alarms
        ledger = StoreCallLedger(store: store, logger: logger, recorded: { record in
            callState.callRecorded(record)
            alarms.callRecorded(record)
            metrics?.recorded(record)
        })
        let recovered = try ledger.recoverInterruptedCalls(now: MonotonicTime.wallMilliseconds())
        if !recovered.isEmpty {
            logger.notice("recovered \(recovered.count) calls that were live when the controller stopped (CDRs with ControllerRestart)")
        }
        alarms.controllerStarted(recoveredCalls: recovered.count)
        let snapshot = try ControllerSnapshot.load(from: store)
        let listenIP = listen.address.isUnspecified ? nil : listen.address
        let addresses = AdvertisedAddressChoice(fixed: advertise, listen: listenIP, map: snapshot.parameters.advertisedAddresses)
        if let problem = addresses.loopbackProblem(peers: snapshot.gatewayPeers) {
            throw StartRefused(description: problem)
        }
        b2bua = B2BUA(loop: loop, layer: layer, snapshot: snapshot, media: MediaControlBridge(path: mediaControl),
                      ledger: wrapLedger(ledger), addresses: addresses, routeSource: { try? HostRoutes.sourceAddress(toward: $0) },
                      advertisedPort: Int(transport.localAddress.port), logger: logger)
        b2bua.banFeed = BanFeed(controlPath: mediaControl, logger: logger)
        b2bua.callObservers.append(callState)
        if let metrics {
            b2bua.callObservers.append(metrics.calls)
            metrics.observe(loop: loop, b2bua: b2bua, store: store)
        }
        b2bua.callObservers.append(capture)
        subscribers = StoreSubscriberState(store: store, logger: logger)
        b2bua.subscriberState = subscribers
        let now = MonotonicTime.wallMilliseconds()
        bindings = try store.write(changesConfiguration: false) { transaction in
            try transaction.purgeRegistrationBindings(expiredBefore: now)
            return try transaction.registrationBindings()
        }
        if !bindings.isEmpty { logger.notice("\(bindings.count) registrations kept from before the restart") }
        b2bua.reload(snapshot)
        blacklistJournal = StoreDynamicBlacklistJournal(store: store, logger: logger)
        b2bua.dynamicBlacklistJournal = blacklistJournal
        let blocked = try store.read { try $0.dynamicBlacklistEntries(activeAt: MonotonicTime.wallMilliseconds()) }
        b2bua.restoreDynamicBlacklist(blocked)
        if !blocked.isEmpty { logger.notice("\(blocked.count) dynamic blacklist entries kept from before the restart") }
        streamTransport?.isInUse = { [b2bua] address in layer.hasTransactions(with: address) || b2bua.hasCalls(with: address) }
        let loop = self.loop
        let b2bua = self.b2bua
        watcher = try ConfigurationWatcher(store: store, logger: logger) { generation in
            alarms.configurationChanged()
            do {
                // Wall and CPU time of the load: large number lists or geofences cost each change this.
                func threadCPUMilliseconds() -> Int {
                    var time = timespec()
                    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
                    return time.tv_sec * 1000 + time.tv_nsec / 1_000_000
                }
                let started = ContinuousClock.now, startedCPU = threadCPUMilliseconds()
                let fresh = try ControllerSnapshot.load(from: store)
                let elapsed = (ContinuousClock.now - started).components
                let loaded = Int(elapsed.seconds) * 1000 + Int(elapsed.attoseconds / 1_000_000_000_000_000)
                let loadedCPU = threadCPUMilliseconds() - startedCPU
                loop.execute {
                    b2bua.reload(fresh)
                    transport.setDSCP(fresh.parameters.int(.qosSignal))
                    streamTransport?.setDSCP(fresh.parameters.int(.qosSignal))
                    capture.reload(fresh.parameters)
                }
                logger.info("configuration changed (generation \(generation), loaded in \(loaded) ms, \(loadedCPU) ms CPU); new calls use it")
            } catch {
                logger.error("cannot load configuration generation \(generation): \(error)")
            }
        }
        status = try StatusServer(path: (directory as NSString).appendingPathComponent("controller.sock"),
                                  loop: loop, b2bua: b2bua, mediaControlPath: mediaControl, logger: logger)
        status.traceLookup = { callID in (callID.map { capture.trace(callID: $0) }, capture.status) }
    }

    func start() {
        let loop = self.loop
        let done = loopDone
        loop.execute { [b2bua, streamTransport, bindings] in
            streamTransport?.startIdleSweep()
            b2bua.startRegistrar(bindings: bindings)
            b2bua.startHealthChecks()
            b2bua.startCheckpoints()
        }
        let thread = Thread {
            vos_set_thread_name("vos-sip")
            loop.run()
            done.signal()
        }
        thread.start()
        watcher.start()
        status.start()
        alarms.start(loop: loop, b2bua: b2bua, mediaControlPath: mediaControlPath)
        startMediaEvents()
        // Commits reach the OS at once; this puts them on disk a few times a second.
        let timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now() + .milliseconds(200), repeating: .milliseconds(200))
        timer.setEventHandler { [store] in try? store.flush() }
        timer.resume()
        flushTimer = timer
    }

    /// The graceful part of a stop: new calls are refused with 503 while the calls in progress
    /// finish, for at most SS_SHUTDOWN_DRAIN_TIME seconds; then the rest are hung up (CDRs with
    /// ControllerRestart) and their CDRs get a moment to be recorded before the loop stops.
    func drainCalls() async {
        let seconds = (try? store.read { try $0.parameters() })?.int(.shutdownDrainTime) ?? 30
        let b2bua = self.b2bua
        let active = await onLoop { b2bua.beginDrain(); return b2bua.activeCallCount }
        ServiceNotification.stopping(status: "draining \(active) calls (at most \(seconds) s)", extendBySeconds: seconds + 15)
        let deadline = ContinuousClock.now + .seconds(seconds)
        var remaining = active
        while remaining > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(200))
            remaining = await onLoop { b2bua.activeCallCount }
        }
        if remaining == 0 {
            logger.notice("drained: no calls left")
        } else {
            await onLoop { b2bua.hangUpAllCalls() }
        }
        // CDRs of the last calls wait for vos-mediad's final counters (one round trip).
        let settled = ContinuousClock.now + .seconds(3)
        while await onLoop({ b2bua.callsAwaitingCDR }) > 0, ContinuousClock.now < settled {
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Runs `work` on the SIP loop and returns its result (the loop runs until `stop()`).
    private func onLoop<Result: Sendable>(_ work: @escaping @Sendable () -> Result) async -> Result {
        await withCheckedContinuation { continuation in
            loop.execute { continuation.resume(returning: work()) }
        }
    }

    func stop() {
        stopping = true
        watcher.stop()
        status.stop()
        loop.stop()
        _ = loopDone.wait(timeout: .now() + 5)
        // Settlements of calls that ended before the loop stopped are still being written.
        if !ledger.drain() { logger.warning("settlements still queued at exit; the next start recovers those calls") }
        if !blacklistJournal.drain() { logger.warning("dynamic blacklist entries still queued at exit; those numbers are not blocked after the restart") }
        if !subscribers.drain() { logger.warning("registration changes still queued at exit; phones re-register") }
        alarms.stop()
        webhooks.shutdown(drainSeconds: 2)
        flushTimer?.cancel()
        try? store.flush()
    }

    /// RTP timeouts, latched sources and DTMF from vos-mediad, on a thread of their own; reconnects while the daemon restarts.
    private func startMediaEvents() {
        let thread = Thread { [self] in
            vos_set_thread_name("media-events")
            var warned = false
            // Subscribed once and then lost: vos-mediad went away; getting it back is a restart alarm.
            var subscribed = false, lost = false
            while !self.stopping {
                do {
                    let client = try MediaControlClient(path: self.mediaControlPath)
                    try client.subscribe()
                    if lost { self.alarms.mediaDaemonReturned() }
                    subscribed = true
                    lost = false
                    warned = false
                    while !self.stopping {
                        guard let event = try client.nextEvent(timeoutMilliseconds: 500) else { continue }
                        if event.event == .rtpTimeout {
                            let session = event.session
                            self.loop.execute { [b2bua] in b2bua.mediaTimedOut(session: session) }
                        } else if event.event == .legLatched, let leg = event.leg, let address = event.address,
                                  self.b2bua.checksLatchedSources.load(ordering: .relaxed) {
                            // Geofencing judges the real RTP source (B2BUA+Geofence).
                            let session = event.session
                            self.loop.execute { [b2bua] in b2bua.mediaLatched(session: session, leg: leg, address: address) }
                        } else if event.event == .dtmf, let leg = event.leg, let digit = event.digit?.first {
                            let session = event.session, duration = event.durationMs ?? 100, method = event.method ?? "rfc2833"
                            self.loop.execute { [b2bua] in
                                b2bua.mediaDigit(session: session, leg: leg, digit: digit, durationMilliseconds: duration, method: method)
                            }
                        }
                    }
                } catch {
                    if subscribed { lost = true }
                    subscribed = false
                    if !warned { self.logger.warning("media events unavailable (\(error)); retrying") }
                    warned = true
                    usleep(1_000_000)
                }
            }
        }
        thread.start()
    }
}
