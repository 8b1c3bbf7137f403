#if canImport(Glibc)
import Glibc
#endif

/// Where a Unix-domain socket lives: a path in the file system, or a name in Linux's abstract
/// namespace (systemd's `NOTIFY_SOCKET=@name`). Checked on creation, so a too-long path is
/// refused before any socket is opened.
public struct UnixSocketAddress: Sendable, Equatable, CustomStringConvertible {
    public enum Namespace: Sendable { case filesystem, abstract }

    public let path: String
    public let namespace: Namespace

    public init(path: String, namespace: Namespace = .filesystem) throws(UnixSocketError) {
        // sun_path holds a file system path with its terminating NUL, an abstract name after a leading NUL.
        let capacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1
        guard (1...capacity).contains(path.utf8.count) else {
            throw UnixSocketError(.path, path, code: 0, detail: "must be 1-\(capacity) bytes")
        }
        self.path = path
        self.namespace = namespace
    }

    /// The path, abstract names with systemd's leading `@`.
    public var description: String { namespace == .abstract ? "@\(path)" : path }

    /// Calls `body` with the kernel form: a file system path NUL-terminated in a whole
    /// `sockaddr_un`, an abstract name after a NUL with the exact length (its bytes are the name).
    func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let offset = namespace == .abstract ? 1 : 0
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[offset + index] = byte }
        }
        let length = namespace == .abstract
            ? socklen_t(MemoryLayout<sa_family_t>.size + offset + path.utf8.count)
            : socklen_t(MemoryLayout<sockaddr_un>.size)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }
}
