import Sockets
#if canImport(Glibc)
import Glibc
#endif

/// Opens the UDP sockets legs use: non-blocking (the I/O threads drain them with recvmmsg),
/// DSCP set once at creation so every packet sent from it carries the marking, and optionally an
/// SO_MARK (the kernel offload leaves packets with the relay's mark untracked).
enum MediaSocket {
    enum BindOutcome {
        case bound(Int32)
        case portInUse
    }

    static func open(_ address: SocketAddress, tos: Int32, mark: UInt32? = nil) throws(RelayError) -> BindOutcome {
        let flags = Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = socket(address.domain, flags, 0)
        guard fd >= 0 else { throw .socketFailure(operation: "socket", address: address.description, reason: errnoText()) }
        var value = tos
        let size = socklen_t(MemoryLayout<Int32>.size)
        let marked = address.family == .v6
            ? setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_TCLASS, &value, size)
            : setsockopt(fd, Int32(IPPROTO_IP), IP_TOS, &value, size)
        guard marked == 0 else {
            let reason = errnoText()
            close(fd)
            throw .socketFailure(operation: "setting DSCP (TOS \(tos))", address: address.description, reason: reason)
        }
        if var mark {
            // Refused without CAP_NET_ADMIN; kernel offload, which the mark is for, is off then too.
            _ = setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, socklen_t(MemoryLayout<UInt32>.size))
        }
        let bound = address.withSockaddr { bind(fd, $0, $1) }
        guard bound == 0 else {
            let code = errno
            close(fd)
            if code == EADDRINUSE || code == EACCES { return .portInUse }
            throw .socketFailure(operation: "bind", address: address.description, reason: errnoText(code))
        }
        return .bound(fd)
    }
}

func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) + " (errno \(code))" }
