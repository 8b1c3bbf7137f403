import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// systemd's readiness protocol (sd_notify(3)) for `Type=notify` units: one datagram to the Unix
/// socket named by `$NOTIFY_SOCKET`. Outside systemd (no variable) every call does nothing, so
/// the daemons behave the same at a terminal and in tests.
public enum ServiceNotification {
    /// The daemon is serving: systemd starts the units ordered after it.
    public static func ready(status: String) { send("READY=1\nSTATUS=\(status)") }

    /// The daemon is shutting down.
    public static func stopping() { send("STOPPING=1") }

    /// A human-readable state line for `systemctl status`.
    public static func status(_ text: String) { send("STATUS=\(text)") }

    private static func send(_ message: String) {
        guard var path = ProcessInfo.processInfo.environment["NOTIFY_SOCKET"], !path.isEmpty else { return }
        // A leading '@' names an abstract socket.
        let abstract = path.hasPrefix("@")
        if abstract { path.removeFirst() }
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count + (abstract ? 1 : 0) < capacity else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let offset = abstract ? 1 : 0
            for (index, byte) in bytes.enumerated() { raw[offset + index] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 1 : 0))
        _ = message.withCString { text in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(descriptor, text, strlen(text), 0, $0, length) }
            }
        }
    }
}
