import Foundation
import Logging
import MediaControl
import MediaRelay
import Netfilter
import Sockets

/// `PortCapture` on the Netfilter module: the `ip vos_capture` map sends each captured leg port
/// to its I/O thread's capture socket (TPROXY), programmed in netlink batches.
///
/// Lives in vos-mediad, not MediaRelay, so the relay engine keeps no kernel policy. When the
/// kernel refuses for lack of privilege or support (no CAP_NET_ADMIN, no nft_tproxy), capture
/// is off for the life of the process, logged once, and every leg receives on its own socket.
final class NetfilterPortCapture: PortCapture, @unchecked Sendable {
    // @unchecked: `client` and `available` are used under `lock`; nothing here runs per packet.
    private let lock = NSLock()
    private let logger: Logger
    private var client: NftablesClient?
    private var available = false
    /// This process created the table (so stopping removes it).
    private var created = false

    private init(logger: Logger) {
        self.logger = logger
    }

    /// Removes what a crashed predecessor left (its map points at capture sockets that are gone)
    /// and, when `enabled`, creates the table.
    static func start(enabled: Bool, relayPorts: ClosedRange<Int>, logger: Logger) -> NetfilterPortCapture {
        let capture = NetfilterPortCapture(logger: logger)
        capture.lock.withLock {
            do {
                let client = try NftablesClient()
                capture.client = client
                try client.removeCaptureTable()
                guard enabled else { return }
                try client.ensureCaptureTable(relayPorts: udpPortRange(relayPorts))
                capture.available = true
                capture.created = true
            } catch {
                if enabled {
                    logger.warning("port capture off, each leg receives on its own socket: \(error)")
                } else {
                    logger.debug("no port capture state to clean up: \(error)")
                }
            }
        }
        if enabled && capture.isAvailable {
            logger.notice("port capture on: legs on a specific IPv4 address are received through table ip vos_capture (one socket per I/O thread)")
        }
        return capture
    }

    var isAvailable: Bool { lock.withLock { available } }

    func bind(_ bindings: [CaptureBinding]) throws {
        let ports = try bindings.map { binding -> CapturedPort in
            guard let local = SocketAddress(ipv4: binding.local) else {
                throw NetfilterError.invalidInput("media capture is IPv4 only: \(binding.local)")
            }
            return CapturedPort(local: local, capturePort: binding.capturePort)
        }
        try lock.withLock {
            guard available, let client else { return }
            do {
                try client.addCapture(ports)
            } catch let NetfilterError.kernel(_, code, _) where code == EEXIST {
                // A binding left behind (an unbind that failed) points at another thread: replace it.
                do {
                    try client.removeCapture(ports.map(\.local))
                    try client.addCapture(ports)
                } catch {
                    try refuse(error)
                }
            } catch {
                try refuse(error)
            }
        }
    }

    func unbind(_ locals: [MediaEndpoint]) throws {
        let endpoints = locals.compactMap { SocketAddress(ipv4: $0) }
        try lock.withLock {
            guard available, let client, !endpoints.isEmpty else { return }
            do { try client.removeCapture(endpoints) } catch { try refuse(error) }
        }
    }

    /// Daemon stop: the capture sockets close with the I/O threads, so the map must go too.
    func stop() {
        lock.withLock {
            guard let client, created else { return }
            do { try client.removeCaptureTable() } catch {
                logger.error("cannot remove table ip vos_capture: \(error)")
            }
            available = false
        }
    }

    /// Logs a refusal; one the kernel gives for lack of privilege or support switches capture off.
    private func refuse(_ error: any Error) throws {
        if let netfilter = error as? NetfilterError, netfilter.isUnavailable {
            available = false
            logger.warning("port capture off from now on, each leg receives on its own socket: \(netfilter)")
        } else {
            logger.error("port capture: \(error)")
        }
        throw error
    }
}
