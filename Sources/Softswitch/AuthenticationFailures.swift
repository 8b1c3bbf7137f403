import VOSModel

/// Counts failed digest authentications per mapping gateway in a fixed window and says when a
/// gateway must be suspended (requirements §7: "max auth retries then auto-suspend"). Pure: the
/// B2BUA passes time in (monotonic ms) and acts on the verdict (suspension, firewall ban).
public struct AuthenticationFailures: Sendable {
    public struct Settings: Sendable, Equatable {
        /// Failures within the window that suspend; 0 never suspends.
        public var limit: Int
        public var windowMilliseconds: UInt64

        public init(limit: Int = 5, windowMilliseconds: UInt64 = 60_000) {
            self.limit = limit
            self.windowMilliseconds = windowMilliseconds
        }

        public init(parameters: ParameterSet) {
            limit = parameters.int(.authMaxFailures)
            windowMilliseconds = UInt64(parameters.int(.authFailureWindow)) * 1000
        }
    }

    /// The gateway crossed the limit: suspend it, and ban where the failures came from.
    public struct Suspension: Sendable, Equatable {
        public var gateway: String
        public var failures: Int
        public var sources: [String]
        public var reason: String
    }

    private struct Window {
        var startedAt: UInt64
        var failures = 0
        var sources: [String] = []
    }

    public var settings: Settings
    private var windows: [String: Window] = [:]
    /// Gateways tracked at once; every one is a configured gateway, so this only bounds a store
    /// with very many of them.
    static let trackedLimit = 100_000

    public init(settings: Settings) { self.settings = settings }

    /// A failure of `gateway` from `source`; returns the suspension when this one crosses the limit.
    public mutating func record(gateway: String, source: String, reason: String, now: UInt64) -> Suspension? {
        guard settings.limit > 0 else { return nil }
        var window = windows[gateway].flatMap { now &- $0.startedAt < settings.windowMilliseconds ? $0 : nil } ?? Window(startedAt: now)
        window.failures += 1
        if !window.sources.contains(source) && window.sources.count < 16 { window.sources.append(source) }
        guard window.failures >= settings.limit else {
            if windows.count >= Self.trackedLimit { windows = windows.filter { now &- $0.value.startedAt < settings.windowMilliseconds } }
            windows[gateway] = window
            return nil
        }
        windows[gateway] = nil
        let seconds = settings.windowMilliseconds / 1000
        return Suspension(gateway: gateway, failures: window.failures, sources: window.sources,
                          reason: "\(window.failures) failed authentications in \(seconds) s (last: \(reason))")
    }

    /// Forgets a gateway's count (it was unsuspended by hand).
    public mutating func reset(_ gateway: String) { windows[gateway] = nil }
}
