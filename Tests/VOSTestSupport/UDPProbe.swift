import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Sends raw datagrams (malformed SIP, floods) and reads what comes back, for tests that must
/// see exactly what a peer sees.
public final class UDPProbe {
    private let descriptor: Int32

    public init(bind ip: String = "127.0.0.2", port: Int = 0) throws {
        descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure("socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        inet_pton(AF_INET, ip, &address.sin_addr)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw Failure("bind \(ip): \(errno)") }
    }

    deinit { close(descriptor) }

    public var localPort: Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    public func send(_ bytes: [UInt8], to ip: String, port: Int) {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        inet_pton(AF_INET, ip, &address.sin_addr)
        _ = bytes.withUnsafeBytes { raw in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(descriptor, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    public func send(_ text: String, to ip: String, port: Int) { send(Array(text.utf8), to: ip, port: port) }

    /// The next datagram within `milliseconds`, or nil.
    public func receive(milliseconds: Int32 = 1000) -> String? {
        receiveBytes(milliseconds: milliseconds).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The next datagram's bytes within `milliseconds`, or nil.
    public func receiveBytes(milliseconds: Int32 = 1000) -> [UInt8]? {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, milliseconds) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        return Array(buffer[0..<count])
    }
}
