import Dispatch
import MediaControl
import MediaDSP
import Sockets
import VOSModel
#if canImport(Glibc)
import Glibc
#endif

/// The relay as the control path sees it: creates, changes, lists and deletes sessions, and turns
/// I/O-thread reports into protocol events. Thread-safe; every method is control-path work.
public final class RelayEngine: @unchecked Sendable {
    // @unchecked: `configuration`, `pool`, `directory`, `freeSlots`, `nextSlot` and `nextID` are
    // guarded by `lock`; `workers` and `offload` are immutable after init; `kernelPacketsSeen`
    // `activityTimer`, `pendingOffers` and `offerScheduled` are touched only on `eventQueue`
    // (and in init/shutdown); `stopping` is guarded by `offloadLock`; `pendingCaptures`,
    // `captureScheduled` and `capturedSessions` are touched only on `captureQueue`.
    private let lock = ControlPathLock()
    /// Serialises every kernel offload change (add, remove, switch) so a flow is never added for a
    /// session that a concurrent update or delete already changed. Taken before `lock`, never
    /// inside it; control-path only.
    private let offloadLock = ControlPathLock()
    /// Kernel packet counts per offloaded session and leg at the last activity check.
    private var kernelPacketsSeen: [UInt64: [UInt64]] = [:]
    private var activityTimer: DispatchSourceTimer?
    /// Sessions waiting to be offered to the kernel, and whether a batch is already queued (event queue only).
    private var pendingOffers: [UInt64] = []
    /// Set by `shutdown` under `offloadLock`: no flow is offered after the flows were withdrawn.
    private var stopping = false
    private var offerScheduled = false
    /// Calls per kernel transaction when many latch at once.
    private static let offloadBatch = 256
    /// How often offloaded sessions' kernel counters are read to keep their RTP timeout and idle
    /// time current: one netlink dump of every flow's counters, so idle time has 1 s resolution.
    private static let kernelActivityInterval = DispatchTimeInterval.seconds(1)
    private var configuration: RelayConfiguration
    private var pool: PortPool
    private var directory: [UInt64: SessionRecord] = [:]
    private var freeSlots: [[Int]]
    private var nextSlot: [Int]
    private var nextID: UInt64 = 1
    /// Sums of the deleted sessions (guarded by `lock`): vos-mediad's metrics.
    private var ended = RelayTotals()
    private var workers: [RelayWorker] = []
    private let offload: any KernelOffload
    private let capture: any PortCapture
    /// Binds and unbinds captured ports off the control path's critical section, in order.
    private let captureQueue = DispatchQueue(label: "vos.mediad.capture")
    private var pendingCaptures: [UInt64] = []
    private var captureScheduled = false
    /// Sessions whose ports are bound to a capture socket, with those ports.
    private var capturedSessions: [UInt64: [MediaEndpoint]] = [:]
    private let eventQueue = DispatchQueue(label: "vos.mediad.events")
    private let onEvent: @Sendable (MediaEvent) -> Void

