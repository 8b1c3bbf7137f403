import CVOSSys
import MediaControl
import MediaDSP
import Foundation
import Sockets
#if canImport(Glibc)
import Glibc
#endif

/// One I/O thread: an epoll set over the sockets of the sessions assigned to it, drained with
/// recvmmsg and forwarded with sendmmsg from preallocated buffers. With port capture (see
/// `PortCapture`) most packets arrive instead on the thread's one capture socket, many legs per
/// recvmmsg, and find their leg through a table indexed by destination port.
///
/// Both legs of a session live on the same thread, so forwarding, latching and statistics touch
/// only thread-owned memory. Endpoint number `e` (the epoll token) encodes everything the packet
/// path needs: slot `e >> 2`, leg `(e >> 1) & 1`, RTCP `e & 1`, and the socket to send from is
/// endpoint `e ^ 2` (same kind, other leg).
final class RelayWorker: @unchecked Sendable {
    // @unchecked: `queued` is guarded by `queueLock`; everything else below it is touched only by
    // the worker's own thread (after `start`), which is the point of the design.
    let index: Int
    private let epollFD: Int32
    private let wakeFD: Int32
    private let queueLock = ControlPathLock()
    private var queued: [WorkerCommand] = []
    private let onEvent: @Sendable (RelayEvent) -> Void
    private let finished = DispatchSemaphore(value: 0)

