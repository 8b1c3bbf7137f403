import CVOSSys
import Foundation
import Sockets
#if canImport(Glibc)
import Glibc
#endif

/// Listens on a Unix socket and serves the protocol: one thread per connection (the controller
/// keeps one or two open, vosctl comes and goes), each line decoded, handed to the handler and
/// answered in order; lines a client pipelined are taken together. A bad line gets an error
/// reply; only an over-long line closes the connection.
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
        let thread = Thread { [self] in
            vos_set_thread_name("mediad-accept")
            acceptLoop()
        }
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
            let thread = Thread { [self] in
                vos_set_thread_name("mediad-control")
                serve(connection)
            }
            thread.start()
        }
        close(listenFD)
    }

    /// At most this many pipelined lines are taken and answered together.
    static let maximumBatch = 256

    private func serve(_ connection: ControlConnection) {
        defer {
            broadcaster.remove(connection)
            _ = lock.withLock { connections.removeValue(forKey: ObjectIdentifier(connection)) }
        }
        while true {
            var lines: [[UInt8]] = []
            do {
                guard let next = try connection.stream.readLine() else { return }
                lines.append(next)
                while lines.count < Self.maximumBatch, let more = connection.stream.bufferedLine() { lines.append(more) }
            } catch {
                _ = reply(.failure(id: 0, error), on: connection)
                return
            }
            let requests = lines.filter { !$0.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") } }
            guard !requests.isEmpty else { continue }
            guard reply(respond(to: requests, on: connection), on: connection) else { return }
        }
    }

    /// Answers lines in order. Consecutive media requests go to the handler as one batch (a
    /// pipelining client's deletes are carried out together); the rest are answered here.
    private func respond(to lines: [[UInt8]], on connection: ControlConnection) -> [MediaResponse] {
        var responses: [MediaResponse?] = Array(repeating: nil, count: lines.count)
        var media: [(index: Int, request: MediaRequest)] = []
        func flushMedia() {
            guard !media.isEmpty else { return }
            for (entry, result) in zip(media, handler.handle(batch: media.map(\.request))) {
                switch result {
                case let .success(sessions): responses[entry.index] = .success(id: entry.request.id, sessions: sessions)
                case let .failure(failure): responses[entry.index] = .failure(id: entry.request.id, failure)
                }
            }
            media.removeAll()
        }
        for (index, line) in lines.enumerated() {
            let request: MediaRequest
            switch MediaControlCodec.decodeRequest(line) {
            case let .success(decoded): request = decoded
            case let .failure(problem):
                responses[index] = .failure(id: problem.id, problem.failure)
                continue
            }
            switch request.op {
            case .ping, .subscribe:
                flushMedia()
                if request.op == .subscribe { broadcaster.add(connection) }
                responses[index] = .success(id: request.id)
            case let op where op.isFirewall:
                flushMedia()
                guard let firewall else {
                    responses[index] = .failure(id: request.id, .init(.firewallUnavailable, "this daemon was started without the firewall service"))
                    continue
                }
                do { responses[index] = .success(id: request.id, firewall: try firewall.handleFirewall(request)) } catch {
                    responses[index] = .failure(id: request.id, error)
                }
            default:
                media.append((index, request))
            }
        }
        flushMedia()
        return responses.enumerated().map { index, response in
            response ?? .failure(id: 0, .init(.internalError, "request \(index) of a batch was not answered"))
        }
    }

    /// Writes the replies to a batch in one send.
    private func reply(_ responses: [MediaResponse], on connection: ControlConnection) -> Bool {
        var lines: [UInt8] = []
        for response in responses {
            do { lines += try MediaControlCodec.encode(response) } catch {
                onError("cannot encode a reply: \(error)")
                lines += Array("{\"version\":1,\"id\":\(response.id),\"ok\":false,\"error\":{\"code\":\"internalError\",\"message\":\"reply could not be encoded\"}}\n".utf8)
            }
        }
        return connection.send(lines)
    }

    private func reply(_ response: MediaResponse, on connection: ControlConnection) -> Bool {
        reply([response], on: connection)
    }
}
