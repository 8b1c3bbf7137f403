import VOSModel

/// An IPv4 or IPv6 address and a port: where a datagram or connection comes from or goes to.
///
/// The one socket address of vos (SIP transports, media relay, kernel offload tables, route
/// lookups). A plain value, so building one from the kernel's `sockaddr_storage` on a
/// per-datagram path, copying, comparing and hashing it allocate nothing; only the text forms
/// (`ip`, `host`, `description`) build strings. The kernel form is read and written in one
/// place, `SocketAddress+Kernel.swift`.
public struct SocketAddress: Hashable, Sendable, CustomStringConvertible {
    public enum Family: Sendable { case v4, v6 }

    public let address: IPAddress
    public let port: UInt16

    public init(_ address: IPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// A numeric IP (no DNS; IPv6 may be in brackets) and a port 0-65535.
    public init(ip: String, port: Int) throws(InvalidSocketAddress) {
        let bare = ip.hasPrefix("[") && ip.hasSuffix("]") ? ip.dropFirst().dropLast() : Substring(ip)
        guard let address = IPAddress(bare) else { throw InvalidSocketAddress(text: ip, reason: "not an IPv4 or IPv6 address") }
        guard let number = UInt16(exactly: port) else { throw InvalidSocketAddress(text: "\(ip):\(port)", reason: "port out of 0-65535") }
        self.init(address, port: number)
    }

    /// Parses `IP:PORT` or `[IPv6]:PORT`.
    public init(parsing text: String) throws(InvalidSocketAddress) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw InvalidSocketAddress(text: text, reason: "expected [IPv6]:PORT") }
            host = text[text.index(after: text.startIndex)..<close]
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw InvalidSocketAddress(text: text, reason: "expected IP:PORT") }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard let port = UInt16(portText) else { throw InvalidSocketAddress(text: text, reason: "port out of 0-65535") }
        guard let address = IPAddress(host) else { throw InvalidSocketAddress(text: text, reason: "not an IPv4 or IPv6 address") }
        self.init(address, port: port)
    }

    public var family: Family { address.isIPv4 ? .v4 : .v6 }

    /// The address alone, as text (`203.0.113.5`, `2001:db8::1`).
    public var ip: String { address.description }

    /// The address as the host of `HOST:PORT` or of a URI (SIP, RFC 3986): IPv6 in brackets.
    public var host: String { address.uriHost }

    /// `203.0.113.5:5060`, `[2001:db8::1]:5060`.
    public var description: String { "\(host):\(port)" }
}

/// Text that is not a socket address, with what was expected.
public struct InvalidSocketAddress: Error, Sendable, Equatable, CustomStringConvertible {
    public let text: String
    public let reason: String

    public var description: String { "invalid address '\(text)': \(reason)" }
}
