import CVOSSys
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import VOSModel
#if canImport(Glibc)
import Glibc
#endif

/// What one webhook target has done since it was configured.
public struct WebhookStatistics: Sendable, Equatable {
    /// Events the receiver answered with 2xx.
    public var delivered = 0
    /// Events given up on: retries used up, or a 4xx answer (retrying would not change it).
    public var failed = 0
    /// Events dropped unsent because the queue was full (the oldest go first).
    public var dropped = 0
    /// HTTP requests sent or tried, retries included.
    public var attempts = 0
    /// Events waiting, the one being sent included.
    public var queued = 0

    public init() {}
}

/// Webhook delivery (issue 15; requirements §11 "HTTP call-state reporting: configurable target,
/// retries and retry interval"): JSON events POSTed over HTTP/1.1 to each configured target that
/// takes them, from one thread of its own (`vos-webhooks`, a one-thread NIO event loop group), so the
/// SIP thread only hands an event over and never waits for a receiver. It owns the HTTP client, the
/// per-target queues, retries and time-outs; it must not decide what is an alarm or read the store:
/// the controller hands it targets and event bodies.
///
/// Per target, events go out one at a time, in the order they were posted, over a kept-alive
/// connection when the receiver allows one. A failed attempt (no connection, time-out, 5xx, 408,
/// 429) is repeated after the target's retry interval, up to its retries; a 4xx or 3xx answer is
/// final. While a target is down its queue grows to `queueLimit`; past that the oldest waiting
/// events are dropped and counted, and the count is logged. Plain http only: https is refused when
/// a target is stored (`WebhookURL`), as the appliance build carries no TLS library.
public final class WebhookDelivery: @unchecked Sendable {
    // @unchecked: `clients` is only touched on `loop`; `wanted` is atomic; the rest is immutable.
    public static let queueLimit = 10_000

    private let group: MultiThreadedEventLoopGroup
    let loop: any EventLoop
    private let logger: Logger
    private let queueLimit: Int
    private var clients: [String: WebhookClient] = [:]
    /// Bit per `WebhookTarget.Events` case that some target takes: read by posting threads.
    private let wanted = Atomic<UInt8>(0)

    public init(logger: Logger = Logger(label: "vos-webhooks"), queueLimit: Int = WebhookDelivery.queueLimit, threadName: String = "vos-webhooks") {
        self.logger = logger
        self.queueLimit = queueLimit
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        loop = group.next()
        loop.execute { vos_set_thread_name(threadName) }
    }

    private static func bit(_ events: WebhookTarget.Events) -> UInt8 {
        switch events {
        case .alarms: return 1
        case .calls: return 2
        }
    }

    /// Whether any target takes `events`: one atomic load, so a caller on the SIP thread skips
    /// building an event nobody receives.
    public func wants(_ events: WebhookTarget.Events) -> Bool {
        wanted.load(ordering: .relaxed) & Self.bit(events) != 0
    }

    /// Replaces the targets. A target whose settings did not change keeps its queue and
    /// connection; a removed or changed one is closed and what it still queued is dropped.
    public func configure(_ targets: [WebhookTarget]) {
        var valid: [(WebhookTarget, WebhookURL)] = []
        for target in targets {
            do { valid.append((target, try WebhookURL(parsing: target.url, field: "webhook '\(target.name)' URL"))) } catch {
                logger.error("webhook \(target.name) left out: \(error)")
            }
        }
        wanted.store(valid.reduce(0) { mask, entry in entry.0.events.reduce(mask) { $0 | Self.bit($1) } }, ordering: .relaxed)
        loop.execute { [self, valid] in
            var next: [String: WebhookClient] = [:]
            for (target, url) in valid {
                if let existing = clients[target.name], existing.target == target {
                    next[target.name] = existing
                } else {
                    next[target.name] = WebhookClient(target: target, url: url, loop: loop, queueLimit: queueLimit, logger: logger)
                }
            }
            for (name, client) in clients where next[name] !== client { client.close() }
            clients = next
        }
    }

    /// Queues one event for every target that takes `events`. `encode` makes the JSON body; it
    /// runs on the webhook thread, once, and only when some target takes the event.
    public func post(_ events: WebhookTarget.Events, _ encode: @escaping @Sendable () -> [UInt8]?) {
        guard wants(events) else { return }
        loop.execute { [self] in
            let receivers = clients.values.filter { $0.target.receives(events) }
            guard !receivers.isEmpty, let body = encode() else { return }
            for client in receivers { client.enqueue(body) }
        }
    }

