/// Where a vendor gateway is reached: host (IP or DNS name), port and transport.
public struct SIPAddress: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Transport: String, Sendable, Codable, CaseIterable { case udp, tcp }

    public var host: String
    public var port: Int
    public var transport: Transport

    public init(host: String, port: Int = 5060, transport: Transport = .udp) {
        self.host = host
        self.port = port
        self.transport = transport
    }

    /// Parses `HOST:PORT`, `HOST`, `[IPv6]:PORT`; the port defaults to 5060.
    public init(parsing text: String, field: String = "address") throws(ModelError) {
        let trimmed = text.trimmingSpaces
        var host = trimmed
        var port = 5060
        if trimmed.hasPrefix("[") {
            guard let close = trimmed.firstIndex(of: "]") else {
                throw ModelError.invalid(field: field, value: text, expected: "[IPv6]:PORT")
            }
            host = String(trimmed[trimmed.index(after: trimmed.startIndex)..<close])
            let rest = trimmed[trimmed.index(after: close)...]
            if !rest.isEmpty {
                guard rest.first == ":", let parsed = Int(rest.dropFirst()) else {
                    throw ModelError.invalid(field: field, value: text, expected: "[IPv6]:PORT")
                }
                port = parsed
            }
            _ = try IPAddress(parsing: host, field: field)
        } else if trimmed.filter({ $0 == ":" }).count == 1, let colon = trimmed.firstIndex(of: ":") {
            host = String(trimmed[..<colon])
            guard let parsed = Int(trimmed[trimmed.index(after: colon)...]) else {
                throw ModelError.invalid(field: field, value: text, expected: "HOST:PORT with a numeric port")
            }
            port = parsed
        } else if trimmed.contains(":") {
            _ = try IPAddress(parsing: trimmed, field: field)
        }
        guard (1...65535).contains(port) else {
            throw ModelError.outOfRange(field: "\(field) port", value: String(port), range: "1-65535")
        }
        guard SIPAddress.isValidHost(host) else {
            throw ModelError.invalid(field: field, value: text, expected: "an IP address or DNS name, optionally with :PORT")
        }
        self.host = host
        self.port = port
        self.transport = .udp
    }

    static func isValidHost(_ host: String) -> Bool {
        if (try? IPAddress(parsing: host)) != nil { return true }
        guard !host.isEmpty, host.count <= 253 else { return false }
        // A dotted-quad-looking name that failed to parse as IPv4 (e.g. 300.1.1.1) is a typo, not a host name.
        if host.allSatisfy({ $0.isASCIIDigit || $0 == "." }) { return false }
        return host.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }

    public var description: String {
        host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
