/// Sockets owns the socket plumbing every module shares: `SocketAddress`, the one socket
/// address of vos (an `IPAddress` and a port, with its kernel `sockaddr` form), and
/// `UnixSocket`, the one Unix-domain socket helper (listen, connect, one datagram) behind the
/// operator and media control sockets and systemd's readiness notification.
///
/// It must not hold protocol, policy or threads: what travels over a socket, and when, is the
/// caller's. It depends on VOSModel for `IPAddress` alone.
public enum Sockets {}
