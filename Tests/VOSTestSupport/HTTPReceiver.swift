import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real HTTP/1.1 receiver on 127.0.0.1 for webhook tests: it records every request (method, path,
/// headers, body) and answers each with the next status queued by `answer(_:)`, else 200. It can be
/// stopped (listener and open connections closed: the target is down) and started again on the same
/// port. Plain sockets and one thread per connection; bounded by the test that owns it.
public final class HTTPReceiver: @unchecked Sendable {
    // @unchecked: every mutable member is guarded by `lock`.
    public struct Request: Sendable {
        public let method: String
        public let path: String
        /// Lower-cased names.
        public let headers: [String: String]
        public let body: String

        /// The body as a JSON object (nil when it is not one).
        public var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
        }
    }

    public private(set) var port: Int = 0
    private let lock = NSLock()
    private var listener: Int32 = -1
    private var connections: Set<Int32> = []
    private var received: [Request] = []
    private var statuses: [Int] = []
    private var answerDelay: Double = 0
    private var keepsAlive = true

    /// Listens on `port` (0: any free port).
    public init(port: Int = 0) throws {
        try listen(port: port)
    }

    deinit { stop() }

    /// Listens again on the port it had (after `stop`).
    public func start() throws {
        try listen(port: port)
    }

    /// Closes the listener and every open connection: new connections are refused.
    public func stop() {
        lock.lock()
        let open = connections
        let socket = listener
        connections = []
        listener = -1
        lock.unlock()
        if socket >= 0 {
            shutdown(socket, Int32(SHUT_RDWR))
            close(socket)
        }
        for connection in open { shutdown(connection, Int32(SHUT_RDWR)) }
    }

    /// The next answers' status codes, in order; 200 once they are used up.
    public func answer(_ codes: Int...) {
        lock.withLock { statuses += codes }
    }

    /// Seconds to wait before each answer (time-out tests).
    public func delayAnswers(_ seconds: Double) {
        lock.withLock { answerDelay = seconds }
    }

    /// false: answer with `Connection: close` and close after each request.
    public func keepAlive(_ on: Bool) {
        lock.withLock { keepsAlive = on }
    }

    public var requests: [Request] { lock.withLock { received } }

    /// Waits until `count` requests arrived (or `seconds` pass) and returns all of them.
    @discardableResult
    public func waitFor(_ count: Int, seconds: Double = 10) -> [Request] {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline, requests.count < count { usleep(20_000) }
        return requests
    }

    private func listen(port wanted: Int) throws {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw Failure("HTTP receiver: socket: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(wanted).bigEndian
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(socket, 64) == 0 else {
            let code = errno
            close(socket)
            throw Failure("HTTP receiver: bind/listen 127.0.0.1:\(wanted): errno \(code)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        lock.withLock {
            listener = socket
            port = Int(UInt16(bigEndian: address.sin_port))
        }
        let thread = Thread { [self] in
            while true {
                let connection = accept(socket, nil, nil)
                if connection < 0 {
                    if errno == EINTR { continue }
                    return
                }
                let open = lock.withLock { () -> Bool in
                    guard listener == socket else { return false }
                    connections.insert(connection)
                    return true
                }
                guard open else {
                    close(connection)
                    return
                }
                Thread { [self] in serve(connection) }.start()
            }
        }
        thread.start()
    }

    private func serve(_ connection: Int32) {
        defer {
            lock.withLock { _ = connections.remove(connection) }
            close(connection)
        }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            // Headers up to the blank line, then Content-Length bytes of body.
            let end: Int
            while true {
                if let found = findBlankLine(buffer) { end = found; break }
                // The client closed the connection: this server thread ends.
                let count = read(connection, &chunk, chunk.count)
                if count <= 0 { return }
                buffer += chunk[0..<count]
            }
            let headText = String(decoding: buffer[0..<end], as: UTF8.self)
            var lines = headText.components(separatedBy: "\r\n")
            let requestLine = lines.removeFirst().split(separator: " ")
            var headers: [String: String] = [:]
            for line in lines {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let length = Int(headers["content-length"] ?? "0") ?? 0
            let bodyStart = end + 4
            while buffer.count < bodyStart + length {
                let count = read(connection, &chunk, chunk.count)
                if count <= 0 { return }
                buffer += chunk[0..<count]
            }
            let body = String(decoding: buffer[bodyStart..<(bodyStart + length)], as: UTF8.self)
            buffer.removeFirst(bodyStart + length)
            let (status, delay, keepAlive) = lock.withLock { () -> (Int, Double, Bool) in
                received.append(Request(method: requestLine.first.map(String.init) ?? "", path: requestLine.count > 1 ? String(requestLine[1]) : "",
                                        headers: headers, body: body))
                return (statuses.isEmpty ? 200 : statuses.removeFirst(), answerDelay, keepsAlive)
            }
            if delay > 0 { usleep(UInt32(delay * 1_000_000)) }
            let reply = "HTTP/1.1 \(status) \(status < 300 ? "OK" : "Failure")\r\nContent-Length: 2\r\n" + (keepAlive ? "" : "Connection: close\r\n") + "\r\nok"
            let bytes = Array(reply.utf8)
            _ = bytes.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if !keepAlive { return }
        }
    }

    private func findBlankLine(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4) where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index
        }
        return nil
    }
}
