#if canImport(Glibc)
import Glibc
#endif

/// Whether two kernel-form socket addresses name the same endpoint: family, port and address
/// only (the kernel leaves sin_zero and flow info to chance).
///
/// The packet path's comparison. The I/O threads keep far ends as `sockaddr_storage` in
/// preallocated arrays (recvmmsg fills them, sendmmsg reads them), so a packet is checked
/// against its leg's latched source by reading the bytes, without building a `SocketAddress`;
/// those arrays are written from a `SocketAddress` only by `SocketAddress.write(into:)`.
@inline(__always)
func sameEndpoint(_ a: UnsafePointer<sockaddr_storage>, _ b: UnsafePointer<sockaddr_storage>) -> Bool {
    let left = UnsafeRawPointer(a)
    let right = UnsafeRawPointer(b)
    let family = left.load(as: sa_family_t.self)
    guard family == right.load(as: sa_family_t.self) else { return false }
    if family == sa_family_t(AF_INET) {
        // family, port and IPv4 address are the first eight bytes of sockaddr_in.
        return left.loadUnaligned(as: UInt64.self) == right.loadUnaligned(as: UInt64.self)
    }
    return left.loadUnaligned(fromByteOffset: 2, as: UInt16.self) == right.loadUnaligned(fromByteOffset: 2, as: UInt16.self)
        && left.loadUnaligned(fromByteOffset: 8, as: UInt64.self) == right.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        && left.loadUnaligned(fromByteOffset: 16, as: UInt64.self) == right.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
}
