import Glibc
import Sockets
import VOSModel

/// A relay leg port whose packets go to an I/O thread's capture socket instead of the leg's own.
public struct CapturedPort: Hashable, Sendable {
    /// The relay address and leg port the far end sends to.
    public var local: SocketAddress
    /// Port of the capture socket (bound to 0.0.0.0 with IP_TRANSPARENT) that receives them.
    public var capturePort: UInt16

    public init(local: SocketAddress, capturePort: UInt16) {
        self.local = local
        self.capturePort = capturePort
    }
}

/// The `ip vos_capture` table owned by vos-mediad (IPv4 only; IPv6 legs keep their own sockets).
///
/// - `ports`: relay address . leg port -> capture socket port. The prerouting chain hands every
///   UDP packet whose destination is in the map to that socket with TPROXY, so one socket per I/O
///   thread can receive many legs' packets in one recvmmsg; the socket learns the leg from
///   IP_ORIGDSTADDR.
/// - `wildcard_ports`: leg port -> capture socket port, for legs bound to 0.0.0.0 (the
///   appliance's default media address). Such a leg's socket receives the port on every local
///   address, so the rule matches exactly that: `fib daddr type local` and the port. A forwarded
///   packet (an offloaded flow after DNAT) has a remote destination and is never taken.
///
/// The chain runs at priority -99, just after `vos_media`'s DNAT (-100): offloaded flows already
/// have a remote destination by then, so they never match a relay port here.
///
/// The rule checks the relay's port range (`SS_MEDIAPROXYPORT_*` at table creation) before the
/// map: every UDP packet the host receives passes this hook (SIP, DNS, the relay's own loopback
/// deliveries), and a range compare is cheaper than a hash lookup. A leg outside the range (the
/// range changed while vos-mediad ran) is simply not captured: its own socket, which stays
/// bound and polled, receives it.
public enum MediaCaptureTable {
    public static let name = "vos_capture"

    public static func model(relayPorts: ClosedRange<UInt16> = MediaOffloadTable.defaultRelayPorts) -> Table {
        Table(
            family: .ip, name: name,
            sets: [
                NamedSet(name: "ports", keyFields: [.ipv4Address, .inetService], valueFields: [.inetService],
                         size: 65535, keepsLiveElements: true),
                NamedSet(name: "wildcard_ports", keyFields: [.inetService], valueFields: [.inetService],
                         size: 65535, keepsLiveElements: true),
            ],
            chains: [
                Chain(name: "prerouting", hook: .init(kind: .filter, hook: .prerouting, priority: -99), rules: [
                    Rule([.destinationPortRange(.udp, relayPorts), .transparentProxyMap([.ipDestination, .udpDestinationPort], map: "ports"),
                          .verdict(.accept)],
                         comment: "relay leg ports go to their I/O thread's capture socket"),
                    Rule([.destinationPortRange(.udp, relayPorts), .destinationIsLocal,
                          .transparentProxyMap([.udpDestinationPort], map: "wildcard_ports")],
                         comment: "legs bound to every address: their port on any local address"),
                ]),
            ])
    }
}

extension NftablesClient {
    /// Creates `ip vos_capture` unless it already matches the model (then captures are kept).
    @discardableResult
    public func ensureCaptureTable(relayPorts: ClosedRange<UInt16> = MediaOffloadTable.defaultRelayPorts) throws -> Bool {
        try ensure(MediaCaptureTable.model(relayPorts: relayPorts))
    }

    /// Captures leg ports in one atomic batch. Capturing a port again with the same capture port
    /// changes nothing; with another capture port the kernel refuses (EEXIST), so moving a leg
    /// to another thread is `removeCapture` then `addCapture`.
    public func addCapture(_ ports: [CapturedPort]) throws {
        for port in ports where !port.local.address.isIPv4 {
            throw NetfilterError.invalidInput("media capture is IPv4 only: \(port.local)")
        }
        try sendCaptureElements(ports.map { ($0.local, $0.capturePort) }, adding: true)
    }

    /// Stops capturing leg ports in one atomic batch; ports that are not captured are ignored.
    public func removeCapture(_ locals: [SocketAddress]) throws {
        let requested = locals.filter(\.address.isIPv4)
        do {
            try sendCaptureElements(requested.map { ($0, nil) }, adding: false)
        } catch let NetfilterError.kernel(_, code, _) where code == ENOENT {
            // One missing element makes the kernel abort the whole batch, so the present ones
            // were not removed either. Kernels before 6.3 have no "delete if present" message
            // (DESTROYSETELEM), so delete again only what the map holds. vos-mediad is the
            // map's only writer, so nothing can disappear between the listing and the retry.
            let present: Set<SocketAddress>
            do {
                present = Set(try capturedPorts().map(\.local))
            } catch let NetfilterError.kernel(_, code, _) where code == ENOENT {
                return  // no table: nothing is captured
            }
            let remaining = requested.filter(present.contains)
            try sendCaptureElements(remaining.map { ($0, nil) }, adding: false)
        }
    }

    /// Removes `ip vos_capture` with every capture in it (no error when it does not exist).
    public func removeCaptureTable() throws {
        try delete(.ip, MediaCaptureTable.name)
    }

    /// Every captured leg port, wildcard legs as `0.0.0.0:PORT` (ENOENT when the table does not exist).
    public func capturedPorts() throws -> [CapturedPort] {
        func port(_ bytes: ArraySlice<UInt8>) -> UInt16 { UInt16(bytes[bytes.startIndex]) << 8 | UInt16(bytes[bytes.startIndex + 1]) }
        let addressed = try listElements(.ip, MediaCaptureTable.name, set: "ports").compactMap { element -> CapturedPort? in
            guard element.key.count == 8, let value = element.value, value.count == 2,
                  let address = IPAddress(bytes: element.key[0..<4]) else { return nil }
            return CapturedPort(local: SocketAddress(address, port: port(element.key[4..<6])), capturePort: port(value[...]))
        }
        let wildcard = try listElements(.ip, MediaCaptureTable.name, set: "wildcard_ports").compactMap { element -> CapturedPort? in
            guard element.key.count >= 2, let value = element.value, value.count == 2 else { return nil }
            return CapturedPort(local: SocketAddress(.v4(0), port: port(element.key[0..<2])), capturePort: port(value[...]))
        }
        return addressed + wildcard
    }

    /// One batch for both maps: a leg on 0.0.0.0 is keyed by its port alone in `wildcard_ports`.
    /// `capturePort` nil deletes.
    private func sendCaptureElements(_ entries: [(local: SocketAddress, capturePort: UInt16?)], adding: Bool) throws {
        let table = MediaCaptureTable.model()
        guard !entries.isEmpty, let ports = table.set(named: "ports"), let wildcardPorts = table.set(named: "wildcard_ports") else { return }
        func bigEndian(_ port: UInt16) -> [UInt8] { [UInt8(port >> 8), UInt8(port & 0xff)] }
        var addressed: [ElementSpec] = [], wildcard: [ElementSpec] = []
        for entry in entries {
            let value = entry.capturePort.map(bigEndian)
            if entry.local.address.isUnspecified {
                wildcard.append(ElementSpec(key: bigEndian(entry.local.port), value: value))
            } else {
                addressed.append(ElementSpec(key: entry.local.concatenationBytes, value: value))
            }
        }
        let batch = NetlinkBatch(socket: socket)
        if !addressed.isEmpty { addElementMessages(table, ports, addressed, to: batch, adding: adding) }
        if !wildcard.isEmpty { addElementMessages(table, wildcardPorts, wildcard, to: batch, adding: adding) }
        try socket.send(batch)
    }
}
