import CallControl
import HostNetwork
import Logging
import SIPCore
import SIPStack
import Telemetry
import VOSModel
#if canImport(Glibc)
import Glibc
#endif

/// The tap on every SIP message in and out of the controller, UDP and TCP, called from the
/// transports' closures on the SIP thread: each message is copied into the trace ring (`vosctl
/// trace`, `SS_SIP_TRACE_MEMORY`) and, while `SS_HEP_ENABLE` is 1, sent as HEP3 to
/// `SS_HEP_ADDRESS`. Keep-alives and other bytes that are no SIP message are left out. Outgoing
/// messages are captured as they are queued (UDP leaves in one sendmmsg at the end of the loop
/// iteration). With both off, a message costs one branch.
///
/// It decides nothing about calls and owns no transport: the ring, the HEP socket and the
/// addresses HEP reports for vos.
///
/// @unchecked Sendable: confined to the loop thread; other threads come through `loop.execute`.
final class SIPCapture: CallEventObserver, @unchecked Sendable {
    /// What SS_HEP_* ask for; a change opens a new socket.
    struct HEPSettings: Equatable {
        var destination: SocketAddress
        var captureID: UInt32
        var password: String
    }

    private let listen: SocketAddress
    private let logger: Logger
    private var ring: SIPTraceRing?
    private var ringCapacity = 0
    private var hep: HEPSender?
    private var hepSettings: HEPSettings?
    /// With a wildcard listen address, the address the route to each peer leaves from: what HEP
    /// reports as vos's. Cached as LegAddressBook does (a lookup is a syscall).
    private var routes: [IPAddress: IPAddress] = [:]
    private var routesTakenAt: Int = 0

    init(listen: SocketAddress, parameters: ParameterSet, logger: Logger) {
        self.listen = listen
        self.logger = logger
        reload(parameters)
    }

    // MARK: The tap (SIP thread, per message)

    func received(_ message: UnsafeRawBufferPointer, from remote: SocketAddress, over transport: Peer.Transport) {
        guard ring != nil || hep != nil else { return }
        capture(message, direction: .received, transport: transport, remote: remote)
    }

    func sent(_ message: [UInt8], to remote: SocketAddress, over transport: Peer.Transport) {
        guard ring != nil || hep != nil else { return }
        message.withUnsafeBytes { capture($0, direction: .sent, transport: transport, remote: remote) }
    }

    private func capture(_ message: UnsafeRawBufferPointer, direction: SIPTraceRing.Direction, transport: Peer.Transport,
                         remote: SocketAddress) {
        guard SIPTraceRing.isSIPMessage(message) else { return }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let local = localAddress(toward: remote, seconds: now.tv_sec)
        if let ring {
            ring.record(message, direction: direction, transport: transport, local: local, remote: remote,
                        time: Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec / 1000))
        }
        if let hep {
            let received = direction == .received
            hep.send(message, source: received ? remote : local, destination: received ? local : remote,
                     transport: transport == .tcp ? .tcp : .udp,
                     seconds: UInt32(truncatingIfNeeded: now.tv_sec), microseconds: UInt32(now.tv_nsec / 1000))
        }
    }

    /// The listen address, or with a wildcard one (and only while HEP needs it) the address the
    /// route to `remote` leaves from.
    private func localAddress(toward remote: SocketAddress, seconds: Int) -> SocketAddress {
        guard hep != nil, listen.address.isUnspecified else { return listen }
        if seconds - routesTakenAt >= 60 || routes.count >= 4096 {
            routes.removeAll(keepingCapacity: true)
            routesTakenAt = seconds
        }
        if let known = routes[remote.address] { return SocketAddress(known, port: listen.port) }
        guard let found = try? HostRoutes.sourceAddress(toward: remote.address) else { return listen }
        routes[remote.address] = found
        return SocketAddress(found, port: listen.port)
    }

    /// The B2BUA's word that a vendor leg (its own Call-ID) belongs to a call: `vosctl trace` of
    /// either Call-ID then shows both legs. On the SIP thread, before the leg's INVITE leaves.
    func vendorLegStarted(callID: String, legCallID: String) {
        ring?.link(leg: legCallID, to: callID)
    }

    // MARK: Configuration (loop thread, at start and on each reload)

    func reload(_ parameters: ParameterSet) {
        let capacity = parameters.int(.sipTraceMemory) << 20
        if capacity != ringCapacity {
            // A new size starts an empty ring: copying the old one would stall the loop.
            ring = capacity > 0 ? SIPTraceRing(capacityBytes: capacity) : nil
            ringCapacity = capacity
        }
        let wanted = Self.hepSettings(parameters)
        guard wanted != hepSettings else { return }
        hepSettings = wanted
        hep = nil
        routes.removeAll()
        guard let wanted else {
            if parameters.bool(.hepEnable) {
                logger.warning("SS_HEP_ENABLE is 1 but SS_HEP_ADDRESS is not an IP:PORT; HEP capture stays off")
            } else {
                logger.info("HEP capture off")
            }
            return
        }
        do {
            hep = try HEPSender(destination: wanted.destination,
                                encoder: HEPEncoder(captureID: wanted.captureID, authKey: wanted.password))
            logger.info("HEP capture on: every SIP message to udp:\(wanted.destination), capture id \(wanted.captureID)")
        } catch {
            logger.error("\(error); HEP capture stays off until SS_HEP_* change")
        }
    }

    static func hepSettings(_ parameters: ParameterSet) -> HEPSettings? {
        guard parameters.bool(.hepEnable),
              let destination = try? SocketAddress(parsing: parameters.text(.hepAddress)) else { return nil }
        return HEPSettings(destination: destination, captureID: UInt32(truncatingIfNeeded: parameters.int(.hepCaptureID)),
                           password: parameters.text(.hepPassword))
    }

    // MARK: Operator questions (loop thread)

    var status: SIPCaptureStatus {
        var status = ring?.status ?? SIPCaptureStatus()
        if let hep {
            status.hepDestination = "udp:\(hep.destination)"
            status.hepCaptureID = hep.encoder.captureID
            status.hepSent = hep.counters.sent
            status.hepDropped = hep.counters.dropped
            if hep.counters.lastError != 0 { status.hepLastError = String(cString: strerror(hep.counters.lastError)) }
        }
        return status
    }

    func trace(callID: String) -> SIPTrace {
        SIPTrace(callID: callID, messages: ring?.messages(callID: callID) ?? [], capture: status)
    }
}
