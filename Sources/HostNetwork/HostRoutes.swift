/// What this host's network stack says about addresses: which local address the kernel's route to
/// a peer leaves from, and whether an address belongs to this host. Used by vos-controller (the
/// address each leg advertises), vos-mediad (the real local address of a leg bound to the
/// wildcard, for kernel offload) and vosctl (checking `SS_MEDIA_IP`).
///
/// Owns only these questions, asked of the kernel with throwaway UDP sockets (connect(2) and
/// bind(2) send no packet). Must not hold policy: which address to advertise is the caller's.
import VOSModel
#if canImport(Glibc)
import Glibc
#endif

public struct HostNetworkError: Error, CustomStringConvertible {
    public let description: String
}

public enum HostRoutes {
    /// The source address the kernel would use to send to `peer`: the address on the interface
    /// the route leaves from, or the route's `src`.
    public static func sourceAddress(toward peer: IPAddress) throws(HostNetworkError) -> IPAddress {
        let family = peer.isIPv4 ? AF_INET : AF_INET6
        let descriptor = socket(family, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw HostNetworkError(description: "no UDP socket to look up the route to \(peer): \(errorText())") }
        defer { close(descriptor) }
        var storage = sockaddr_storage()
        let length = fill(&storage, peer, port: 9)
        let connected = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, length) }
        }
        guard connected == 0 else { throw HostNetworkError(description: "no route to \(peer): \(errorText())") }
        var local = sockaddr_storage()
        var localLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &localLength) }
        }
        guard named == 0, let address = read(local) else {
            throw HostNetworkError(description: "cannot read the source address of the route to \(peer): \(errorText())")
        }
        return address
    }

    /// Whether `address` is one of this host's addresses (a socket can bind to it). The
    /// wildcard counts as local.
    public static func isLocal(_ address: IPAddress) -> Bool {
        let descriptor = socket(address.isIPv4 ? AF_INET : AF_INET6, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var storage = sockaddr_storage()
        let length = fill(&storage, address, port: 0)
        return withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        } == 0
    }

    private static func fill(_ storage: inout sockaddr_storage, _ address: IPAddress, port: UInt16) -> socklen_t {
        switch address {
        case let .v4(value):
            return withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                    pointer.pointee.sin_family = sa_family_t(AF_INET)
                    pointer.pointee.sin_port = port.bigEndian
                    pointer.pointee.sin_addr.s_addr = value.bigEndian
                    return socklen_t(MemoryLayout<sockaddr_in>.size)
                }
            }
        case let .v6(high, low):
            return withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                    pointer.pointee.sin6_family = sa_family_t(AF_INET6)
                    pointer.pointee.sin6_port = port.bigEndian
                    withUnsafeMutableBytes(of: &pointer.pointee.sin6_addr) { raw in
                        for index in 0..<8 { raw[index] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(index))) }
                        for index in 0..<8 { raw[8 + index] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(index))) }
                    }
                    return socklen_t(MemoryLayout<sockaddr_in6>.size)
                }
            }
        }
    }

    private static func read(_ storage: sockaddr_storage) -> IPAddress? {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { .v4(UInt32(bigEndian: $0.pointee.sin_addr.s_addr)) }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                    withUnsafeBytes(of: pointer.pointee.sin6_addr) { raw in
                        var high: UInt64 = 0, low: UInt64 = 0
                        for index in 0..<8 { high = high << 8 | UInt64(raw[index]) }
                        for index in 8..<16 { low = low << 8 | UInt64(raw[index]) }
                        return .v6(high: high, low: low)
                    }
                }
            }
        default:
            return nil
        }
    }

    private static func errorText() -> String { String(cString: strerror(errno)) }
}