    /// Starts `workerCount` I/O threads, each waking at most once per `minimumWakeInterval`
    /// nanoseconds (see `RelayWorker`). `onEvent` is called on a private serial queue.
    /// `rawSend`: relay IPv4 through one raw socket per I/O thread (needs CAP_NET_RAW; without it
    /// the thread quietly uses the legs' own sockets), see `RelayWorker`. `capture`: bind IPv4 legs
    /// (on a specific address or 0.0.0.0) to their I/O thread's capture socket (see `PortCapture`).
    /// `sendMark`: SO_MARK of every socket the relay sends from (raw and per leg), for the kernel
    /// offload's rules (see `RelayWorker`).
    public init(configuration: RelayConfiguration, workerCount: Int, minimumWakeInterval: UInt64 = 0, rawSend: Bool = true,
                offload: any KernelOffload = UnavailableKernelOffload(), capture: any PortCapture = UnavailablePortCapture(),
                sendMark: UInt32? = nil, onEvent: @escaping @Sendable (MediaEvent) -> Void) throws(RelayError) {
        self.configuration = configuration
        pool = PortPool(range: configuration.portRange, socketMark: sendMark)
        self.offload = offload
        self.capture = capture
        self.onEvent = onEvent
        let count = max(1, workerCount)
        freeSlots = Array(repeating: [], count: count)
        nextSlot = Array(repeating: 0, count: count)
        for index in 0..<count {
            let worker = try RelayWorker(index: index, minimumWakeInterval: minimumWakeInterval, rawSend: rawSend,
                                         capture: capture.isAvailable, sendMark: sendMark) { [weak self] report in
                guard let self else { return }
                eventQueue.async { self.deliver(report) }
            }
            workers.append(worker)
        }
        workers.forEach { $0.start() }
        let timer = DispatchSource.makeTimerSource(queue: eventQueue)
        timer.schedule(deadline: .now() + Self.kernelActivityInterval, repeating: Self.kernelActivityInterval, leeway: .milliseconds(100))
        timer.setEventHandler { [weak self] in self?.checkKernelActivity() }
        timer.resume()
        activityTimer = timer
    }

    /// New sessions use the new port range, DSCP and timeout; running ones keep theirs.
    /// Switching `kernelOffload` applies to running sessions too: off moves every offloaded
    /// session back to userspace, on offers every session whose legs are both latched.
    public func reconfigure(_ newConfiguration: RelayConfiguration) {
        let wasOffloading = lock.withLock { () -> Bool in
            let previous = configuration.kernelOffload
            configuration = newConfiguration
            pool.changeRange(to: newConfiguration.portRange)
            return previous
        }
        guard wasOffloading != newConfiguration.kernelOffload else { return }
        eventQueue.async { [self] in
            if newConfiguration.kernelOffload {
                let ready = lock.withLock { directory.values.filter { !$0.inKernel && !$0.decoded && $0.legs.allSatisfy { $0.latched != nil } }.map(\.id) }
                offerOffload(ready.sorted())
            } else {
                let offloaded = lock.withLock { directory.values.filter(\.inKernel).map(\.id) }
                for id in offloaded.sorted() { removeOffload(id) }
            }
        }
    }

    public var currentConfiguration: RelayConfiguration { lock.withLock { configuration } }

    public func createSession(tag: String?, legs requested: [LegRequest]) throws(RelayError) -> SessionInfo {
        guard requested.count == 2 else {
            throw .invalidRequest("a session has exactly 2 legs, the request has \(requested.count)")
        }
        var remotes: [SocketAddress?] = []
        for leg in requested {
            if let remote = leg.remote { remotes.append(try SocketAddress(remote)) } else { remotes.append(nil) }
        }
        let pipeline = try SessionMediaPipeline.make(requested.map(\.media), options: lock.withLock { configuration.decodedLeg })
        let record: SessionRecord
        let setup: SessionSetup
        do {
            (record, setup) = try lock.withLock { () throws(RelayError) -> (SessionRecord, SessionSetup) in
                let config = configuration
                var pairs: [PortPool.Pair] = []
                var legs: [SessionRecord.Leg] = []
                do throws(RelayError) {
                    for (index, leg) in requested.enumerated() {
                        let ip = leg.local ?? config.defaultLocalIP
                        let localFamily = try SocketAddress(relayIP: ip, port: 0).family
                        if let remote = remotes[index], remote.family != localFamily {
                            throw RelayError.invalidAddress(leg.remote?.description ?? "", reason: "leg \(index) binds \(ip), a different address family")
                        }
                        let pair = try pool.allocate(ip: ip, tos: config.tosByte)
                        pairs.append(pair)
                        legs.append(.init(local: MediaEndpoint(ip: ip, port: pair.port), remote: leg.remote, media: leg.media))
                    }
                } catch {
                    for pair in pairs {
                        close(pair.rtp)
                        close(pair.rtcp)
                        pool.release(port: pair.port)
                    }
                    throw error
                }
                let id = nextID
                nextID += 1
                let worker = Int(id % UInt64(workers.count))
                let slot = freeSlots[worker].popLast() ?? { defer { nextSlot[worker] += 1 }; return nextSlot[worker] }()
                var record = SessionRecord(id: id, tag: tag, worker: worker, slot: slot, createdNanoseconds: monotonicNanoseconds(),
                                           timeoutSeconds: config.rtpTimeoutSeconds, dscp: config.dscp, legs: legs)
                record.decoded = pipeline != nil
                directory[id] = record
                var setup = SessionSetup(sessionID: id, sockets: [pairs[0].rtp, pairs[0].rtcp, pairs[1].rtp, pairs[1].rtcp],
                                         remotes: remotes, timeoutNanoseconds: UInt64(config.rtpTimeoutSeconds) * 1_000_000_000,
                                         tos: UInt8(truncatingIfNeeded: config.tosByte), pipeline: pipeline)
                if workers[worker].capturePort != nil, !Self.capturableLocals(record).isEmpty {
                    setup.applied = { [weak self] in
                        guard let engine = self else { return }
                        engine.captureQueue.async { engine.queueCapture(id) }
                    }
                }
                return (record, setup)
            }
        }
        workers[record.worker].post(.add(slot: record.slot, setup))
        return info(record, counters: [.empty, .empty], kernel: nil, now: monotonicNanoseconds())
    }

