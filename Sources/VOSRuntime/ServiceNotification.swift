import Foundation
import Sockets

/// systemd's readiness protocol (sd_notify(3)) for `Type=notify` units: one datagram to the Unix
/// socket named by `$NOTIFY_SOCKET`. Outside systemd (no variable) every call does nothing, so
/// the daemons behave the same at a terminal and in tests.
public enum ServiceNotification {
    /// The daemon is serving: systemd starts the units ordered after it.
    public static func ready(status: String) { send("READY=1\nSTATUS=\(status)") }

    /// The daemon is shutting down.
    public static func stopping() { send("STOPPING=1") }

    /// The daemon is shutting down and may need `seconds` more (a drain): systemd waits that long
    /// beyond its TimeoutStopSec before it kills the unit.
    public static func stopping(status: String, extendBySeconds seconds: Int) {
        send("STOPPING=1\nSTATUS=\(status)\nEXTEND_TIMEOUT_USEC=\(max(0, seconds) * 1_000_000)")
    }

    private static func send(_ message: String) {
        guard var path = ProcessInfo.processInfo.environment["NOTIFY_SOCKET"], !path.isEmpty else { return }
        // A leading '@' names an abstract socket.
        let abstract = path.hasPrefix("@")
        if abstract { path.removeFirst() }
        guard let address = try? UnixSocketAddress(path: path, namespace: abstract ? .abstract : .filesystem) else { return }
        try? UnixSocket.sendDatagram(Array(message.utf8), to: address)
    }
}
