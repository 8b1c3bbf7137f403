import Dispatch
import Foundation
import Logging
import MediaControl
import SIPCore
import SIPStack
import VOSModel

/// Watches untrusted SIP at the application layer and asks vos-mediad to put the source in the
/// firewall's ban set. The kernel already drops scanner User-Agents in UDP packets and method
/// floods; this catches what only the SIP layer sees: a scanner UA the kernel cannot match
/// (TCP segments, unusual framing), repeated 403s / authentication failures, and extension
/// enumeration (many distinct callee users from one source in a short window).
///
/// @unchecked Sendable: the counters are confined to the event loop thread (the B2BUA calls in
/// from there); the only cross-thread state is the sender's queue and its lock-guarded backlog.
/// The loop never touches a socket: bans are handed to a serial queue and sent from there.
public final class BanFeed: @unchecked Sendable {
    /// When a source is banned. Constants rather than parameters for now: they only matter
    /// for sources that are not gateways, and the ban length is SS_FIREWALL_BAN_TIME.
    public struct Thresholds: Sendable {
        /// 403 / authentication failures from one source within `windowSeconds` that trigger a ban.
        public var forbiddenPerWindow = 5
        /// Distinct callee users from one source within `windowSeconds` that trigger a ban.
        public var distinctCalleesPerWindow = 10
        public var windowSeconds: UInt64 = 60
        /// Sources tracked at once; beyond it the oldest windows are forgotten (memory bound
        /// under a spoofed-source flood).
        public var maximumTrackedSources = 50_000

        public init() {}
    }

    struct Window {
        var startedAt: UInt64
        var forbidden = 0
        var callees: Set<String> = []
    }

    private let thresholds: Thresholds
    private let sender: BanSender
    private let logger: Logger
    private let clock: @Sendable () -> UInt64
    private var windows: [String: Window] = [:]
    /// Sources already reported, until when (ms): packets of the same attack that were in flight
    /// before the kernel ban took hold do not send the same ban again. Short, so a source an
    /// operator unbanned is banned again if it carries on.
    private var reported: [String: UInt64] = [:]
    static let repeatSuppressionMilliseconds: UInt64 = 2000
    private var trustedGeneration: UInt64?
    private var trustedSources: Set<String> = []

    /// `controlPath` is vos-mediad's control socket. `clock` returns monotonic milliseconds.
    public init(controlPath: String, logger: Logger, thresholds: Thresholds = Thresholds(),
                clock: @escaping @Sendable () -> UInt64 = { MonotonicTime.now() / 1_000_000 }) {
        self.thresholds = thresholds
        self.logger = logger
        self.clock = clock
        sender = BanSender(controlPath: controlPath, logger: logger)
    }

    /// Looks at an incoming request before the B2BUA handles it. Returns true when the request
    /// comes from a scanner and must get no answer at all (an answer confirms a live target).
    public func shouldSilence(_ request: SIPMessage, from source: SocketAddress, snapshot: ControllerSnapshot) -> Bool {
        guard !isTrusted(source.ip, snapshot) else { return false }
        if let agent = request.firstHeaderValue("User-Agent")?.lowercased(),
           let scanner = snapshot.parameters.list(.firewallScannerUserAgents).first(where: { agent.contains($0.lowercased()) }) {
            report(source.ip, reason: "scanner User-Agent \(scanner) (SIP layer)")
            return true
        }
        // Only requests outside a dialog name a new callee; enumeration tools send exactly those.
        let toTag = (try? request.to())?.tag
        guard toTag == nil, let user = calleeUser(request), !user.isEmpty else { return false }
        var window = currentWindow(source.ip)
        window.callees.insert(user)
        windows[source.ip] = window
        if window.callees.count > thresholds.distinctCalleesPerWindow {
            report(source.ip, reason: "extension enumeration: \(window.callees.count) callees in \(thresholds.windowSeconds)s")
        }
        return false
    }

    /// The B2BUA answered this source 403 (unknown caller, failed authentication).
    public func forbidden(_ source: SocketAddress, snapshot: ControllerSnapshot) {
        guard !isTrusted(source.ip, snapshot) else { return }
        var window = currentWindow(source.ip)
        window.forbidden += 1
        windows[source.ip] = window
        if window.forbidden >= thresholds.forbiddenPerWindow {
            report(source.ip, reason: "\(window.forbidden) 403/auth failures in \(thresholds.windowSeconds)s")
        }
    }