    /// Sets a leg's SDP address. A changed address makes the leg latch again.
    public func setRemote(session: String, leg: Int, remote: MediaEndpoint) throws(RelayError) {
        let id = try parseID(session)
        guard (0...1).contains(leg) else { throw .invalidLeg(session: session, leg: leg) }
        let address = try SocketAddress(remote)
        let (record, changed) = try lock.withLock { () throws(RelayError) -> (SessionRecord, Bool) in
            guard var record = directory[id] else { throw .unknownSession(session) }
            let local = try SocketAddress(record.legs[leg].local)
            guard local.family == address.family else {
                throw .invalidAddress(remote.description, reason: "leg \(leg) is bound to \(record.legs[leg].local.ip), a different address family")
            }
            let changed = record.legs[leg].remote != remote
            record.legs[leg].remote = remote
            if changed { record.legs[leg].latched = nil }
            directory[id] = record
            return (record, changed)
        }
        guard changed else { return }
        // Out of the kernel first: the new far end must be learned (latched) by the userspace path.
        removeOffload(id)
        workers[record.worker].post(.setRemote(slot: record.slot, leg: leg, address))
    }

    /// Sets a leg's negotiated format. When the two legs' formats then differ the session moves
    /// to the decoded path (out of the kernel first); when they match again it goes back to the
    /// plain relay.
    public func setMedia(session: String, leg: Int, media: LegMedia) throws(RelayError) {
        let id = try parseID(session)
        guard (0...1).contains(leg) else { throw .invalidLeg(session: session, leg: leg) }
        _ = try SessionMediaPipeline.format(media, leg: leg)
        let (record, pipeline) = try lock.withLock { () throws(RelayError) -> (SessionRecord, SessionMediaPipeline?) in
            guard var record = directory[id] else { throw .unknownSession(session) }
            record.legs[leg].media = media
            let pipeline = try SessionMediaPipeline.make(record.legs.map(\.media), options: configuration.decodedLeg)
            record.decoded = pipeline != nil
            directory[id] = record
            return (record, pipeline)
        }
        if pipeline != nil { removeOffload(id) }
        workers[record.worker].post(.setPipeline(slot: record.slot, pipeline))
    }

