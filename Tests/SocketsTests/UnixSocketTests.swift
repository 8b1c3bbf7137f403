import Foundation
import Testing
@testable import Sockets
#if canImport(Glibc)
import Glibc
#endif

@Suite struct UnixSocketTests {
    static func temporaryPath(_ name: String) -> String {
        NSTemporaryDirectory() + "vos-\(getpid())-\(name).sock"
    }

    @Test func listensConnectsAndReplacesAStaleFile() throws {
        let path = Self.temporaryPath("stream")
        #expect(FileManager.default.createFile(atPath: path, contents: Data("stale".utf8)))
        defer { unlink(path) }
        let listener = try UnixSocket.listen(path: path, backlog: 4)
        defer { close(listener) }
        var status = stat()
        #expect(stat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFSOCK && status.st_mode & 0o777 == 0o660)
        let client = try UnixSocket.connect(path: path)
        defer { close(client) }
        #expect(fcntl(client, F_GETFD) & FD_CLOEXEC != 0)
        let server = accept(listener, nil, nil)
        defer { close(server) }
        #expect(send(client, "ping", 4, 0) == 4)
        var buffer = [UInt8](repeating: 0, count: 8)
        #expect(recv(server, &buffer, buffer.count, 0) == 4 && Array(buffer.prefix(4)) == Array("ping".utf8))
    }

    @Test func sendsOneDatagramToAFileAndToAnAbstractName() throws {
        let path = Self.temporaryPath("datagram")
        defer { unlink(path) }
        for address in [try UnixSocketAddress(path: path), try UnixSocketAddress(path: "vos-test-\(getpid())", namespace: .abstract)] {
            let receiver = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            defer { close(receiver) }
            #expect(address.withSockaddr { bind(receiver, $0, $1) } == 0, "\(address)")
            try UnixSocket.sendDatagram(Array("READY=1".utf8), to: address)
            var buffer = [UInt8](repeating: 0, count: 16)
            let count = recv(receiver, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            #expect(count == 7 && String(decoding: buffer.prefix(max(count, 0)), as: UTF8.self) == "READY=1", "\(address)")
        }
    }

    @Test func failuresNameTheStepThePathAndTheReason() {
        let missing = Self.temporaryPath("missing")
        #expect(throws: UnixSocketError(.connect, missing, code: ENOENT)) { try UnixSocket.connect(path: missing) }
        #expect(UnixSocketError(.connect, missing, code: ENOENT).description == "cannot connect to \(missing): No such file or directory (errno 2)")
        let long = String(repeating: "x", count: 108)
        #expect(throws: UnixSocketError(.path, long, code: 0, detail: "must be 1-107 bytes")) { try UnixSocket.listen(path: long, backlog: 1) }
        #expect(throws: UnixSocketError.self) { try UnixSocketAddress(path: "") }
    }
}
