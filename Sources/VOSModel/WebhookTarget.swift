/// A webhook target as the operator stores it (issue 15; requirements §11 "HTTP call-state
/// reporting: configurable target, retries and retry interval"): where alarms and call-state events
/// are POSTed as JSON, and how hard delivery tries. Only the value and its validation live here;
/// delivery is Telemetry's `WebhookDelivery`.
public struct WebhookTarget: Sendable, Hashable, Codable {
    /// Which events a target receives.
    public enum Events: String, Sendable, Codable, CaseIterable {
        /// `alarm.raised` and `alarm.cleared`.
        case alarms
        /// `call.start`, `call.answer` and `call.end` (the stored CDR).
        case calls
    }

    public var name: String
    /// `http://HOST[:PORT][/PATH]`: see `WebhookURL`.
    public var url: String
    public var events: [Events]
    /// Attempts after the first one failed (0 = one attempt only).
    public var retries: Int
    public var retryIntervalSeconds: Int
    /// Per attempt: connecting, sending and reading the response.
    public var timeoutSeconds: Int

    public init(name: String, url: String, events: [Events] = [.alarms], retries: Int = WebhookTarget.defaultRetries,
                retryIntervalSeconds: Int = WebhookTarget.defaultRetryIntervalSeconds,
                timeoutSeconds: Int = WebhookTarget.defaultTimeoutSeconds) {
        self.name = name
        self.url = url
        self.events = events
        self.retries = retries
        self.retryIntervalSeconds = retryIntervalSeconds
        self.timeoutSeconds = timeoutSeconds
    }

    public static let defaultRetries = 3
    public static let defaultRetryIntervalSeconds = 5
    public static let defaultTimeoutSeconds = 5
    public static let retriesRange = 0...100
    public static let retryIntervalRange = 1...3_600
    public static let timeoutRange = 1...60

    public func receives(_ kind: Events) -> Bool { events.contains(kind) }

    public func validate() throws(ModelError) {
        try GatewayName.validate(name, field: "webhook name")
        _ = try WebhookURL(parsing: url, field: "webhook '\(name)' URL")
        guard !events.isEmpty else {
            throw ModelError.missing(field: "webhook '\(name)' events (alarms, calls or both)")
        }
        guard Set(events).count == events.count else {
            throw ModelError.invalid(field: "webhook '\(name)' events", value: events.map(\.rawValue).joined(separator: ","),
                                     expected: "each of alarms, calls at most once")
        }
        try Self.check(retries, in: Self.retriesRange, field: "webhook '\(name)' retries")
        try Self.check(retryIntervalSeconds, in: Self.retryIntervalRange, field: "webhook '\(name)' retry interval seconds")
        try Self.check(timeoutSeconds, in: Self.timeoutRange, field: "webhook '\(name)' timeout seconds")
    }

    private static func check(_ value: Int, in range: ClosedRange<Int>, field: String) throws(ModelError) {
        guard range.contains(value) else {
            throw ModelError.outOfRange(field: field, value: String(value), range: "\(range.lowerBound)-\(range.upperBound)")
        }
    }
}

/// A webhook's address: plain `http://` only. https is refused because the appliance build links
/// no TLS library (its Debian package carries the Swift runtime and the C libraries of
/// `tools/setup.sh`, none of them TLS); a receiver elsewhere is reached through a local TLS proxy.
public struct WebhookURL: Sendable, Hashable, CustomStringConvertible {
    /// A name or an address (IPv6 without its brackets).
    public var host: String
    public var port: Int
    /// Path and query, starting with `/`.
    public var path: String

    /// The host as parsed when it is an address, so no resolver is asked.
    public var address: IPAddress? { IPAddress(host) }

    /// The `Host` header: the host (IPv6 in brackets) with the port unless it is 80.
    public var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == 80 ? name : "\(name):\(port)"
    }

    public var description: String { "http://\(hostHeader)\(path)" }

    public init(parsing text: String, field: String = "URL") throws(ModelError) {
        let trimmed = text.trimmingSpaces
        let lower = trimmed.lowercased()
        if lower.hasPrefix("https://") {
            throw ModelError.invalid(field: field, value: text, expected: "an http:// URL: https is not supported because the vos appliance build has no TLS library; point the webhook at a local TLS proxy (e.g. stunnel or nginx) instead")
        }
        guard lower.hasPrefix("http://") else {
            throw ModelError.invalid(field: field, value: text, expected: "an http:// URL such as http://192.0.2.10:8080/vos")
        }
        let rest = trimmed.dropFirst("http://".count)
        let slash = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<slash]
        var path = String(rest[slash...])
        if path.isEmpty { path = "/" } else if path.first == "?" { path = "/" + path }
        guard !path.contains("#"), path.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "\u{7f}" && ($0.asciiValue ?? 0) >= 0x20 }) else {
            throw ModelError.invalid(field: field, value: text, expected: "a path of printable ASCII without spaces or a #fragment")
        }
        guard !authority.contains("@") else {
            throw ModelError.invalid(field: field, value: text, expected: "a URL without user:password@ (vos sends no credentials)")
        }
        var hostText = Substring(authority)
        var portText: Substring?
        if hostText.first == "[" {
            guard let close = hostText.firstIndex(of: "]") else {
                throw ModelError.invalid(field: field, value: text, expected: "an IPv6 address in brackets, e.g. http://[2001:db8::1]:8080/")
            }
            let after = hostText[hostText.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":" else {
                    throw ModelError.invalid(field: field, value: text, expected: "':PORT' after the bracketed IPv6 address")
                }
                portText = after.dropFirst()
            }
            hostText = hostText[hostText.index(after: hostText.startIndex)..<close]
            guard let address = IPAddress(hostText), !address.isIPv4 else {
                throw ModelError.invalid(field: field, value: text, expected: "an IPv6 address inside the brackets")
            }
        } else if let colon = hostText.firstIndex(of: ":") {
            let after = hostText[hostText.index(after: colon)...]
            guard !after.contains(":") else {
                throw ModelError.invalid(field: field, value: text, expected: "an IPv6 address in brackets, e.g. http://[2001:db8::1]:8080/")
            }
            portText = after
            hostText = hostText[..<colon]
        }
        guard !hostText.isEmpty else { throw ModelError.missing(field: "\(field) host") }
        let isAddress = IPAddress(hostText) != nil
        if !isAddress {
            // A DNS name: labels of letters, digits and '-', as resolvers accept.
            let labels = hostText.split(separator: ".", omittingEmptySubsequences: false)
            guard hostText.count <= 253, labels.allSatisfy({ label in
                !label.isEmpty && label.count <= 63 && label.first != "-" && label.last != "-"
                    && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            }) else {
                throw ModelError.invalid(field: field, value: text, expected: "a host name or IP address")
            }
        }
        var port = 80
        if let portText {
            guard let parsed = Int(portText), (1...65535).contains(parsed) else {
                throw ModelError.invalid(field: field, value: text, expected: "a port 1-65535 after the host")
            }
            port = parsed
        }
        host = isAddress ? (IPAddress(hostText)?.description ?? String(hostText)) : String(hostText).lowercased()
        self.port = port
        self.path = path
    }
}