    /// Plays DTMF toward `leg`'s far end in the session's media (RFC 4733 events when that leg
    /// has telephone-event, else tones). Refused when the media cannot carry it: the controller
    /// then sends SIP INFO.
    public func playDigits(session: String, leg: Int, digits: String, durationMilliseconds: Int) throws(RelayError) {
        let id = try parseID(session)
        guard (0...1).contains(leg) else { throw .invalidLeg(session: session, leg: leg) }
        guard !digits.isEmpty, digits.count <= 32, digits.allSatisfy({ TelephoneEvent.event(forDigit: $0) != nil }) else {
            throw .invalidRequest("dtmf digits \"\(digits)\" must be 1-32 of 0-9, *, #, A-D")
        }
        guard (40...2000).contains(durationMilliseconds) else {
            throw .invalidRequest("dtmf durationMs \(durationMilliseconds) is not 40-2000")
        }
        guard let record = lock.withLock({ directory[id] }) else { throw .unknownSession(session) }
        guard record.decoded else {
            throw .dtmfNotPlayed("session \(session) relays its media untouched (both legs use one format): send the digits as SIP INFO")
        }
        let reply = WorkerReply<DTMFPlayOutcome?>()
        workers[record.worker].post(.playDigits(slot: record.slot, leg: leg, digits: digits, durationMilliseconds: durationMilliseconds, reply: reply))
        guard let answered = reply.wait() else { throw .stopped }
        switch answered {
        case .events?, .tones?:
            return
        case .droppedByLock?:
            throw .dtmfDropped("DTMF from leg \(1 - leg) of session \(session) already comes in the media: the digits are dropped, not sent twice")
        case .refusedByFilter?:
            throw .dtmfDropped("leg \(1 - leg) of session \(session) does not receive DTMF by SIP INFO: the digits are ignored")
        case .queueFull?:
            throw .dtmfDropped("session \(session) has 32 digits waiting toward leg \(leg): these are dropped")
        case .invalidDigits?:
            throw .invalidRequest("dtmf digits \"\(digits)\" must be 1-32 of 0-9, *, #, A-D")
        case .noMediaRoute?, nil:
            throw .dtmfNotPlayed("leg \(leg) of session \(session) takes neither telephone-events nor tones: send the digits as SIP INFO")
        }
    }

    /// Removes a session and returns its final statistics.
    public func deleteSession(_ session: String) throws(RelayError) -> SessionInfo {
        try deleteSessions([session])[0].get()
    }

    /// Deletes several sessions at once (a controller's pipelined deletes): one capture update
    /// for all of them and one wake-up per I/O thread instead of a round trip each, which is
    /// what let deletes fall behind creates at high call rates. Results are in request order.
    public func deleteSessions(_ sessions: [String]) -> [Result<SessionInfo, RelayError>] {
        var results: [Result<SessionInfo, RelayError>?] = Array(repeating: nil, count: sessions.count)
        var removed: [(index: Int, record: SessionRecord, kernel: OffloadCounters?)] = []
        for (index, session) in sessions.enumerated() {
            do {
                let id = try parseID(session)
                let (record, kernel) = try offloadLock.withLock { () throws(RelayError) -> (SessionRecord, OffloadCounters?) in
                    guard let record = lock.withLock({ directory.removeValue(forKey: id) }) else { throw .unknownSession(session) }
                    guard record.inKernel else { return (record, nil) }
                    let counters = try? offload.readCounters(sessionID: id)
                    try? offload.removeFlow(sessionID: id)
                    return (record, counters)
                }
                removed.append((index, record, kernel))
            } catch {
                results[index] = .failure(error)
            }
        }
        guard !removed.isEmpty else { return results.map { $0 ?? .failure(.stopped) } }
        // Unbound before the I/O threads forget the ports (and the pool hands them out again); a
        // bind still queued for one of these sessions finds it gone from the directory and skips it.
        captureQueue.sync {
            let locals = removed.flatMap { capturedSessions.removeValue(forKey: $0.record.id) ?? [] }
            if !locals.isEmpty { try? capture.unbind(locals) }
        }
        let replies = removed.map { entry in
            let reply = WorkerReply<[LegCounters]>()
            workers[entry.record.worker].post(.remove(slot: entry.record.slot, reply: reply))
            return reply
        }
        // The sockets are closed once the worker answered; only then may the ports and slot be reused.
        let counters = replies.map { $0.wait() }
        lock.withLock {
            for (entry, answered) in zip(removed, counters) where answered != nil {
                for leg in entry.record.legs { pool.release(port: leg.local.port) }
                freeSlots[entry.record.worker].append(entry.record.slot)
            }
        }
        let now = monotonicNanoseconds()
        for (entry, answered) in zip(removed, counters) {
            guard let answered else {
                results[entry.index] = .failure(.stopped)
                continue
            }
            results[entry.index] = .success(info(entry.record, counters: answered, kernel: entry.kernel, now: now))
        }
        lock.withLock { for case .success(let final)? in results { ended.add(final) } }
        return results.map { $0 ?? .failure(.stopped) }
    }

