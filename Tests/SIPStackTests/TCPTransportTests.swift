import Foundation
import Synchronization
import Testing
@testable import SIPStack
#if canImport(Glibc)
import Glibc
#endif

/// TCPTransport on a real loop thread over loopback: replies on the arriving connection,
/// outbound connection reuse, per-source limits and idle closing.
@Suite(.serialized) struct TCPTransportTests {
    /// A loop thread with one transport, stopped at the end of the test.
    final class Harness: @unchecked Sendable {
        let loop: EpollEventLoop
        let transport: TCPTransport
        private let messages = Mutex<[(String, SocketAddress)]>([])
        private let done = DispatchSemaphore(value: 0)

        init(limits: TCPTransportLimits) throws {
            loop = try EpollEventLoop()
            transport = try TCPTransport(loop: loop, bind: try SocketAddress(ip: "127.0.0.1", port: 0), dscp: 0, limits: limits)
            transport.onMessage = { [unowned self] buffer, source in
                let text = String(decoding: buffer, as: UTF8.self)
                self.messages.withLock { $0.append((text, source)) }
            }
            let loop = self.loop, transport = self.transport, done = self.done
            loop.execute { transport.startIdleSweep() }
            Thread { loop.run(); done.signal() }.start()
        }

        var received: [(String, SocketAddress)] { messages.withLock { $0 } }

        func stop() {
            loop.stop()
            _ = done.wait(timeout: .now() + 5)
        }
    }

    static func message(_ callID: String) -> String {
        "OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK\(callID)\r\nCall-ID: \(callID)\r\nContent-Length: 0\r\n\r\n"
    }

    static func connectedClient(to port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let address = SocketAddress(.v4(0x7f00_0001), port: port)
        guard address.withSockaddr({ connect(fd, $0, $1) }) == 0 else { throw TransportError.system("connect", errno) }
        return fd
    }

    /// What arrives within `milliseconds`; nil on EOF/reset before any byte or on timeout.
    static func read(_ fd: Int32, milliseconds: Int32 = 2000) -> String? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, milliseconds) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : nil
    }

    static func isClosed(_ fd: Int32, milliseconds: Int32) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, milliseconds) > 0 else { return false }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, 0) <= 0
    }

    @Test func repliesGoBackOnTheConnectionTheMessageCameIn() throws {
        let harness = try Harness(limits: TCPTransportLimits())
        defer { harness.stop() }
        let client = try Self.connectedClient(to: harness.transport.localAddress.port)
        defer { close(client) }
        _ = Self.message("a").withCString { send(client, $0, strlen($0), 0) }
        let deadline = Date().addingTimeInterval(2)
        while harness.received.isEmpty && Date() < deadline { usleep(10_000) }
        let source = try #require(harness.received.first?.1)
        let transport = harness.transport
        harness.loop.execute { transport.send(Array("SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n".utf8), to: source) }
        #expect(Self.read(client)?.hasPrefix("SIP/2.0 200 OK") == true)
    }

    @Test func outboundConnectionIsOpenedOnceAndReused() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        _ = try SocketAddress(ip: "127.0.0.1", port: 0).withSockaddr { bind(listener, $0, $1) }
        listen(listener, 8)
        let vendor = try #require(SocketAddress(boundTo: listener))

        let harness = try Harness(limits: TCPTransportLimits())
        defer { harness.stop() }
        let transport = harness.transport
        harness.loop.execute { transport.send(Array(Self.message("out1").utf8), to: vendor) }
        let accepted = accept(listener, nil, nil)
        defer { close(accepted) }
        #expect(Self.read(accepted)?.contains("Call-ID: out1") == true)
        harness.loop.execute { transport.send(Array(Self.message("out2").utf8), to: vendor) }
        #expect(Self.read(accepted)?.contains("Call-ID: out2") == true, "the second message reuses the connection")
        var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        #expect(poll(&poller, 1, 200) == 0, "no second connection")
        // The vendor's answer on that connection is delivered with the vendor's address as source.
        _ = "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n".withCString { send(accepted, $0, strlen($0), 0) }
        let deadline = Date().addingTimeInterval(2)
        while harness.received.isEmpty && Date() < deadline { usleep(10_000) }
        #expect(harness.received.first?.1 == vendor)
    }

    @Test func connectionsPerSourceAreLimitedAndIdleOnesClosed() throws {
        var limits = TCPTransportLimits()
        limits.maximumConnectionsPerSource = 2
        limits.idleTimeout = Duration.seconds(1)
        let harness = try Harness(limits: limits)
        defer { harness.stop() }
        let port = harness.transport.localAddress.port
        let first = try Self.connectedClient(to: port), second = try Self.connectedClient(to: port)
        let third = try Self.connectedClient(to: port)
        defer { [first, second, third].forEach { close($0) } }
        #expect(Self.isClosed(third, milliseconds: 1000), "the third connection from one IP is refused")
        #expect(!Self.isClosed(first, milliseconds: 200))
        // Idle for over a second with no transaction: closed by the sweep (every second).
        #expect(Self.isClosed(first, milliseconds: 4000), "idle connection closed")
        #expect(Self.isClosed(second, milliseconds: 1000))
    }

    @Test func aPeerInUseIsNotClosedWhenIdle() throws {
        var limits = TCPTransportLimits()
        limits.idleTimeout = Duration.seconds(1)
        let harness = try Harness(limits: limits)
        defer { harness.stop() }
        harness.transport.isInUse = { _ in true }
        let client = try Self.connectedClient(to: harness.transport.localAddress.port)
        defer { close(client) }
        #expect(!Self.isClosed(client, milliseconds: 3000), "a call in progress keeps its connection")
    }
}