    /// Each target's counters, by name. Waits for the webhook thread: not for the SIP thread.
    public func statistics() throws -> [String: WebhookStatistics] {
        try loop.submit { [self] in clients.mapValues(\.statistics) }.wait()
    }

    /// Gives queued events up to `drainSeconds` to go out, then closes every connection and stops
    /// the thread. Not to be called on the webhook thread.
    public func shutdown(drainSeconds: Double = 2) {
        let deadline = NIODeadline.now() + .milliseconds(Int64(drainSeconds * 1000))
        while NIODeadline.now() < deadline {
            let idle = (try? loop.submit { [self] in clients.values.allSatisfy(\.isIdle) }.wait()) ?? true
            if idle { break }
            usleep(20_000)
        }
        let left = (try? loop.submit { [self] () -> Int in
            let queued = clients.values.reduce(0) { $0 + $1.statistics.queued }
            for client in clients.values { client.close() }
            clients = [:]
            return queued
        }.wait()) ?? 0
        if left > 0 { logger.warning("webhooks: \(left) events still queued at exit were not sent") }
        try? group.syncShutdownGracefully()
    }
}

/// One target's queue and connection. Everything runs on the delivery's event loop.
final class WebhookClient: @unchecked Sendable {
    // @unchecked: every member is touched on `loop` only (enqueue and the future callbacks).
    let target: WebhookTarget
    let url: WebhookURL
    private let loop: any EventLoop
    private let logger: Logger
    private let queueLimit: Int
    private var pending = CircularBuffer<[UInt8]>()
    /// The event being sent and its attempts so far.
    private var current: [UInt8]?
    private var attempt = 0
    private var connection: (channel: any Channel, handler: WebhookResponseHandler)?
    private var closed = false
    /// Failed attempts since the last delivery: the first is logged, then the recovery.
    private var failingSince = 0
    private var droppedUnlogged = 0
    private var dropLogDue: NIODeadline?
    private(set) var statistics = WebhookStatistics()

    init(target: WebhookTarget, url: WebhookURL, loop: any EventLoop, queueLimit: Int, logger: Logger) {
        self.target = target
        self.url = url
        self.loop = loop
        self.queueLimit = queueLimit
        self.logger = logger
    }

    var isIdle: Bool { current == nil && pending.isEmpty }

    func enqueue(_ body: [UInt8]) {
        guard !closed else { return }
        if pending.count >= queueLimit {
            pending.removeFirst()
            statistics.dropped += 1
            noteDropped()
        }
        pending.append(body)
        statistics.queued = pending.count + (current == nil ? 0 : 1)
        sendNext()
    }

    func close() {
        closed = true
        pending.removeAll()
        current = nil
        connection?.channel.close(promise: nil)
        connection = nil
    }

    private func sendNext() {
        guard !closed, current == nil, let body = pending.popFirst() else { return }
        current = body
        attempt = 0
        send(body)
    }

    /// One attempt. A kept-alive connection the receiver closed meanwhile fails before any
    /// answer; that attempt is made again at once on a new connection and not counted.
    private func send(_ body: [UInt8], staleRetry: Bool = false) {
        guard !closed else { return }
        if !staleRetry { attempt += 1 }
        statistics.attempts += 1
        if let connection, !connection.channel.isActive { dropConnection() }
        let reused = connection != nil
        let timeout = TimeAmount.seconds(Int64(target.timeoutSeconds))
        let channelFuture: EventLoopFuture<(any Channel, WebhookResponseHandler)>
        if let connection {
            channelFuture = loop.makeSucceededFuture(connection)
        } else {
            channelFuture = connect(timeout: timeout)
        }
        channelFuture.flatMap { [self] channel, handler in
            connection = (channel, handler)
            return exchange(body, channel: channel, handler: handler, timeout: timeout)
        }.whenComplete { [self] result in
            guard !closed else { return }
            switch result {
            case let .success(head):
                if !head.isKeepAlive { dropConnection() }
                let code = Int(head.status.code)
                if (200..<300).contains(code) {
                    delivered()
                } else if (400..<500).contains(code) && code != 408 && code != 429 || (300..<400).contains(code) {
                    giveUp("the receiver answered \(code) \(head.status.reasonPhrase), which a retry would not change")
                } else {
                    failedAttempt(body, "the receiver answered \(code) \(head.status.reasonPhrase)")
                }
            case let .failure(error):
                dropConnection()
                // A time-out on a kept-alive connection is the receiver's slowness, not a stale connection.
                if reused && !staleRetry && (error as? WebhookFailure)?.isTimeout != true {
                    send(body, staleRetry: true)
                } else {
                    failedAttempt(body, "\(error)")
                }
            }
        }
    }