    /// One session's statistics, or every session's when `session` is nil.
    public func statistics(session: String?) throws(RelayError) -> [SessionInfo] {
        let records: [SessionRecord]
        if let session {
            let id = try parseID(session)
            guard let record = lock.withLock({ directory[id] }) else { throw .unknownSession(session) }
            records = [record]
        } else {
            records = lock.withLock { directory.values.sorted { $0.id < $1.id } }
        }
        return try snapshot(records)
    }

    /// Several sessions' statistics with one snapshot per I/O thread (a batch of updates' replies);
    /// sessions that do not exist are left out.
    public func statistics(sessions: [String]) throws(RelayError) -> [String: SessionInfo] {
        let ids = sessions.compactMap { UInt64($0) }
        let records = lock.withLock { ids.compactMap { directory[$0] } }
        var result: [String: SessionInfo] = [:]
        for info in try snapshot(records) { result[info.session] = info }
        return result
    }

    private func snapshot(_ records: [SessionRecord]) throws(RelayError) -> [SessionInfo] {
        var replies: [(Int, [SessionRecord], WorkerReply<[[LegCounters]]>)] = []
        for worker in workers.indices {
            let mine = records.filter { $0.worker == worker }
            guard !mine.isEmpty else { continue }
            let reply = WorkerReply<[[LegCounters]]>()
            workers[worker].post(.snapshot(slots: mine.map(\.slot), reply: reply))
            replies.append((worker, mine, reply))
        }
        // One session: a keyed read. A listing: one dump of every flow, not a read per session.
        let offloaded = records.filter(\.inKernel)
        let kernelCounters: [UInt64: OffloadCounters]
        if offloaded.count == 1, let only = offloaded.first {
            kernelCounters = (try? offload.readCounters(sessionID: only.id)).map { [only.id: $0] } ?? [:]
        } else {
            kernelCounters = offloaded.isEmpty ? [:] : (try? offload.readAllCounters()) ?? [:]
        }
        let now = monotonicNanoseconds()
        var result: [SessionInfo] = []
        for (_, mine, reply) in replies {
            guard let counters = reply.wait() else { throw .stopped }
            for (record, legCounters) in zip(mine, counters) {
                result.append(info(record, counters: legCounters, kernel: record.inKernel ? kernelCounters[record.id] : nil, now: now))
            }
        }
        return result.sorted { (UInt64($0.session) ?? 0) < (UInt64($1.session) ?? 0) }
    }

    public var sessionCount: Int { lock.withLock { directory.count } }

    /// What the sessions deleted so far carried, for totals that survive a session's end.
    public var endedTotals: RelayTotals { lock.withLock { ended } }