    private var capacity = 0
    private var highWater = 0
    private var slots: UnsafeMutablePointer<SessionSlotState>
    private var legs: UnsafeMutablePointer<LegState>
    /// Two per leg (RTP, RTCP): where packets *to* that leg go; once latched, also the only
    /// source accepted *from* it.
    private var targets: UnsafeMutablePointer<sockaddr_storage>
    private var sockets: UnsafeMutablePointer<Int32>
    /// Per endpoint: the address its socket is bound to (IPv4 only; the source of raw sends).
    private var locals: UnsafeMutablePointer<sockaddr_in>
    private let batch = SocketSendBatch(count: OutboundBatch.receiveChunk)
    /// One raw IPv4 socket (IPPROTO_RAW: we write the IP header) per thread, or -1. A socket per
    /// leg needs one sendmmsg per leg per wakeup, since a UDP socket only sends from its own port;
    /// the raw socket sends every session's packets of a wakeup in one call, each from its leg's
    /// address and port. Send-only: an IPPROTO_RAW socket receives nothing.
    private let rawFD: Int32
    private let outbound = OutboundBatch()
    /// The capture socket (IP_TRANSPARENT, IP_RECVORIGDSTADDR, bound 0.0.0.0:capturePort), or -1.
    private let captureFD: Int32
    /// Where the kernel is to deliver this thread's captured legs; nil without capture.
    let capturePort: UInt16?
    /// Endpoint number per local port (-1 = none): which leg a captured packet is for. Ports are
    /// unique across the relay's addresses (the port pool hands each out once).
    private let portEndpoints: UnsafeMutablePointer<Int32>
    /// Per slot: the decoded path of sessions that have one (`SessionSlotState.decoded`).
    private var pipelines: [SessionMediaPipeline?] = []
    /// The slots with a decoded path, which the tick visits (jitter buffer playout, DTMF pacing).
    private var decodedSlots: [Int] = []
    /// Fires every `tickInterval` while any session is decoded; disarmed otherwise.
    private let tickFD: Int32
    private var tickArmed = false
    private static let tickToken = UInt64.max - 2
    private static let tickInterval = 10_000_000
    /// RFC 3550's 5 s minimum between reports; the first goes out 1 s after a leg's formats are set.
    private static let ownReportInterval: UInt64 = 5_000_000_000
    private static let firstOwnReport: UInt64 = 1_000_000_000
    private let reportBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: RelaySenderReport.length)

    private static let wakeToken = UInt64.max
    private static let captureToken = UInt64.max - 1
    /// recvmmsg rounds on the capture socket per wakeup; it carries every captured leg's packets.
    private static let captureRoundsPerWakeup = 16
    private static let maximumEvents: Int32 = 256
    private static let timeoutScanInterval: UInt64 = 500_000_000
    /// recvmmsg rounds per ready socket before moving on, so one flooded socket cannot starve the rest.
    private static let roundsPerWakeup = 4

    /// Shortest time between two epoll waits (0 = none). Waking once per packet costs more than
    /// relaying it; letting packets gather for a fraction of a millisecond turns one wakeup per
    /// packet into one per batch, at the price of at most that much added latency.
    private let minimumWakeInterval: UInt64

    /// `capture`: open a capture socket (needs the raw socket for sending, and CAP_NET_ADMIN or
    /// CAP_NET_RAW for IP_TRANSPARENT; without them the thread quietly has none).
    /// `sendMark`: SO_MARK for the raw socket (needs CAP_NET_ADMIN), so kernel rules can tell the
    /// relay's own sends apart (the offload table leaves them untracked).
    init(index: Int, minimumWakeInterval: UInt64, rawSend: Bool, capture: Bool, sendMark: UInt32?,
         onEvent: @escaping @Sendable (RelayEvent) -> Void) throws(RelayError) {
        self.index = index
        self.minimumWakeInterval = minimumWakeInterval
        self.onEvent = onEvent
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw .socketFailure(operation: "epoll_create1", address: "I/O thread \(index)", reason: errnoText()) }
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard wakeFD >= 0 else {
            let reason = errnoText()
            close(epollFD)
            throw .socketFailure(operation: "eventfd", address: "I/O thread \(index)", reason: reason)
        }
        slots = .allocate(capacity: 0)
        legs = .allocate(capacity: 0)
        targets = .allocate(capacity: 0)
        sockets = .allocate(capacity: 0)
        locals = .allocate(capacity: 0)
        // EPERM without CAP_NET_RAW: the per-leg sockets then send, as before.
        rawFD = rawSend ? socket(AF_INET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(IPPROTO_RAW)) : -1
        if rawFD >= 0, var mark = sendMark {
            // Without CAP_NET_ADMIN the mark is refused; offload (which needs it too) is off then anyway.
            _ = setsockopt(rawFD, SOL_SOCKET, SO_MARK, &mark, socklen_t(MemoryLayout<UInt32>.size))
        }
        tickFD = timerfd_create(CLOCK_MONOTONIC, Int32(TFD_NONBLOCK) | Int32(TFD_CLOEXEC))
        portEndpoints = .allocate(capacity: 65536)
        portEndpoints.initialize(repeating: -1, count: 65536)
        if capture && rawFD >= 0, let (fd, port) = Self.openCaptureSocket() {
            captureFD = fd
            capturePort = port
        } else {
            captureFD = -1
            capturePort = nil
        }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = Self.wakeToken
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, wakeFD, &event) == 0 else {
            let reason = errnoText()
            close(epollFD)
            close(wakeFD)
            throw .socketFailure(operation: "epoll_ctl(eventfd)", address: "I/O thread \(index)", reason: reason)
        }
        if tickFD >= 0 {
            event.events = EPOLLIN.rawValue
            event.data.u64 = Self.tickToken
            // Without it decoded sessions still relay; only paced output (jitter buffer, DTMF) stalls.
            _ = epoll_ctl(epollFD, EPOLL_CTL_ADD, tickFD, &event)
        }
        if captureFD >= 0 {
            event.events = EPOLLIN.rawValue | EPOLLET.rawValue
            event.data.u64 = Self.captureToken
            // Without it in the set nothing is captured for this thread (capturePort would lie): fail loudly.
            guard epoll_ctl(epollFD, EPOLL_CTL_ADD, captureFD, &event) == 0 else {
                let reason = errnoText()
                close(epollFD)
                close(wakeFD)
                throw .socketFailure(operation: "epoll_ctl(capture socket)", address: "I/O thread \(index)", reason: reason)
            }
        }
        ensureCapacity(256)
    }

    /// A UDP socket the kernel may hand packets for other local ports (TPROXY needs
    /// IP_TRANSPARENT), reporting each packet's original destination. Nil when not permitted.
    private static func openCaptureSocket() -> (Int32, UInt16)? {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var one: Int32 = 1
        let size = socklen_t(MemoryLayout<Int32>.size)
        // One socket takes the packets of thousands of legs: give it the queue they would have had together.
        var buffer: Int32 = 8 << 20
        guard setsockopt(fd, Int32(SOL_IP), Int32(IP_TRANSPARENT), &one, size) == 0,
              setsockopt(fd, Int32(SOL_IP), Int32(IP_RECVORIGDSTADDR), &one, size) == 0 else {
            close(fd)
            return nil
        }
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, size) != 0 {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, size)
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else {
            close(fd)
            return nil
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    deinit {
        slots.deallocate()
        legs.deallocate()
        targets.deallocate()
        sockets.deallocate()
        locals.deallocate()
        portEndpoints.deallocate()
        if rawFD >= 0 { close(rawFD) }
        if captureFD >= 0 { close(captureFD) }
        if tickFD >= 0 { close(tickFD) }
        reportBuffer.deallocate()
        close(epollFD)
        close(wakeFD)
    }

    func start() {
        let name = "mediad-io-\(index)"
        let thread = Thread { [self] in
            vos_set_thread_name(name)
            run()
            finished.signal()
        }
        thread.start()
    }

    /// Queues a command and wakes the thread. Called from control threads.
    func post(_ command: WorkerCommand) {
        queueLock.withLock { queued.append(command) }
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    /// Stops the thread (closing its sockets) and waits for it.
    func stop() {
        post(.stop)
        _ = finished.wait(timeout: .now() + .seconds(5))
    }

    // MARK: - The I/O thread

    private func run() {
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: Int(Self.maximumEvents))
        defer { events.deallocate() }
        var nextTimeoutScan = monotonicNanoseconds() &+ Self.timeoutScanInterval
        while true {
            let ready = epoll_wait(epollFD, events, Self.maximumEvents, 200)
            let woke = monotonicNanoseconds()
            var commandsWaiting = false
            if ready > 0 {
                for position in 0..<Int(ready) {
                    let token = events[position].data.u64
                    if token == Self.wakeToken {
                        commandsWaiting = true
                    } else if token == Self.captureToken {
                        drainCapture()
                    } else if token == Self.tickToken {
                        tickDecoded()
                    } else {
                        drain(endpoint: Int(truncatingIfNeeded: token))
                    }
                }
            }
            flushOutbound()
            if commandsWaiting {
                var counter: UInt64 = 0
                _ = read(wakeFD, &counter, 8)
                guard applyCommands() else { return }
            }
            let now = monotonicNanoseconds()
            if now >= nextTimeoutScan {
                scanForTimeouts(now: now)
                nextTimeoutScan = now &+ Self.timeoutScanInterval
            }
            if minimumWakeInterval > 0, ready > 0, ready < Self.maximumEvents, now &- woke < minimumWakeInterval {
                var pause = timespec(tv_sec: 0, tv_nsec: Int(minimumWakeInterval &- (now &- woke)))
                nanosleep(&pause, nil)
            }
        }
    }

    /// Reads what one socket has and forwards it out of the other leg's socket of the same kind.
    @inline(__always)
    private func drain(endpoint: Int) {
        let slot = endpoint >> 2
        guard slot < capacity, slots[slot].active else { return }
        let isRTCP = endpoint & 1
        let legIndex = endpoint >> 1
        let leg = legs + legIndex
        let peer = legs + (legIndex ^ 1)
        let peerTarget = targets + (2 * (legIndex ^ 1) + isRTCP)
        let fd = sockets[endpoint]
        let peerFD = sockets[endpoint ^ 2]
        let sourceLocal = locals + (endpoint ^ 2)
        // Raw path: IPv4 far end on the other leg and a known IPv4 local address to send from.
        let viaRaw = rawFD >= 0 && sourceLocal.pointee.sin_family == sa_family_t(AF_INET)
            && peerTarget.pointee.ss_family == sa_family_t(AF_INET)
        let tos = slots[slot].tos
        var rounds = 0
        while rounds < Self.roundsPerWakeup {
            rounds += 1
            if OutboundBatch.capacity - outbound.slotsUsed < OutboundBatch.receiveChunk { flushOutbound() }
            let headers = outbound.receiveHeaders + outbound.slotsUsed
            let room = OutboundBatch.receiveChunk
            let received = Int(vos_recvmmsg(fd, headers, UInt32(room), Int32(MSG_DONTWAIT), nil))
            if received <= 0 { return }
            // The socket path sends from these slots before the next receive, so only raw-queued
            // packets keep theirs until the flush.
            if viaRaw { outbound.slotsUsed += received }
            let now = monotonicNanoseconds()
            // RTP clock units at 8000 Hz (125 us), the rate of G.711 and G.729.
            let arrival = UInt32(truncatingIfNeeded: now / 125_000)
            var outgoing = 0
            for position in 0..<received {
                guard let (packet, length, source, sourceLength) = Self.datagram(in: headers + position),
                      admit(endpoint: endpoint, source: source, sourceLength: sourceLength,
                            packet: packet, length: length, now: now, arrival: arrival) else { continue }
                if slots[slot].decoded {
                    forwardDecoded(endpoint: endpoint, packet: packet, length: length, now: now)
                    continue
                }
                if viaRaw {
                    peerTarget.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { destination in
                        outbound.queue(packet, length: length, from: sourceLocal, to: destination, tos: tos,
                                       targetLeg: legIndex ^ 1, originLeg: legIndex)
                    }
                    continue
                }
                let out = batch.sendHeaders + outgoing
                out.pointee.msg_hdr.msg_name = UnsafeMutableRawPointer(peerTarget)
                out.pointee.msg_hdr.msg_namelen = isRTCP == 1 ? peer.pointee.rtcpTargetLength : peer.pointee.rtpTargetLength
                batch.sendVectors[outgoing].iov_base = UnsafeMutableRawPointer(packet)
                batch.sendVectors[outgoing].iov_len = length
                outgoing += 1
            }
            if outgoing > 0 { send(outgoing, from: peerFD, countingOn: peer, unsentOn: leg) }
            if received < room { return }
        }
        // Rounds used up with data left: edge-triggered epoll would not report this socket again
        // until the next packet, so re-arm it (the modify reports it at once while it is readable).
        rearm(fd, token: UInt64(endpoint))
    }

    /// Reads what the capture socket has: packets for any of this thread's captured legs, each
    /// queued on the raw socket from the leg its original destination port names.
    private func drainCapture() {
        var rounds = 0
        while rounds < Self.captureRoundsPerWakeup {
            rounds += 1
            if OutboundBatch.capacity - outbound.slotsUsed < OutboundBatch.receiveChunk { flushOutbound() }
            let headers = outbound.receiveHeaders + outbound.slotsUsed
            let room = OutboundBatch.receiveChunk
            // The kernel shrinks msg_controllen to what it wrote; give every slot its full room back.
            for position in 0..<room { headers[position].msg_hdr.msg_controllen = OutboundBatch.controlSpace }
            let received = Int(vos_recvmmsg(captureFD, headers, UInt32(room), Int32(MSG_DONTWAIT), nil))
            if received <= 0 { return }
            outbound.slotsUsed += received
            let now = monotonicNanoseconds()
            let arrival = UInt32(truncatingIfNeeded: now / 125_000)
            for position in 0..<received {
                let header = headers + position
                guard let (packet, length, source, sourceLength) = Self.datagram(in: header),
                      let port = Self.originalDestinationPort(header.pointee.msg_hdr), case let endpoint = Int(portEndpoints[Int(port)]),
                      // A port no leg of this thread has: a binding raced the session's end.
                      endpoint >= 0, endpoint >> 2 < capacity, slots[endpoint >> 2].active else { continue }
                guard admit(endpoint: endpoint, source: source, sourceLength: sourceLength,
                            packet: packet, length: length, now: now, arrival: arrival) else { continue }
                if slots[endpoint >> 2].decoded {
                    forwardDecoded(endpoint: endpoint, packet: packet, length: length, now: now)
                } else {
                    forwardCaptured(endpoint: endpoint, packet: packet, length: length)
                }
            }
            if received < room { return }
        }
        rearm(captureFD, token: Self.captureToken)
    }

    /// Queues a captured packet on the raw socket, or (the other leg is IPv6: a mixed-family
    /// session, rare) sends it at once from the other leg's own socket.
    @inline(__always)
    private func forwardCaptured(endpoint: Int, packet: UnsafeMutablePointer<UInt8>, length: Int) {
        let isRTCP = endpoint & 1
        let legIndex = endpoint >> 1
        let peerTarget = targets + (2 * (legIndex ^ 1) + isRTCP)
        let sourceLocal = locals + (endpoint ^ 2)
        if sourceLocal.pointee.sin_family == sa_family_t(AF_INET) && peerTarget.pointee.ss_family == sa_family_t(AF_INET) {
            peerTarget.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { destination in
                outbound.queue(packet, length: length, from: sourceLocal, to: destination, tos: slots[endpoint >> 2].tos,
                               targetLeg: legIndex ^ 1, originLeg: legIndex)
            }
            return
        }
        let peer = legs + (legIndex ^ 1)
        let peerLength = isRTCP == 1 ? peer.pointee.rtcpTargetLength : peer.pointee.rtpTargetLength
        let sent = peerTarget.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            sendto(sockets[endpoint ^ 2], packet, length, Int32(MSG_DONTWAIT), $0, peerLength)
        }
        if sent == length {
            peer.pointee.sentPackets &+= 1
            peer.pointee.sentBytes &+= UInt64(length)
        } else {
            legs[legIndex].unroutable &+= 1
        }
    }

    /// Decoded path: RTP goes through the direction's processor and each packet it makes is sent
    /// at once from the other leg's own socket (the processor's buffer is reused by its next
    /// packet). RTCP ends here: each leg's reports describe a stream the processor rewrote.
    private func forwardDecoded(endpoint: Int, packet: UnsafeMutablePointer<UInt8>, length: Int, now: UInt64) {
        let slot = endpoint >> 2
        guard endpoint & 1 == 0, let pipeline = pipelines[slot] else { return }
        let from = (endpoint >> 1) & 1
        let direction = pipeline.directions[from]
        direction.process(UnsafeRawBufferPointer(start: packet, count: length), now: now) { out in
            sendDecoded(out, slot: slot, toLeg: from ^ 1)
        }
        reportDigits(direction, slot: slot, fromLeg: from)
    }

    /// One packet a processor made, sent at once from the far leg's own socket (the processor
    /// reuses its buffer for the next one).
    @inline(__always)
    private func sendDecoded(_ out: UnsafeRawBufferPointer, slot: Int, toLeg: Int) {
        let legIndex = 2 * slot + toLeg
        let target = legs + legIndex
        guard target.pointee.rtpTargetLength != 0 else {
            target.pointee.unroutable &+= 1
            return
        }
        let sent = (targets + 2 * legIndex).withMemoryRebound(to: sockaddr.self, capacity: 1) {
            sendto(sockets[4 * slot + 2 * toLeg], out.baseAddress, out.count, Int32(MSG_DONTWAIT), $0, target.pointee.rtpTargetLength)
        }
        if sent == out.count {
            target.pointee.sentPackets &+= 1
            target.pointee.sentBytes &+= UInt64(out.count)
        } else {
            legs[legIndex ^ 1].unroutable &+= 1
        }
    }

    /// Digits a processor could not deliver in media go to the controller (which sends SIP INFO).
    @inline(__always)
    private func reportDigits(_ direction: MediaDirectionProcessor, slot: Int, fromLeg: Int) {
        while let digit = direction.takeReportedDigit() {
            onEvent(RelayEvent(sessionID: slots[slot].sessionID,
                               kind: .dtmf(leg: fromLeg, digit: digit.digit, durationMilliseconds: digit.durationMilliseconds,
                                           method: digit.method.rawValue)))
        }
    }

    /// The 10 ms tick: every decoded session's processors play out what is due (jitter buffer
    /// frames, paced DTMF events and tones).
    private func tickDecoded() {
        var expirations: UInt64 = 0
        _ = read(tickFD, &expirations, 8)
        let now = monotonicNanoseconds()
        for slot in decodedSlots {
            guard let pipeline = pipelines[slot] else { continue }
            for from in 0..<2 {
                let direction = pipeline.directions[from]
                direction.tick(now: now) { out in sendDecoded(out, slot: slot, toLeg: from ^ 1) }
                reportDigits(direction, slot: slot, fromLeg: from)
            }
            for leg in 0..<2 where now >= legs[2 * slot + leg].nextOwnReport {
                sendOwnReport(slot: slot, leg: leg, pipeline: pipeline, now: now)
            }
        }
    }

    /// A decoded session's RTCP: the relay is the source each leg hears, so it reports that
    /// stream to the leg (its SSRC, packets and octets), with a block on what it receives from
    /// the leg. Noted like a forwarded sender report, so the leg's answer (LSR/DLSR) gives the
    /// relay's round trip to it.
    private func sendOwnReport(slot: Int, leg: Int, pipeline: SessionMediaPipeline, now: UInt64) {
        let legIndex = 2 * slot + leg
        legs[legIndex].nextOwnReport = now &+ Self.ownReportInterval
        guard legs[legIndex].rtcpTargetLength != 0 else { return }
        let toLeg = pipeline.directions[leg ^ 1], fromLeg = pipeline.directions[leg]
        var reception: RTCPReportBlock?
        let statistics = legs[legIndex].reception
        if statistics.initialized, fromLeg.senderSSRC != 0 {
            let expected = statistics.expected &- legs[legIndex].reportedExpected
            let received = statistics.received &- legs[legIndex].reportedReceived
            let lostInInterval = expected > received ? expected - received : 0
            legs[legIndex].reportedExpected = statistics.expected
            legs[legIndex].reportedReceived = statistics.received
            reception = RTCPReportBlock(
                ssrc: fromLeg.senderSSRC, fractionLost: expected == 0 ? 0 : UInt8(min(255, lostInInterval * 256 / expected)),
                cumulativeLost: Int32(clamping: statistics.lost), extendedHighestSequence: statistics.extendedHighestSequence,
                jitter: UInt32(statistics.jitter), lastSR: 0, delaySinceLastSR: 0)
        }
        let ntp = RelaySenderReport.ntpNow()
        let length = RelaySenderReport.write(into: reportBuffer, ssrc: toLeg.outputSSRC, ntp: ntp, rtpTimestamp: toLeg.lastOutputTimestamp,
                                             packets: toLeg.counters.emittedPackets, octets: toLeg.emittedPayloadOctets,
                                             reception: reception)
        let sent = (targets + 2 * legIndex + 1).withMemoryRebound(to: sockaddr.self, capacity: 1) {
            sendto(sockets[4 * slot + 2 * leg + 1], reportBuffer, length, Int32(MSG_DONTWAIT), $0, legs[legIndex].rtcpTargetLength)
        }
        guard sent == length else { return }
        legs[legIndex].sentPackets &+= 1
        legs[legIndex].sentBytes &+= UInt64(length)
        // The leg's receiver reports name this SR (LSR): looked up where forwarded SRs toward it are kept.
        legs[legIndex ^ 1].rtcp.noteSenderReport(ssrc: toLeg.outputSSRC, ntpMiddle: UInt32(truncatingIfNeeded: ntp >> 16), at: now)
    }

    /// Keeps `decodedSlots` and the tick timer in step with the sessions' pipelines.
    private func setDecoded(slot: Int, _ pipeline: SessionMediaPipeline?) {
        pipelines[slot] = pipeline
        slots[slot].decoded = pipeline != nil
        decodedSlots.removeAll { $0 == slot }
        if pipeline != nil {
            decodedSlots.append(slot)
            let first = monotonicNanoseconds() &+ Self.firstOwnReport
            for leg in 0..<2 { legs[2 * slot + leg].nextOwnReport = first }
        }
        let wanted = !decodedSlots.isEmpty
        guard wanted != tickArmed, tickFD >= 0 else { return }
        let interval = timespec(tv_sec: 0, tv_nsec: wanted ? Self.tickInterval : 0)
        var setting = itimerspec(it_interval: interval, it_value: interval)
        _ = timerfd_settime(tickFD, 0, &setting, nil)
        tickArmed = wanted
    }

    /// Nil when the session has no decoded path (any more).
    private func playDigits(slot: Int, towardLeg leg: Int, digits: String, durationMilliseconds: Int) -> DTMFPlayOutcome? {
        guard slot < capacity, slots[slot].active, slots[slot].decoded, let pipeline = pipelines[slot] else { return nil }
        // The processor of the direction that ends at `leg` carries what its far end hears.
        return pipeline.directions[leg ^ 1].playDigits(digits, durationMilliseconds: durationMilliseconds, now: monotonicNanoseconds())
    }

    /// A received slot's datagram and source; gives the slot its full name length back for its
    /// next receive (the kernel shrinks it to the source's size).
    @inline(__always)
    private static func datagram(in header: UnsafeMutablePointer<vos_mmsghdr>)
        -> (UnsafeMutablePointer<UInt8>, Int, UnsafeMutablePointer<sockaddr_storage>, socklen_t)? {
        let sourceLength = header.pointee.msg_hdr.msg_namelen
        header.pointee.msg_hdr.msg_namelen = OutboundBatch.sourceCapacity
        guard let name = header.pointee.msg_hdr.msg_name, let vector = header.pointee.msg_hdr.msg_iov,
              let base = vector.pointee.iov_base else { return nil }
        return (base.assumingMemoryBound(to: UInt8.self), Int(header.pointee.msg_len),
                name.assumingMemoryBound(to: sockaddr_storage.self), sourceLength)
    }

    /// The destination port a captured packet was sent to (IP_ORIGDSTADDR), host order.
    @inline(__always)
    private static func originalDestinationPort(_ message: msghdr) -> UInt16? {
        // cmsghdr: length (8 bytes), level, type; the sockaddr_in follows at the 8-byte-aligned offset 16.
        guard message.msg_controllen >= 32, let control = message.msg_control,
              control.loadUnaligned(fromByteOffset: 8, as: Int32.self) == Int32(SOL_IP),
              control.loadUnaligned(fromByteOffset: 12, as: Int32.self) == Int32(IP_ORIGDSTADDR) else { return nil }
        return UInt16(bigEndian: control.loadUnaligned(fromByteOffset: 18, as: UInt16.self))
    }

    /// Has edge-triggered epoll report a socket that may still hold data (the modify reports it
    /// at once while it is readable).
    private func rearm(_ fd: Int32, token: UInt64) {
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | EPOLLET.rawValue
        event.data.u64 = token
        epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &event)
    }

    /// Accounts one packet from the far end of leg `endpoint`: latching (or dropping a packet from
    /// another source once latched), counters, RTP statistics. False when it is not to be forwarded.
    @inline(__always)
    private func admit(endpoint: Int, source: UnsafeMutablePointer<sockaddr_storage>, sourceLength: socklen_t,
                       packet: UnsafeMutablePointer<UInt8>, length: Int, now: UInt64, arrival: UInt32) -> Bool {
        let isRTCP = endpoint & 1
        let legIndex = endpoint >> 1
        let leg = legs + legIndex
        let ownTarget = targets + (2 * legIndex + isRTCP)
        if isRTCP == 1 ? leg.pointee.rtcpLatched : leg.pointee.rtpLatched {
            guard sameEndpoint(source, ownTarget) else {
                leg.pointee.dropped &+= 1
                return false
            }
        } else {
            latch(leg: leg, legIndex: legIndex, isRTCP: isRTCP, source: source, length: sourceLength)
            if isRTCP == 0, let source = SocketAddress(storage: ownTarget) {
                onEvent(RelayEvent(sessionID: slots[endpoint >> 2].sessionID, kind: .latched(leg: legIndex & 1, source: source)))
            }
        }
        leg.pointee.receivedPackets &+= 1
        leg.pointee.receivedBytes &+= UInt64(length)
        let peer = legs + (legIndex ^ 1)
        if isRTCP == 0 && !RTCPReport.isMultiplexedRTCP(packet, length: length) {
            leg.pointee.lastRTPNanoseconds = now
            recordRTP(packet, length: length, arrival: arrival, leg: leg)
            // This far end sends; the other one, which sent before, has been silent for the
            // one-way window: one-way audio on the other leg.
            let peerLast = peer.pointee.lastRTPNanoseconds
            if peerLast != 0, now > peerLast, now - peerLast >= RTCPLegState.oneWayWindow { peer.pointee.oneWaySeen = true }
        } else {
            recordRTCP(packet, length: length, legIndex: legIndex, now: now)
        }
        guard (isRTCP == 1 ? peer.pointee.rtcpTargetLength : peer.pointee.rtpTargetLength) != 0 else {
            leg.pointee.unroutable &+= 1
            return false
        }
        return true
    }

    /// Sends what the raw path queued in this wakeup: one sendmmsg, repeated only past a packet
    /// the kernel refused (which is counted as unroutable on the leg it came from).
    private func flushOutbound() {
        var position = 0
        while position < outbound.queued {
            let sent = Int(vos_sendmmsg(rawFD, outbound.sendHeaders + position, UInt32(outbound.queued - position), Int32(MSG_DONTWAIT)))
            if sent <= 0 {
                legs[outbound.originLegs[position]].unroutable &+= 1
                position += 1
                continue
            }
            for index in position..<(position + sent) {
                let target = outbound.targetLegs[index]
                legs[target].sentPackets &+= 1
                legs[target].sentBytes &+= UInt64(outbound.sendVectors[index].iov_len - OutboundBatch.headerLength)
            }
            position += sent
        }
        outbound.queued = 0
        outbound.slotsUsed = 0
    }

    @inline(__always)
    private func latch(leg: UnsafeMutablePointer<LegState>, legIndex: Int, isRTCP: Int,
                       source: UnsafeMutablePointer<sockaddr_storage>, length: socklen_t) {
        targets[2 * legIndex + isRTCP] = source.pointee
        if isRTCP == 1 {
            leg.pointee.rtcpLatched = true
            leg.pointee.rtcpTargetLength = length
            return
        }
        leg.pointee.rtpLatched = true
        leg.pointee.rtpTargetLength = length
        // Until RTCP shows its own source, send it beside the latched RTP address (port + 1),
        // not to the SDP address, which behind NAT is unreachable.
        if !leg.pointee.rtcpLatched {
            let rtcpTarget = targets + (2 * legIndex + 1)
            rtcpTarget.pointee = source.pointee
            let port = UInt16(bigEndian: UnsafeRawPointer(source).loadUnaligned(fromByteOffset: 2, as: UInt16.self))
            UnsafeMutableRawPointer(rtcpTarget).storeBytes(of: (port &+ 1).bigEndian, toByteOffset: 2, as: UInt16.self)
            leg.pointee.rtcpTargetLength = length
        }
    }

    /// RTCP from leg `legIndex`'s far end (its own port, or multiplexed on the RTP port): its
    /// report block and sender report (see `RTCPLegState`). Rare next to RTP, so not inlined.
    /// Invalid RTCP is counted and otherwise ignored (it is still relayed, as before).
    @inline(never)
    private func recordRTCP(_ packet: UnsafeMutablePointer<UInt8>, length: Int, legIndex: Int, now: UInt64) {
        let leg = legs + legIndex
        let peer = legs + (legIndex ^ 1)
        let preferred = peer.pointee.rtcp.senderSSRC
        guard let report = RTCPReport.parse(UnsafePointer(packet), length: length, preferring: preferred == 0 ? nil : preferred) else {
            leg.pointee.rtcp.invalid &+= 1
            return
        }
        if let ssrc = report.senderSSRC {
            leg.pointee.rtcp.noteSenderReport(ssrc: ssrc, ntpMiddle: report.senderNTPMiddle, at: now)
        }
        if let block = report.block {
            leg.pointee.rtcp.noteReportBlock(block, forwardedAt: peer.pointee.rtcp.senderReportTime(ntpMiddle: block.lastSR), now: now)
        }
        // RTCP goes on when RTP stops, and for an offloaded call it is all that still passes
        // here (the kernel's counters keep the legs' RTP times current): check both ways.
        noteOneWay(silent: leg, active: peer, now: now)
        noteOneWay(silent: peer, active: leg, now: now)
    }

    @inline(__always)
    private func noteOneWay(silent: UnsafeMutablePointer<LegState>, active: UnsafeMutablePointer<LegState>, now: UInt64) {
        let silentLast = silent.pointee.lastRTPNanoseconds
        let activeLast = active.pointee.lastRTPNanoseconds
        guard silentLast != 0, activeLast != 0, now > silentLast, now - silentLast >= RTCPLegState.oneWayWindow,
              activeLast >= now || now - activeLast < RTCPLegState.oneWayWindow else { return }
        silent.pointee.oneWaySeen = true
    }

    @inline(__always)
    private func recordRTP(_ packet: UnsafeMutablePointer<UInt8>, length: Int, arrival: UInt32, leg: UnsafeMutablePointer<LegState>) {
        guard length >= 12, packet[0] & 0xC0 == 0x80 else { return }
        let payloadType = packet[1] & 0x7F
        // RTCP multiplexed on the RTP port (RFC 5761, types 200-204) has no RTP sequence.
        guard payloadType < 72 || payloadType > 76 else { return }
        let sequence = UInt16(packet[2]) << 8 | UInt16(packet[3])
        let timestamp = UInt32(packet[4]) << 24 | UInt32(packet[5]) << 16 | UInt32(packet[6]) << 8 | UInt32(packet[7])
        leg.pointee.reception.record(sequence: sequence, timestamp: timestamp, arrival: arrival)
    }

    @inline(__always)
    private func send(_ count: Int, from fd: Int32, countingOn peer: UnsafeMutablePointer<LegState>, unsentOn leg: UnsafeMutablePointer<LegState>) {
        let sent = max(0, Int(vos_sendmmsg(fd, batch.sendHeaders, UInt32(count), Int32(MSG_DONTWAIT))))
        var bytes = 0
        for position in 0..<sent { bytes += batch.sendVectors[position].iov_len }
        peer.pointee.sentPackets &+= UInt64(sent)
        peer.pointee.sentBytes &+= UInt64(bytes)
        // A full socket buffer drops the rest of the batch: counted, not retried, as real-time media would be late anyway.
        leg.pointee.unroutable &+= UInt64(count - sent)
    }

    // MARK: - Commands (control path, on the I/O thread)

    /// False when told to stop.
    private func applyCommands() -> Bool {
        var commands: [WorkerCommand] = []
        queueLock.withLock { swap(&commands, &queued) }
        for command in commands {
            switch command {
            case let .add(slot, setup): add(slot: slot, setup)
            case let .setRemote(slot, leg, address): setRemote(slot: slot, leg: leg, address)
            case let .setPipeline(slot, pipeline):
                guard slot < capacity, slots[slot].active else { break }
                setDecoded(slot: slot, pipeline)
            case let .playDigits(slot, leg, digits, duration, reply):
                reply.fulfil(playDigits(slot: slot, towardLeg: leg, digits: digits, durationMilliseconds: duration))
            case let .remove(slot, reply): reply.fulfil(remove(slot: slot))
            case let .snapshot(wanted, reply): reply.fulfil(wanted.map { counters(slot: $0) })
            case let .kernelActivity(active, time):
                for entry in active where entry.slot < capacity && slots[entry.slot].active {
                    let legIndex = 2 * entry.slot + entry.leg
                    legs[legIndex].lastRTPNanoseconds = max(legs[legIndex].lastRTPNanoseconds, time)
                }
            case .stop:
                for slot in 0..<highWater where slots[slot].active { _ = remove(slot: slot) }
                return false
            }
        }
        return true
    }

    private func add(slot: Int, _ setup: SessionSetup) {
        ensureCapacity(slot + 1)
        slots[slot] = SessionSlotState(active: true, sessionID: setup.sessionID, timeoutNanoseconds: setup.timeoutNanoseconds,
                                       createdNanoseconds: monotonicNanoseconds(), timedOutAt: 0, tos: setup.tos,
                                       decoded: false)
        for leg in 0..<2 {
            legs[2 * slot + leg] = LegState()
            if let remote = setup.remotes[leg] { aim(legIndex: 2 * slot + leg, at: remote) }
        }
        setDecoded(slot: slot, setup.pipeline)
        for kind in 0..<4 {
            let endpoint = 4 * slot + kind
            sockets[endpoint] = setup.sockets[kind]
            var bound = sockaddr_in()
            var boundLength = socklen_t(MemoryLayout<sockaddr_in>.size)
            let named = withUnsafeMutablePointer(to: &bound) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(setup.sockets[kind], $0, &boundLength) }
            }
            // An IPv6 leg (or a failed lookup) keeps family 0: that leg sends from its own socket.
            locals[endpoint] = named == 0 && bound.sin_family == sa_family_t(AF_INET) ? bound : sockaddr_in()
            if locals[endpoint].sin_family == sa_family_t(AF_INET) {
                portEndpoints[Int(UInt16(bigEndian: bound.sin_port))] = Int32(endpoint)
            }
            var event = epoll_event()
            // Edge-triggered: a level-triggered socket is polled again at the next epoll_wait
            // after every packet, only to find it empty; drain() reads until it is.
            event.events = EPOLLIN.rawValue | EPOLLET.rawValue
            event.data.u64 = UInt64(endpoint)
            if epoll_ctl(epollFD, EPOLL_CTL_ADD, setup.sockets[kind], &event) != 0 {
                // Only on resource exhaustion; the session then relays nothing and times out.
                leg(forEndpoint: endpoint).pointee.unroutable &+= 1
            }
        }
        highWater = max(highWater, slot + 1)
        setup.applied?()
    }

    private func leg(forEndpoint endpoint: Int) -> UnsafeMutablePointer<LegState> { legs + (endpoint >> 1) }

    /// A new SDP address: forget the latch so the leg learns its source again.
    private func setRemote(slot: Int, leg: Int, _ address: SocketAddress) {
        guard slot < capacity, slots[slot].active else { return }
        let legIndex = 2 * slot + leg
        legs[legIndex].rtpLatched = false
        legs[legIndex].rtcpLatched = false
        aim(legIndex: legIndex, at: address)
    }

    private func aim(legIndex: Int, at address: SocketAddress) {
        legs[legIndex].rtpTargetLength = address.write(into: targets + 2 * legIndex)
        let rtcp = SocketAddress(address.address, port: address.port == .max ? address.port : address.port + 1)
        legs[legIndex].rtcpTargetLength = rtcp.write(into: targets + 2 * legIndex + 1)
    }

    private func remove(slot: Int) -> [LegCounters] {
        guard slot < capacity, slots[slot].active else { return [.empty, .empty] }
        let final = counters(slot: slot)
        for kind in 0..<4 {
            let endpoint = 4 * slot + kind
            if locals[endpoint].sin_family == sa_family_t(AF_INET) {
                let port = Int(UInt16(bigEndian: locals[endpoint].sin_port))
                if portEndpoints[port] == Int32(endpoint) { portEndpoints[port] = -1 }
            }
            let fd = sockets[endpoint]
            epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil)
            close(fd)
            sockets[endpoint] = -1
        }
        setDecoded(slot: slot, nil)
        slots[slot].active = false
        return final
    }

    private func counters(slot: Int) -> [LegCounters] {
        guard slot < capacity, slots[slot].active else { return [.empty, .empty] }
        let pipeline = slots[slot].decoded ? pipelines[slot] : nil
        return (0..<2).map { leg in
            let legIndex = 2 * slot + leg
            let state = legs[legIndex]
            let latched = state.rtpLatched ? SocketAddress(storage: targets + 2 * legIndex) : nil
            var counters = LegCounters(latched: latched, receivedPackets: state.receivedPackets, receivedBytes: state.receivedBytes,
                                       sentPackets: state.sentPackets, sentBytes: state.sentBytes, dropped: state.dropped,
                                       unroutable: state.unroutable, expected: state.reception.expected, lost: state.reception.lost,
                                       jitter: state.reception.jitter, lastRTPNanoseconds: state.lastRTPNanoseconds)
            if let direction = pipeline?.directions[leg] {
                counters.malformed = direction.counters.droppedMalformed &+ direction.counters.droppedUnknownPayloadType
                counters.jitterBufferMilliseconds = direction.jitterBufferDelayMilliseconds
            }
            noteOneWay(silent: legs + legIndex, active: legs + (legIndex ^ 1), now: monotonicNanoseconds())
            counters.rtcp = legs[legIndex].rtcp
            counters.oneWaySeen = legs[legIndex].oneWaySeen
            return counters
        }
    }

    private func scanForTimeouts(now: UInt64) {
        for slot in 0..<highWater where slots[slot].active && slots[slot].timeoutNanoseconds > 0 {
            let state = slots[slot]
            let lastMedia = max(legs[2 * slot].lastRTPNanoseconds, legs[2 * slot + 1].lastRTPNanoseconds, state.createdNanoseconds)
            if state.timedOutAt != 0 {
                if lastMedia > state.timedOutAt { slots[slot].timedOutAt = 0 }
                continue
            }
            guard now &- lastMedia >= state.timeoutNanoseconds else { continue }
            slots[slot].timedOutAt = now
            onEvent(RelayEvent(sessionID: state.sessionID, kind: .rtpTimeout(idleSeconds: Double(now &- lastMedia) / 1e9)))
        }
    }

    /// Grows the per-slot arrays; happens on the I/O thread between batches, never mid-packet.
    private func ensureCapacity(_ needed: Int) {
        guard needed > capacity else { return }
        let newCapacity = max(needed, capacity * 2, 256)
        func grow<Element>(_ old: UnsafeMutablePointer<Element>, perSlot: Int, filler: Element) -> UnsafeMutablePointer<Element> {
            let fresh = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity * perSlot)
            fresh.moveInitialize(from: old, count: capacity * perSlot)
            (fresh + capacity * perSlot).initialize(repeating: filler, count: (newCapacity - capacity) * perSlot)
            old.deallocate()
            return fresh
        }
        slots = grow(slots, perSlot: 1, filler: SessionSlotState())
        legs = grow(legs, perSlot: 2, filler: LegState())
        targets = grow(targets, perSlot: 4, filler: sockaddr_storage())
        sockets = grow(sockets, perSlot: 4, filler: -1)
        locals = grow(locals, perSlot: 4, filler: sockaddr_in())
        pipelines += Array(repeating: nil, count: newCapacity - capacity)
        capacity = newCapacity
    }
}