    private func connect(timeout: TimeAmount) -> EventLoopFuture<(any Channel, WebhookResponseHandler)> {
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(WebhookResponseHandler())
                }
            }
        let connected: EventLoopFuture<any Channel>
        if let address = url.address {
            do {
                connected = bootstrap.connect(to: try NIOCore.SocketAddress(ipAddress: address.description, port: url.port))
            } catch {
                return loop.makeFailedFuture(error)
            }
        } else {
            connected = bootstrap.connect(host: url.host, port: url.port)
        }
        return connected.flatMapThrowing { channel in
            (channel, try channel.pipeline.syncOperations.handler(type: WebhookResponseHandler.self))
        }
    }

    private func exchange(_ body: [UInt8], channel: any Channel, handler: WebhookResponseHandler,
                          timeout: TimeAmount) -> EventLoopFuture<HTTPResponseHead> {
        let promise = loop.makePromise(of: HTTPResponseHead.self)
        handler.waiting = promise
        let timer = loop.scheduleTask(in: timeout) {
            promise.fail(WebhookFailure.timedOut(seconds: self.target.timeoutSeconds))
            channel.close(promise: nil)
        }
        promise.futureResult.whenComplete { _ in timer.cancel() }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: url.hostHeader)
        headers.add(name: "User-Agent", value: "vos-webhook")
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.count))
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: url.path, headers: headers)
        var buffer = channel.allocator.buffer(capacity: body.count)
        buffer.writeBytes(body)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(buffer)), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil)).whenFailure { error in promise.fail(error) }
        return promise.futureResult
    }

    private func dropConnection() {
        connection?.channel.close(promise: nil)
        connection = nil
    }

    private func delivered() {
        if failingSince > 0 {
            logger.notice("webhook \(target.name) (\(url)): delivering again after \(failingSince) failed attempts")
            failingSince = 0
        }
        statistics.delivered += 1
        finishCurrent()
    }

    private func failedAttempt(_ body: [UInt8], _ reason: String) {
        failingSince += 1
        if failingSince == 1 {
            logger.warning("webhook \(target.name) (\(url)): \(reason); retrying every \(target.retryIntervalSeconds) s, \(target.retries) times per event")
        }
        guard attempt <= target.retries else {
            giveUp("\(reason) (\(attempt) attempts)")
            return
        }
        loop.scheduleTask(in: .seconds(Int64(target.retryIntervalSeconds))) { [self] in
            if !closed { send(body) }
        }
    }

    private func giveUp(_ reason: String) {
        statistics.failed += 1
        logger.warning("webhook \(target.name) (\(url)): event not delivered: \(reason); \(pending.count) more queued")
        finishCurrent()
    }

    private func finishCurrent() {
        current = nil
        statistics.queued = pending.count
        sendNext()
    }

    /// Drops are logged at most every 10 s, with how many since the last line.
    private func noteDropped() {
        droppedUnlogged += 1
        let now = NIODeadline.now()
        if let due = dropLogDue, now < due { return }
        logger.warning("webhook \(target.name) (\(url)): queue full (\(queueLimit) events): dropped the \(droppedUnlogged) oldest (\(statistics.dropped) in all)")
        droppedUnlogged = 0
        dropLogDue = now + .seconds(10)
    }
}

/// Why an attempt failed, when NIO's own error would not say it.
enum WebhookFailure: Error, Equatable, CustomStringConvertible {
    case timedOut(seconds: Int)
    case closedBeforeAnswer

    var isTimeout: Bool { if case .timedOut = self { return true } else { return false } }

    var description: String {
        switch self {
        case let .timedOut(seconds): return "no answer within \(seconds) s"
        case .closedBeforeAnswer: return "the receiver closed the connection before answering"
        }
    }
}

/// Completes the waiting request with the response head once the whole response was read.
final class WebhookResponseHandler: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    // @unchecked: used only on its channel's event loop (the delivery's one thread).
    typealias InboundIn = HTTPClientResponsePart

    var waiting: EventLoopPromise<HTTPResponseHead>?
    private var head: HTTPResponseHead?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(received):
            head = received
        case .body:
            break
        case .end:
            if let head, let waiting {
                self.waiting = nil
                waiting.succeed(head)
            }
            head = nil
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        waiting?.fail(WebhookFailure.closedBeforeAnswer)
        waiting = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        waiting?.fail(error)
        waiting = nil
        context.close(promise: nil)
    }
}