    /// Stops the I/O threads; their sockets close with them.
    /// Offloaded flows are withdrawn first, so the kernel does not go on forwarding to ports
    /// nobody owns any more.
    public func shutdown() {
        eventQueue.sync { activityTimer?.cancel() }
        offloadLock.withLock {
            stopping = true
            let offloaded = lock.withLock { () -> [UInt64] in
                let ids = directory.values.filter(\.inKernel).map(\.id)
                for id in ids { directory[id]?.inKernel = false }
                return ids
            }
            if !offloaded.isEmpty { try? offload.removeFlows(sessionIDs: offloaded) }
        }
        captureQueue.sync {
            let locals = capturedSessions.values.flatMap { $0 }
            capturedSessions.removeAll()
            if !locals.isEmpty { try? capture.unbind(locals) }
        }
        workers.forEach { $0.stop() }
    }

    // MARK: - Port capture (capture queue)

    /// IPv4 legs can be captured, on a specific address or on 0.0.0.0 (the capture then takes the
    /// port on every local address, as the leg's own socket would); an IPv6 leg keeps receiving
    /// on its own sockets.
    private static func capturableLocals(_ record: SessionRecord) -> [MediaEndpoint] {
        record.legs.flatMap { leg -> [MediaEndpoint] in
            guard !leg.local.ip.utf8.contains(UInt8(ascii: ":")), leg.local.port < 65535 else { return [] }
            return [leg.local, MediaEndpoint(ip: leg.local.ip, port: leg.local.port + 1)]
        }
    }

    /// A session its I/O thread now knows: bind its ports with the others that arrive meanwhile,
    /// so a burst of new calls is one kernel transaction.
    private func queueCapture(_ id: UInt64) {
        pendingCaptures.append(id)
        guard !captureScheduled else { return }
        captureScheduled = true
        captureQueue.async { [self] in
            captureScheduled = false
            let ids = pendingCaptures
            pendingCaptures.removeAll()
            bindCaptured(ids)
        }
    }

    private func bindCaptured(_ ids: [UInt64]) {
        let records = lock.withLock { ids.compactMap { directory[$0] } }
        var bindings: [CaptureBinding] = []
        var bound: [UInt64: [MediaEndpoint]] = [:]
        for record in records where capturedSessions[record.id] == nil {
            guard let port = workers[record.worker].capturePort else { continue }
            let locals = Self.capturableLocals(record)
            bindings += locals.map { CaptureBinding(local: $0, capturePort: port) }
            bound[record.id] = locals
        }
        guard !bindings.isEmpty else { return }
        // A refusal leaves these sessions on their own sockets, which relay them as before; the
        // capture implementation logs why.
        guard (try? capture.bind(bindings)) != nil else { return }
        capturedSessions.merge(bound) { _, new in new }
    }

    // MARK: - Events

    private func deliver(_ report: RelayEvent) {
        guard let record = lock.withLock({ directory[report.sessionID] }) else { return }
        switch report.kind {
        case let .latched(leg, source):
            let bothLatched = lock.withLock { () -> Bool in
                guard var current = directory[report.sessionID] else { return false }
                current.legs[leg].latched = source.endpoint
                directory[report.sessionID] = current
                return current.legs.allSatisfy { $0.latched != nil } && !current.inKernel && !current.decoded
            }
            onEvent(MediaEvent(event: .legLatched, session: String(record.id), tag: record.tag, leg: leg, address: source.endpoint))
            if bothLatched { queueOffer(report.sessionID) }
        case let .rtpTimeout(idleSeconds):
            onEvent(MediaEvent(event: .rtpTimeout, session: String(record.id), tag: record.tag, idleSeconds: idleSeconds))
        case let .dtmf(leg, digit, duration, method):
            onEvent(MediaEvent(event: .dtmf, session: String(record.id), tag: record.tag, leg: leg, digit: String(digit),
                               durationMs: duration, method: method))
        }
    }

    /// Sessions whose legs both latched, waiting on the event queue to be offered together.
    private func queueOffer(_ id: UInt64) {
        pendingOffers.append(id)
        guard !offerScheduled else { return }
        offerScheduled = true
        // Runs after the events already queued, so a burst of latches becomes one kernel batch.
        eventQueue.async { [self] in
            offerScheduled = false
            let ids = pendingOffers
            pendingOffers.removeAll()
            offerOffload(ids)
        }
    }

