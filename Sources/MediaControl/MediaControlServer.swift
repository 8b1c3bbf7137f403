import Foundation
import Sockets
#if canImport(Glibc)
import Glibc
#endif

/// Listens on a Unix socket and serves the protocol: one thread per connection (the controller
/// keeps one or two open, vosctl comes and goes), each line decoded, handed to the handler and
/// answered. A bad line gets an error reply; only an over-long line closes the connection.
public final class MediaControlServer: @unchecked Sendable {
    // @unchecked: `connections` and `stopped` are guarded by `lock`; the rest is immutable.
    public let path: String
    private let handler: any MediaControlHandler
    private let firewall: (any FirewallControlHandler)?
    private let broadcaster: MediaEventBroadcaster
    private let listenFD: Int32
    private let lock = ControlPathLock()
    private var connections: [ObjectIdentifier: ControlConnection] = [:]
    private var stopped = false
    private let onError: @Sendable (String) -> Void

    /// Binds and listens (a stale socket file from a previous run is removed first); `start`
    /// begins accepting.
    public init(path: String, handler: any MediaControlHandler, broadcaster: MediaEventBroadcaster,
                firewall: (any FirewallControlHandler)? = nil,
                onError: @escaping @Sendable (String) -> Void = { _ in }) throws(MediaControlFailure) {
        self.path = path
        self.handler = handler
        self.firewall = firewall
        self.broadcaster = broadcaster
        self.onError = onError
        do { listenFD = try UnixSocket.listen(path: path, backlog: 64) } catch {
            throw MediaControlFailure(.socketFailure, error.description)
        }
    }

    public func start() {
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "mediad-control-accept"
        thread.start()
    }

    /// Stops accepting, closes every connection and removes the socket file.
    public func stop() {
        let open = lock.withLock { () -> [ControlConnection] in
            stopped = true
            return Array(connections.values)
        }
        _ = shutdown(listenFD, Int32(SHUT_RDWR))
        open.forEach { $0.stream.shutdownBoth() }
        unlink(path)
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listenFD, nil, nil)
            if fd < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                if lock.withLock({ stopped }) { break }
                onError("accept on \(path): \(errnoText())")
                usleep(100_000)
                continue
            }
            let connection = ControlConnection(stream: UnixStream(fd: fd))
            let accepted = lock.withLock { () -> Bool in
                guard !stopped else { return false }
                connections[ObjectIdentifier(connection)] = connection
                return true
            }
            guard accepted else { break }
            let thread = Thread { [self] in serve(connection) }
            thread.name = "mediad-control"
            thread.start()
        }
        close(listenFD)
    }

    private func serve(_ connection: ControlConnection) {
        defer {
            broadcaster.remove(connection)
            _ = lock.withLock { connections.removeValue(forKey: ObjectIdentifier(connection)) }
        }
        while true {
            let line: [UInt8]
            do {
                guard let next = try connection.stream.readLine() else { return }
                line = next
            } catch {
                _ = reply(.failure(id: 0, error), on: connection)
                return
            }
            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { continue }
            guard reply(respond(to: line, on: connection), on: connection) else { return }
        }
    }

    private func respond(to line: [UInt8], on connection: ControlConnection) -> MediaResponse {
        let request: MediaRequest
        switch MediaControlCodec.decodeRequest(line) {
        case let .success(decoded): request = decoded
        case let .failure(problem): return .failure(id: problem.id, problem.failure)
        }
        switch request.op {
        case .ping:
            return .success(id: request.id)
        case .subscribe:
            broadcaster.add(connection)
            return .success(id: request.id)
        case let op where op.isFirewall:
            guard let firewall else {
                return .failure(id: request.id, .init(.firewallUnavailable, "this daemon was started without the firewall service"))
            }
            do { return .success(id: request.id, firewall: try firewall.handleFirewall(request)) } catch {
                return .failure(id: request.id, error)
            }
        default:
            do { return .success(id: request.id, sessions: try handler.handle(request)) } catch {
                return .failure(id: request.id, error)
            }
        }
    }

    private func reply(_ response: MediaResponse, on connection: ControlConnection) -> Bool {
        do { return connection.send(try MediaControlCodec.encode(response)) } catch {
            onError("cannot encode a reply: \(error)")
            return connection.send(Array("{\"version\":1,\"id\":\(response.id),\"ok\":false,\"error\":{\"code\":\"internalError\",\"message\":\"reply could not be encoded\"}}\n".utf8))
        }
    }
}