    /// Bans `source` now (a gateway suspended after failed authentications): the count is the
    /// gateway's, already past its limit. Trusted sources are still never banned.
    public func ban(_ source: String, reason: String, snapshot: ControllerSnapshot) {
        guard !isTrusted(source, snapshot) else { return }
        report(source, reason: reason)
    }

    // MARK: Internals

    /// REGISTER names the account in To; every other request names the callee in the
    /// Request-URI (svwar uses either, depending on its -m option).
    private func calleeUser(_ request: SIPMessage) -> String? {
        if request.method == "REGISTER" { return (try? request.to())?.uri.decodedUser }
        return request.requestURI?.decodedUser
    }

    private func currentWindow(_ source: String) -> Window {
        let now = clock()
        if let window = windows[source], now &- window.startedAt < thresholds.windowSeconds * 1000 { return window }
        if windows.count >= thresholds.maximumTrackedSources { forgetExpired(now) }
        return Window(startedAt: now)
    }

    private func forgetExpired(_ now: UInt64) {
        let span = thresholds.windowSeconds * 1000
        windows = windows.filter { now &- $0.value.startedAt < span }
        reported = reported.filter { $0.value > now }
        // Still full: every entry is fresh, i.e. a spoofed-source flood. Start over rather than grow.
        if windows.count >= thresholds.maximumTrackedSources { windows.removeAll(keepingCapacity: true) }
    }

    /// Gateways are never banned from here: their UDP source can be spoofed, and the ban rule
    /// runs before the trusted accept. vos-mediad refuses such bans too (defence in depth).
    private func isTrusted(_ ip: String, _ snapshot: ControllerSnapshot) -> Bool {
        if trustedGeneration != snapshot.generation {
            var sources = Set(snapshot.mappingGateways.values.flatMap { $0.ips.map(\.description) })
            sources.formUnion(snapshot.vendorAddresses.values.map(\.ip))
            trustedSources = sources
            trustedGeneration = snapshot.generation
        }
        return trustedSources.contains(ip)
    }

    private func report(_ source: String, reason: String) {
        let now = clock()
        if let until = reported[source], until > now { return }
        reported[source] = now + Self.repeatSuppressionMilliseconds
        windows[source] = nil
        logger.notice("banning \(source): \(reason)")
        sender.send(address: source, reason: reason)
    }
}

/// Sends bans to vos-mediad from its own serial queue, reconnecting when the daemon restarts.
/// The backlog is bounded: under an attack from thousands of sources the newest bans beyond it
/// are dropped (the kernel flood rules still hold) instead of queueing without limit.
final class BanSender: @unchecked Sendable {
    // @unchecked: `client` is only used on `queue`; `backlog` is guarded by `lock`.
    private let controlPath: String
    private let logger: Logger
    private let queue = DispatchQueue(label: "vos.ban-feed")
    private let lock = NSLock()
    private var backlog = 0
    private var client: MediaControlClient?
    static let maximumBacklog = 1024

    init(controlPath: String, logger: Logger) {
        self.controlPath = controlPath
        self.logger = logger
    }

    func send(address: String, reason: String) {
        let accepted = lock.withLock { () -> Bool in
            guard backlog < Self.maximumBacklog else { return false }
            backlog += 1
            return true
        }
        guard accepted else {
            logger.warning("ban feed backlog full: ban of \(address) (\(reason)) not sent")
            return
        }
        queue.async { [self] in
            defer { lock.withLock { backlog -= 1 } }
            do throws(MediaControlFailure) {
                let connected: MediaControlClient
                if let client { connected = client } else {
                    connected = try MediaControlClient(path: controlPath, replyTimeoutMilliseconds: 2000)
                    client = connected
                }
                _ = try connected.firewall(.ban, address: address, reason: reason)
            } catch {
                if error.code == .connectionFailed { client = nil }
                logger.error("cannot ban \(address) through vos-mediad (\(reason)): \(error.message)")
            }
        }
    }
}
