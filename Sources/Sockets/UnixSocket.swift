#if canImport(Glibc)
import Glibc
#endif

/// Opens Unix-domain sockets: the media control socket (vos-mediad, its clients), the
/// controller's operator socket (vos-controller, vosctl) and systemd's notification socket.
/// Descriptors are close-on-exec; reading and writing them is the caller's.
public enum UnixSocket {
    /// A stream socket listening at `path`, the socket file given `permissions`. A file left at
    /// `path` by an earlier run is removed first.
    public static func listen(path: String, backlog: Int32, permissions: mode_t = 0o660) throws(UnixSocketError) -> Int32 {
        let address = try UnixSocketAddress(path: path)
        let descriptor = try open(Int32(SOCK_STREAM.rawValue), for: address)
        unlink(path)
        guard address.withSockaddr({ bind(descriptor, $0, $1) }) == 0 else { throw closing(descriptor, .bind, address) }
        guard Glibc.listen(descriptor, backlog) == 0 else { throw closing(descriptor, .listen, address) }
        chmod(path, permissions)
        return descriptor
    }

    /// A stream socket connected to `path` (blocking).
    public static func connect(path: String) throws(UnixSocketError) -> Int32 {
        let address = try UnixSocketAddress(path: path)
        let descriptor = try open(Int32(SOCK_STREAM.rawValue), for: address)
        guard address.withSockaddr({ Glibc.connect(descriptor, $0, $1) }) == 0 else { throw closing(descriptor, .connect, address) }
        return descriptor
    }

    /// Sends `bytes` as one datagram to `address` from a socket opened and closed for it.
    public static func sendDatagram(_ bytes: [UInt8], to address: UnixSocketAddress) throws(UnixSocketError) {
        let descriptor = try open(Int32(SOCK_DGRAM.rawValue), for: address)
        defer { close(descriptor) }
        let sent = bytes.withUnsafeBytes { raw in
            address.withSockaddr { sendto(descriptor, raw.baseAddress, raw.count, 0, $0, $1) }
        }
        guard sent == bytes.count else { throw UnixSocketError(.send, address.description, code: sent < 0 ? errno : EMSGSIZE) }
    }

    private static func open(_ type: Int32, for address: UnixSocketAddress) throws(UnixSocketError) -> Int32 {
        let descriptor = socket(AF_UNIX, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw UnixSocketError(.socket, address.description, code: errno) }
        return descriptor
    }

    /// The error for `step` (errno read before close can change it), with the descriptor closed.
    private static func closing(_ descriptor: Int32, _ step: UnixSocketError.Step, _ address: UnixSocketAddress) -> UnixSocketError {
        let error = UnixSocketError(step, address.description, code: errno)
        close(descriptor)
        return error
    }
}
