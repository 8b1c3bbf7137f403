import MediaControl
#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 UDP address in the form the socket calls take.
public struct SocketAddress: @unchecked Sendable, Equatable, CustomStringConvertible {
    // @unchecked: sockaddr_storage is plain bytes; copies share nothing.
    var storage = sockaddr_storage()
    var length: socklen_t = 0

    public init(ip: String, port: Int) throws(RelayError) {
        guard (0...65535).contains(port) else { throw .invalidAddress("\(ip):\(port)", reason: "port out of 0-65535") }
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, ip, &v4) == 1 {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr = v4
            withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: &address) { raw.copyMemory(from: $0) } }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        } else if inet_pton(AF_INET6, ip, &v6) == 1 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = UInt16(port).bigEndian
            address.sin6_addr = v6
            withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: &address) { raw.copyMemory(from: $0) } }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        } else {
            throw .invalidAddress(ip, reason: "not an IPv4 or IPv6 address")
        }
    }

    public init(_ endpoint: MediaEndpoint) throws(RelayError) {
        try self.init(ip: endpoint.ip, port: endpoint.port)
    }

    init(copying pointer: UnsafePointer<sockaddr_storage>, length: socklen_t) {
        storage = pointer.pointee
        self.length = length
    }

    var family: Int32 { Int32(storage.ss_family) }

    public var port: Int {
        get { withUnsafeBytes(of: storage) { Int(UInt16(bigEndian: $0.load(fromByteOffset: 2, as: UInt16.self))) } }
        set { withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: UInt16(newValue).bigEndian, toByteOffset: 2, as: UInt16.self) } }
    }

    public var ip: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        withUnsafeBytes(of: storage) { raw in
            let offset = family == AF_INET6 ? 8 : 4
            _ = inet_ntop(family, raw.baseAddress.map { $0 + offset }, &text, socklen_t(text.count))
        }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var endpoint: MediaEndpoint { MediaEndpoint(ip: ip, port: port) }

    public var description: String { endpoint.description }

    public static func == (lhs: SocketAddress, rhs: SocketAddress) -> Bool {
        withUnsafePointer(to: lhs.storage) { a in withUnsafePointer(to: rhs.storage) { b in sameEndpoint(a, b) } }
    }
}

/// Compares family, port and address only (the kernel leaves sin_zero and flow info to chance).
/// On the packet path, so it reads the bytes directly instead of building values.
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
