/// An IP address and UDP port as the protocol carries it: `"192.0.2.1:4000"` or `"[2001:db8::1]:4000"`.
/// Only the text form is checked here: it holds what SDP and the controller wrote (the address
/// may not even be numeric), and the relay refuses what it cannot use with its own error. The
/// socket address (`Sockets.SocketAddress`) is made from it in one place, MediaRelay's
/// `SocketAddress(_:)`, which vos-mediad's kernel tables use too.
public struct MediaEndpoint: Sendable, Hashable, Codable, CustomStringConvertible {
    public let ip: String
    public let port: Int

    public init(ip: String, port: Int) {
        self.ip = ip
        self.port = port
    }

    /// Parses `ip:port` or `[ipv6]:port`; the port must be 1-65535.
    public init(parsing text: String) throws(MediaControlFailure) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw MediaControlFailure(.invalidAddress, "\"\(text)\" is not [IPv6]:port")
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
                throw MediaControlFailure(.invalidAddress, "\"\(text)\" is not IPv4:port (write IPv6 as [addr]:port)")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let port = Int(portText), (1...65535).contains(port) else {
            throw MediaControlFailure(.invalidAddress, "\"\(text)\" needs an address and a port 1-65535")
        }
        self.init(ip: String(host), port: port)
    }

    public var description: String { ip.utf8.contains(UInt8(ascii: ":")) ? "[\(ip)]:\(port)" : "\(ip):\(port)" }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { self = try MediaEndpoint(parsing: text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
