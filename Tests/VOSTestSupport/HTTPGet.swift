import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plain HTTP/1.0 GET over a socket to an IPv4 address, for tests that read what a server
/// shows (a daemon's /metrics, Prometheus' API): HTTP/1.0 so the answer is never chunked and
/// ends with the connection. Bounded by a receive timeout.
public struct HTTPGet: Sendable {
    public let status: Int
    /// Lower-cased names.
    public let headers: [String: String]
    public let body: String

    public init(host: String = "127.0.0.1", port: Int, path: String, method: String = "GET", timeoutSeconds: Int = 10) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure("socket: errno \(errno)") }
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var remote = sockaddr_in()
        remote.sin_family = sa_family_t(AF_INET)
        remote.sin_port = UInt16(port).bigEndian
        guard inet_pton(AF_INET, host, &remote.sin_addr) == 1 else { throw Failure("\(host) is not an IPv4 address") }
        let connected = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure("connect \(host):\(port): errno \(errno)") }
        let request = Array("\(method) \(path) HTTP/1.0\r\nHost: \(host):\(port)\r\nUser-Agent: vos-tests\r\n\r\n".utf8)
        let written = request.withUnsafeBytes { send(descriptor, $0.baseAddress, request.count, Int32(MSG_NOSIGNAL)) }
        guard written == request.count else { throw Failure("send to \(host):\(port): errno \(errno)") }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count == 0 { break }
            guard count > 0 else { throw Failure("no complete answer from \(host):\(port)\(path) within \(timeoutSeconds) s (errno \(errno))") }
            response += chunk[0..<count]
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw Failure("not an HTTP answer from \(host):\(port)\(path): \(text.prefix(200))") }
        let lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        let statusParts = lines.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, let code = Int(statusParts[1]) else { throw Failure("bad status line: \(lines.first ?? "")") }
        status = code
        var fields: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        headers = fields
        body = String(text[split.upperBound...])
    }

    /// `text` with `%`-escapes for a URL query value.
    public static func queryEscaped(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
