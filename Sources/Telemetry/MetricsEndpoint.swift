import CVOSSys
import Dispatch
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import struct Sockets.SocketAddress
#if canImport(Glibc)
import Glibc
#endif

/// Why the metrics endpoint could not start: the whole sentence an operator reads in the log.
public struct MetricsEndpointError: Error, CustomStringConvertible {
    public let description: String
}

/// The daemons' Prometheus endpoint: HTTP/1.1 on a management address (`--metrics-listen`),
/// `GET /metrics` answers the exposition in the text format 0.0.4, any other path 404 and any
/// other method 405. One NIO event-loop thread accepts and parses; rendering (which asks the
/// daemon's collectors, who may wait on their own threads) runs on a serial queue of its own, so
/// neither the NIO thread nor a daemon thread is held by a slow scrape, and scrapes never overlap.
///
/// It owns the listening socket and nothing else: what is exposed is `MetricsExposition`'s.
/// `start()` and `stop()` are the whole lifecycle.
public final class MetricsEndpoint: Sendable {
    public let requestedAddress: SocketAddress
    private let exposition: MetricsExposition
    private let logger: Logger
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let renderQueue = DispatchQueue(label: "vos.metrics.render")
    private let channel = Mutex<Channel?>(nil)

    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public init(listen: SocketAddress, exposition: MetricsExposition, logger: Logger = Logger(label: "vos-metrics")) {
        requestedAddress = listen
        self.exposition = exposition
        self.logger = logger
        group.next().execute { vos_set_thread_name("vos-metrics") }
    }

    /// Binds and serves; returns the bound address (the real port when `listen` had port 0).
    /// A failure to bind is thrown with the address and the reason: the daemon refuses to start.
    @discardableResult
    public func start() throws(MetricsEndpointError) -> SocketAddress {
        let exposition = self.exposition, renderQueue = self.renderQueue
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 64)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(exposition: exposition, renderQueue: renderQueue))
                }
            }
            .childChannelOption(ChannelOptions.socketOption(.so_keepalive), value: 1)
        let bound: Channel
        do {
            bound = try bootstrap.bind(host: requestedAddress.ip, port: Int(requestedAddress.port)).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw MetricsEndpointError(description: "cannot serve metrics on http://\(requestedAddress)/metrics: \(Self.reason(error)) (choose another address with --metrics-listen)")
        }
        channel.withLock { $0 = bound }
        let port = bound.localAddress?.port ?? Int(requestedAddress.port)
        let address = SocketAddress(requestedAddress.address, port: UInt16(clamping: port))
        logger.info("metrics served on http://\(address)/metrics")
        return address
    }

    public func stop() {
        let bound = channel.withLock { current -> Channel? in
            defer { current = nil }
            return current
        }
        guard let bound else { return }
        try? bound.close().wait()
        // A scrape still rendering answers on the NIO thread: let it, then stop that thread.
        renderQueue.sync {}
        try? group.syncShutdownGracefully()
    }

    /// `bind(...): Address already in use (errno: 98)` becomes "address already in use".
    private static func reason(_ error: any Error) -> String {
        if let io = error as? IOError {
            switch io.errnoCode {
            case EADDRINUSE: return "address already in use (another daemon, or another vos-controller/vos-mediad, listens there)"
            case EADDRNOTAVAIL: return "the address is not one of this host's"
            case EACCES: return "permission denied (ports below 1024 need privileges)"
            default: return "\(io)"
            }
        }
        return "\(error)"
    }
}

/// One HTTP connection: answers each request once it has been read whole. Lives on its
/// channel's event loop; the rendered body comes back to it through `NIOLoopBound`.
private final class MetricsHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let exposition: MetricsExposition
    private let renderQueue: DispatchQueue
    private var head: HTTPRequestHead?

    init(exposition: MetricsExposition, renderQueue: DispatchQueue) {
        self.exposition = exposition
        self.renderQueue = renderQueue
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request): head = request
        case .body: break
        case .end:
            guard let request = head else { return }
            head = nil
            respond(to: request, context: context)
        }
    }

    private func respond(to request: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = request.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        guard path == "/metrics" else {
            return send(.notFound, body: Array("not found: the metrics are at /metrics\n".utf8), request: request, context: context)
        }
        guard request.method == .GET || request.method == .HEAD else {
            return send(.methodNotAllowed, body: Array("only GET and HEAD are served\n".utf8), request: request, context: context,
                        extra: [("Allow", "GET, HEAD")])
        }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let exposition = self.exposition
        let eventLoop = context.eventLoop
        renderQueue.async {
            let body = exposition.render()
            eventLoop.execute {
                let (handler, context) = bound.value
                handler.send(.ok, body: body, request: request, context: context, contentType: MetricsEndpoint.contentType)
            }
        }
    }

    private func send(_ status: HTTPResponseStatus, body: [UInt8], request: HTTPRequestHead, context: ChannelHandlerContext,
                      contentType: String = "text/plain; charset=utf-8", extra: [(String, String)] = []) {
        var headers = HTTPHeaders([("Content-Type", contentType), ("Content-Length", String(body.count))])
        headers.add(contentsOf: extra)
        let keepAlive = request.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
        if request.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