    /// Hands sessions whose legs have both latched to the kernel, in batches. A refusal
    /// (unavailable, IPv6, a DSCP the table does not mark) leaves a session in userspace, which
    /// relays it as before; the offload logs why.
    private func offerOffload(_ ids: [UInt64]) {
        guard offload.isAvailable, !ids.isEmpty else { return }
        offloadLock.withLock {
            let (candidates, relayPorts) = lock.withLock { () -> ([SessionRecord], ClosedRange<Int>) in
                guard configuration.kernelOffload, !stopping else { return ([], configuration.portRange) }
                return (ids.compactMap { directory[$0] }.filter { !$0.inKernel && !$0.decoded && $0.legs.allSatisfy { $0.latched != nil } },
                        configuration.portRange)
            }
            for start in stride(from: 0, to: candidates.count, by: Self.offloadBatch) {
                let chunk = Array(candidates[start..<min(start + Self.offloadBatch, candidates.count)])
                let flows = chunk.map { record in
                    OffloadFlow(sessionID: record.id, legs: record.legs.compactMap { leg in leg.latched.map { OffloadFlow.Leg(local: leg.local, remote: $0) } },
                                dscp: record.dscp, relayPorts: relayPorts)
                }
                let accepted = offload.addFlows(flows)
                guard !accepted.isEmpty else { continue }
                lock.withLock { for id in accepted { directory[id]?.inKernel = true } }
            }
        }
    }

    /// Moves a session back to userspace (its sockets never closed, so the next packet is relayed
    /// there). The kernel's counters so far are kept in the record.
    private func removeOffload(_ id: UInt64) {
        offloadLock.withLock {
            guard lock.withLock({ directory[id]?.inKernel }) == true else { return }
            let counters = try? offload.readCounters(sessionID: id)
            try? offload.removeFlow(sessionID: id)
            lock.withLock {
                directory[id]?.inKernel = false
                if let counters { directory[id]?.addKernelEarlier(counters) }
            }
        }
    }

    /// Runs every second on the event queue: legs whose kernel counters moved count as active, so
    /// the I/O threads' RTP timeout scan and idle times work for offloaded sessions as for the rest.
    private func checkKernelActivity() {
        let offloaded = lock.withLock { directory.values.filter(\.inKernel) }
        guard !offloaded.isEmpty else {
            kernelPacketsSeen.removeAll()
            return
        }
        guard let counters = try? offload.readAllCounters() else { return }
        let now = monotonicNanoseconds()
        var activity = Array(repeating: [KernelActivity](), count: workers.count)
        var seen: [UInt64: [UInt64]] = [:]
        seen.reserveCapacity(offloaded.count)
        for record in offloaded {
            guard let current = counters[record.id] else { continue }
            let packets = current.received.map(\.packets)
            let before = kernelPacketsSeen[record.id] ?? Array(repeating: 0, count: packets.count)
            for leg in packets.indices where leg < 2 && packets[leg] != (leg < before.count ? before[leg] : 0) {
                activity[record.worker].append(KernelActivity(slot: record.slot, leg: leg))
            }
            seen[record.id] = packets
        }
        kernelPacketsSeen = seen
        for (worker, active) in activity.enumerated() where !active.isEmpty {
            workers[worker].post(.kernelActivity(active, at: now))
        }
    }

    // MARK: - Reporting

    private func parseID(_ text: String) throws(RelayError) -> UInt64 {
        guard let id = UInt64(text) else { throw .unknownSession(text) }
        return id
    }

