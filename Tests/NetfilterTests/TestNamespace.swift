import Foundation
import Glibc
import Sockets
import VOSTestSupport

/// A throwaway network namespace. The suites using it have a 3-minute time limit, a hang guard:
/// a test's limit also runs while it waits for a thread of the cooperative pool, which the full
/// suite's blocking lab tests hold on a 2-core host (at 1 minute, five of these tests timed out
/// together in full runs without having hung).
///
/// A throwaway network namespace. Netlink work runs on a thread that has entered it with
/// setns(2); commands run under `ip netns exec`. `remove()` must run in a `defer`.
final class TestNamespace: @unchecked Sendable {
    let name: String

    init(_ label: String = "t") throws {
        name = "vosnf-\(label)-\(UInt32.random(in: 0...UInt32.max))"
        try Self.run(["ip", "netns", "add", name])
        _ = try? exec(["ip", "link", "set", "lo", "up"])
    }

    /// Name of the first veth interface in the namespace.
    func firstVeth() throws -> String {
        let links = try exec(["ip", "-o", "link", "show", "type", "veth"])
        guard let name = links.split(separator: " ").dropFirst().first?.split(separator: "@").first else {
            throw CommandFailed(command: ["ip link show type veth"], status: -1, output: links)
        }
        return String(name)
    }

    func remove() {
        _ = try? Self.run(["ip", "netns", "del", name])
    }

    struct CommandFailed: Error, CustomStringConvertible {
        var command: [String]
        var status: Int32
        var output: String
        var description: String { "\(command.joined(separator: " ")) exited \(status): \(output)" }
    }

    /// Runs a command (bounded to 20 s) and returns stdout+stderr; throws on non-zero exit.
    /// posix_spawn (`Spawn`), like the other test helpers that start many commands.
    @discardableResult
    static func run(_ arguments: [String], allowFailure: Bool = false) throws -> String {
        let result = try Spawn.run(["/usr/bin/timeout", "-s", "KILL", "20"] + arguments)
        if result.status != 0 && !allowFailure {
            throw CommandFailed(command: arguments, status: result.status, output: result.output)
        }
        return result.output
    }

    @discardableResult
    func exec(_ arguments: [String], allowFailure: Bool = false) throws -> String {
        try Self.run(["ip", "netns", "exec", name] + arguments, allowFailure: allowFailure)
    }

    /// setns(2) is hidden by Glibc without _GNU_SOURCE; look it up at run time instead.
    static let setns: (@convention(c) (Int32, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setns") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
    }()

    /// Runs `body` on a fresh thread inside the namespace and returns its result.
    func inside<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        let path = "/var/run/netns/\(name)"
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            defer { done.signal() }
            let fd = open(path, O_RDONLY)
            guard fd >= 0, let setns = Self.setns, setns(fd, 0x4000_0000) == 0 else {
                box.result = .failure(CommandFailed(command: ["setns", path], status: errno, output: String(cString: strerror(errno))))
                if fd >= 0 { close(fd) }
                return
            }
            close(fd)
            box.result = Result { try body() }
        }
        thread.start()
        guard done.wait(timeout: .now() + 30) == .success, let result = box.result else {
            throw CommandFailed(command: ["inside", name], status: -1, output: "timed out")
        }
        return try result.get()
    }
}

/// Two namespaces joined by a veth pair: `a` is 203.0.113.1/24, `b` is 203.0.113.2/24.
struct VethPair {
    let a: TestNamespace
    let b: TestNamespace

    static func make(_ a: TestNamespace, _ b: TestNamespace, aAddress: String = "203.0.113.1/24", bAddress: String = "203.0.113.2/24") throws {
        let suffix = String(UInt16.random(in: 0...UInt16.max), radix: 16)
        let left = "va\(suffix)", right = "vb\(suffix)"
        try TestNamespace.run(["ip", "link", "add", left, "netns", a.name, "type", "veth", "peer", "name", right, "netns", b.name])
        try a.exec(["ip", "addr", "add", aAddress, "dev", left])
        try b.exec(["ip", "addr", "add", bAddress, "dev", right])
        try a.exec(["ip", "link", "set", left, "up"])
        try b.exec(["ip", "link", "set", right, "up"])
    }
}

/// Sends UDP datagrams from inside a namespace (call from `inside`).
enum UDP {
    static func send(_ payload: String, to address: String, port: UInt16, from sourcePort: UInt16 = 0, count: Int = 1, tos: Int32? = nil) throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw TestNamespace.CommandFailed(command: ["socket"], status: errno, output: "") }
        defer { close(fd) }
        if sourcePort != 0 {
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_port = sourcePort.bigEndian
            _ = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        let target = SocketAddress(address, port)
        let bytes = Array(payload.utf8)
        for _ in 0..<count {
            _ = target.withSockaddr { sendto(fd, bytes, bytes.count, 0, $0, $1) }
        }
    }

    /// Binds a UDP socket and returns how many datagrams arrive within `wait` seconds.
    static func receiver(port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_port = port.bigEndian
        let result = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard result == 0 else { throw TestNamespace.CommandFailed(command: ["bind \(port)"], status: errno, output: "") }
        var timeout = timeval(tv_sec: 0, tv_usec: 300_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    static func drain(_ fd: Int32) -> [String] {
        var received: [String] = []
        var buffer = [UInt8](repeating: 0, count: 2048)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            received.append(String(decoding: buffer[0..<n], as: UTF8.self))
        }
        close(fd)
        return received
    }
}

final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}

extension UDP {
    static func sendIPv6(_ payload: String, to address: String, port: UInt16, count: Int = 1) throws {
        let fd = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw TestNamespace.CommandFailed(command: ["socket6"], status: errno, output: "") }
        defer { close(fd) }
        let target = SocketAddress(address, port)
        let bytes = Array(payload.utf8)
        for _ in 0..<count {
            let sent = target.withSockaddr { sendto(fd, bytes, bytes.count, 0, $0, $1) }
            if sent < 0 { throw TestNamespace.CommandFailed(command: ["sendto6 \(address)"], status: errno, output: "") }
        }
    }
}

/// A TCP client that connects and writes one segment (call from `inside`).
enum TCP {
    /// Returns the bytes the server side accepted on `port` within a short wait.
    static func listen(port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_port = port.bigEndian
        // The previous test connection on this port may still be closing (a loaded CI machine):
        // give it a moment instead of failing on EADDRINUSE.
        var bound: Int32 = -1
        for _ in 0..<40 {
            bound = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            if bound == 0 || errno != EADDRINUSE { break }
            usleep(50_000)
        }
        guard bound == 0, Glibc.listen(fd, 4) == 0 else { throw TestNamespace.CommandFailed(command: ["listen \(port)"], status: errno, output: "") }
        return fd
    }

    static func connectAndSend(_ payload: String, to address: String, port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = SocketAddress(address, port).withSockaddr { connect(fd, $0, $1) }
        guard connected == 0 else { close(fd); throw TestNamespace.CommandFailed(command: ["connect"], status: errno, output: "") }
        let bytes = Array(payload.utf8)
        _ = send(fd, bytes, bytes.count, 0)
        return fd
    }

    /// Accepts one connection and reads what arrives within 300 ms.
    static func acceptAndRead(_ listener: Int32) -> String {
        defer { close(listener) }
        var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, 1000) == 1 else { return "" }
        let connection = accept(listener, nil, nil)
        guard connection >= 0 else { return "" }
        defer { close(connection) }
        var timeout = timeval(tv_sec: 0, tv_usec: 300_000)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 2048)
        let n = recv(connection, &buffer, buffer.count, 0)
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
    }
}
