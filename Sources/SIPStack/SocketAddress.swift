#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 socket address as the kernel hands it over, cheap to copy and hash, so the
/// per-datagram path keeps the raw form and formats text only when a header needs it.
public struct SocketAddress: Hashable, Sendable, CustomStringConvertible {
    public enum Family: Sendable { case v4, v6 }

    /// IPv4: 4 bytes; IPv6: 16 bytes, network order.
    public let addressBytes: [UInt8]
    public let port: Int

    public var family: Family { addressBytes.count == 4 ? .v4 : .v6 }

    public init(addressBytes: [UInt8], port: Int) {
        self.addressBytes = addressBytes
        self.port = port
    }

    /// Parses a numeric IP (no DNS) and port.
    public init(ip: String, port: Int) throws(TransportError) {
        var v4 = in_addr()
        if inet_pton(AF_INET, ip, &v4) == 1 {
            self.addressBytes = withUnsafeBytes(of: &v4) { Array($0) }
            self.port = port
            return
        }
        var v6 = in6_addr()
        let bare = ip.hasPrefix("[") && ip.hasSuffix("]") ? String(ip.dropFirst().dropLast()) : ip
        if inet_pton(AF_INET6, bare, &v6) == 1 {
            self.addressBytes = withUnsafeBytes(of: &v6) { Array($0) }
            self.port = port
            return
        }
        throw TransportError.invalidAddress(ip)
    }

    /// Parses `IP:PORT` or `[IPv6]:PORT`.
    public init(parsing text: String) throws(TransportError) {
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()), (0...65535).contains(port) else {
                throw TransportError.invalidAddress(text)
            }
            try self.init(ip: host, port: port)
            return
        }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw TransportError.invalidAddress(text)
        }
        try self.init(ip: String(text[..<colon]), port: port)
    }

    public init?(storage: UnsafePointer<sockaddr_storage>) {
        switch Int32(storage.pointee.ss_family) {
        case AF_INET:
            let address = UnsafeRawPointer(storage).assumingMemoryBound(to: sockaddr_in.self).pointee
            var raw = address.sin_addr
            addressBytes = withUnsafeBytes(of: &raw) { Array($0) }
            port = Int(UInt16(bigEndian: address.sin_port))
        case AF_INET6:
            let address = UnsafeRawPointer(storage).assumingMemoryBound(to: sockaddr_in6.self).pointee
            var raw = address.sin6_addr
            addressBytes = withUnsafeBytes(of: &raw) { Array($0) }
            port = Int(UInt16(bigEndian: address.sin6_port))
        default:
            return nil
        }
    }

    /// Writes the kernel form into `storage` and returns its length (for preallocated sendmmsg names).
    func write(into storage: UnsafeMutablePointer<sockaddr_storage>) -> socklen_t {
        withSockaddr { address, length in
            UnsafeMutableRawPointer(storage).copyMemory(from: address, byteCount: Int(length))
            return length
        }
    }

    /// Fills a sockaddr_storage for sendto/connect.
    func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        var storage = sockaddr_storage()
        return withUnsafeMutablePointer(to: &storage) { pointer -> T in
            let raw = UnsafeMutableRawPointer(pointer)
            if family == .v4 {
                let address = raw.assumingMemoryBound(to: sockaddr_in.self)
                address.pointee.sin_family = sa_family_t(AF_INET)
                address.pointee.sin_port = UInt16(port).bigEndian
                withUnsafeMutableBytes(of: &address.pointee.sin_addr) { $0.copyBytes(from: addressBytes) }
                return body(UnsafeRawPointer(raw).assumingMemoryBound(to: sockaddr.self), socklen_t(MemoryLayout<sockaddr_in>.size))
            }
            let address = raw.assumingMemoryBound(to: sockaddr_in6.self)
            address.pointee.sin6_family = sa_family_t(AF_INET6)
            address.pointee.sin6_port = UInt16(port).bigEndian
            withUnsafeMutableBytes(of: &address.pointee.sin6_addr) { $0.copyBytes(from: addressBytes) }
            return body(UnsafeRawPointer(raw).assumingMemoryBound(to: sockaddr.self), socklen_t(MemoryLayout<sockaddr_in6>.size))
        }
    }

    /// The address alone, as text (`203.0.113.5`, `2001:db8::1`).
    public var ip: String {
        if family == .v4 { return addressBytes.map(String.init).joined(separator: ".") }
        var raw = in6_addr()
        withUnsafeMutableBytes(of: &raw) { $0.copyBytes(from: addressBytes) }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &raw, &buffer, socklen_t(buffer.count)) != nil else { return "::" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The host as it appears in a SIP URI or Via: IPv6 in brackets.
    public var sipHost: String { family == .v4 ? ip : "[\(ip)]" }

    public var description: String { "\(sipHost):\(port)" }
}