    private func info(_ record: SessionRecord, counters: [LegCounters], kernel: OffloadCounters?, now: UInt64) -> SessionInfo {
        let legs = record.legs.enumerated().map { index, leg -> LegInfo in
            let counter = index < counters.count ? counters[index] : .empty
            // The kernel relays what leg i's far end sends to the other leg's far end.
            var received = TrafficCounters(packets: counter.receivedPackets, bytes: counter.receivedBytes)
            var sent = TrafficCounters(packets: counter.sentPackets, bytes: counter.sentBytes)
            let other = 1 - index
            received.packets &+= record.kernelEarlier[index].packets
            received.bytes &+= record.kernelEarlier[index].bytes
            sent.packets &+= record.kernelEarlier[other].packets
            sent.bytes &+= record.kernelEarlier[other].bytes
            if let kernel, kernel.received.count == 2 {
                received.packets &+= kernel.received[index].packets
                received.bytes &+= kernel.received[index].bytes
                sent.packets &+= kernel.received[other].packets
                sent.bytes &+= kernel.received[other].bytes
            }
            let expected = counter.expected
            let lossPercent = expected == 0 ? 0 : Double(max(0, counter.lost)) * 100 / Double(expected)
            let jitterMs = counter.jitter / 8 // 8 timestamp units per millisecond at 8000 Hz
            // The far end's RTCP: what it reports about the media it receives (see RTCPLegState).
            let rtcp = counter.rtcp
            let reported = rtcp.reports > 0
            let rtcpLossPercent = reported ? Double(rtcp.fractionLost) * 100 / 256 : nil
            let rtcpJitterMs = reported ? Double(rtcp.jitter) / 8 : nil
            let roundTripMs = rtcp.roundTripNanoseconds > 0 ? Double(rtcp.roundTripNanoseconds) / 1e6 : nil
            // Both directions of this leg count: the relay's measurement of what its far end
            // sends (frozen while offloaded) and the far end's report of what it receives.
            let measured = expected > 0
            let quality = MediaQuality.classify(
                lossPercent: Self.worse(measured ? lossPercent : nil, rtcpLossPercent),
                jitterMs: Self.worse(measured ? jitterMs : nil, rtcpJitterMs), roundTripMs: roundTripMs)
            let otherCounter = other < counters.count ? counters[other] : .empty
            let oneWay = MediaQuality.isOneWay(lastFromFarEnd: counter.lastRTPNanoseconds,
                                               lastFromOtherFarEnd: otherCounter.lastRTPNanoseconds,
                                               since: record.createdNanoseconds, now: now)
            return LegInfo(
                index: index, local: leg.local, remote: leg.remote, latched: counter.latched?.endpoint ?? leg.latched,
                path: record.decoded ? .transcode : record.inKernel ? .kernel : .userspace, received: received,
                sent: sent,
                dropped: counter.dropped, lost: counter.lost, expected: expected, lossPercent: lossPercent,
                jitterMs: jitterMs,
                idleSeconds: counter.lastRTPNanoseconds == 0 ? nil : Double(now &- counter.lastRTPNanoseconds) / 1e9,
                codec: leg.media?.codec, malformed: counter.malformed,
                rtcpReports: reported ? rtcp.reports : nil, rtcpLossPercent: rtcpLossPercent,
                rtcpLost: reported ? Int64(rtcp.cumulativeLost) : nil, rtcpJitterMs: rtcpJitterMs,
                rtcpInvalid: rtcp.invalid > 0 ? rtcp.invalid : nil, roundTripMs: roundTripMs, quality: quality,
                oneWayAudio: oneWay, oneWayAudioSeen: counter.oneWaySeen || oneWay,
                jitterBufferMs: counter.jitterBufferMilliseconds)
        }
        return SessionInfo(session: String(record.id), tag: record.tag, ageSeconds: Double(now &- record.createdNanoseconds) / 1e9,
                           rtpTimeoutSeconds: record.timeoutSeconds, legs: legs)
    }

    /// The larger of two optional measurements (nil when both are).
    private static func worse(_ first: Double?, _ second: Double?) -> Double? {
        switch (first, second) {
        case let (first?, second?): return max(first, second)
        case let (first?, nil): return first
        case let (nil, second): return second
        }
    }
}
