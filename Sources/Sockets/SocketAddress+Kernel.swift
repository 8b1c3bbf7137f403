import VOSModel
#if canImport(Glibc)
import Glibc
#endif

/// The kernel form of a socket address (`sockaddr_in` / `sockaddr_in6` in a `sockaddr_storage`):
/// the one place vos reads and writes it. Nothing here allocates, so transports call it per
/// datagram and fill preallocated sendmmsg names with `write(into:)`.
extension SocketAddress {
    /// Reads an `AF_INET` or `AF_INET6` address the kernel filled in; nil for any other family.
    public init?(storage: UnsafePointer<sockaddr_storage>) {
        let raw = UnsafeRawPointer(storage)
        switch Int32(storage.pointee.ss_family) {
        case AF_INET:
            let kernel = raw.load(as: sockaddr_in.self)
            self.init(IPAddress(kernel.sin_addr), port: UInt16(bigEndian: kernel.sin_port))
        case AF_INET6:
            let kernel = raw.load(as: sockaddr_in6.self)
            self.init(IPAddress(kernel.sin6_addr), port: UInt16(bigEndian: kernel.sin6_port))
        default:
            return nil
        }
    }

    /// The local address a socket is bound to (getsockname), nil when the kernel will not say.
    public init?(boundTo descriptor: Int32) {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else { return nil }
        self.init(storage: &storage)
    }

    /// `AF_INET` or `AF_INET6`, for socket(2).
    public var domain: Int32 { family == .v4 ? AF_INET : AF_INET6 }

    /// Writes the whole `sockaddr_in` / `sockaddr_in6` (zero flow information and scope) at the
    /// start of `storage` and returns its length.
    public func write(into storage: UnsafeMutablePointer<sockaddr_storage>) -> socklen_t {
        func store<Kernel>(_ kernel: Kernel) -> socklen_t {
            UnsafeMutableRawPointer(storage).storeBytes(of: kernel, as: Kernel.self)
            return socklen_t(MemoryLayout<Kernel>.size)
        }
        if address.isIPv4 {
            var kernel = sockaddr_in()
            kernel.sin_family = sa_family_t(AF_INET)
            kernel.sin_port = port.bigEndian
            kernel.sin_addr = address.inAddress
            return store(kernel)
        }
        var kernel = sockaddr_in6()
        kernel.sin6_family = sa_family_t(AF_INET6)
        kernel.sin6_port = port.bigEndian
        kernel.sin6_addr = address.in6Address
        return store(kernel)
    }

    /// Calls `body` with the kernel form, for bind, connect and sendto.
    public func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        var storage = sockaddr_storage()
        let length = write(into: &storage)
        return withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }
}
