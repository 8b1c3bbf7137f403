import CVOSSys
import Dispatch
import Foundation
import Logging
import MediaControl
import SIPStack
import Sockets
import Softswitch
#if canImport(Glibc)
import Glibc
#endif

/// The controller's operator socket (`DATA_DIR/controller.sock`): one JSON request line in, one
/// JSON reply line out, then close. `{"op":"calls"}`, `{"op":"gateways"}`, `{"op":"trace","callID":"..."}` or
/// `{"op":"explain","callee":"...","mappingGateway":"..."}`. Served on its own
/// thread; the views are taken on the event loop, so no call state is shared across threads.
public final class StatusServer: @unchecked Sendable {
    // @unchecked: `b2bua` is only touched inside `loop.execute` blocks; `traceLookup` is set
    // once before `start`; the rest is immutable.
    public struct Request: Codable {
        public var op: String
        /// `trace`: the call asked for (nil: the capture's state only).
        public var callID: String?
        /// `explain`: the callee as dialled, the mapping gateway it comes from, an optional
        /// caller, and the moment (epoch ms; nil: now).
        public var callee: String?
        public var mappingGateway: String?
        public var caller: String?
        public var at: Int64?

        public init(op: String, callID: String? = nil, callee: String? = nil, mappingGateway: String? = nil,
                    caller: String? = nil, at: Int64? = nil) {
            self.op = op
            self.callID = callID
            self.callee = callee
            self.mappingGateway = mappingGateway
            self.caller = caller
            self.at = at
        }
    }
    public struct Reply: Codable {
        public var ok: Bool
        public var error: String?
        public var calls: [CallView]?
        public var gateways: [GatewayView]?
        public var trace: SIPTrace?
        public var capture: SIPCaptureStatus?
        public var explanation: RouteExplanation?
    }

    private let path: String
    private let descriptor: Int32
    private let loop: any EventLoop
    private let b2bua: B2BUA
    private let mediaControlPath: String?
    private let logger: Logger
    /// `trace`: one call's messages from the trace ring, or (nil) the capture's state; run on the
    /// loop. Set by the controller before `start`.
    public var traceLookup: (@Sendable (String?) -> (SIPTrace?, SIPCaptureStatus))?

    public init(path: String, loop: any EventLoop, b2bua: B2BUA, mediaControlPath: String?, logger: Logger) throws {
        self.path = path
        self.loop = loop
        self.b2bua = b2bua
        self.mediaControlPath = mediaControlPath
        self.logger = logger
        descriptor = try UnixSocket.listen(path: path, backlog: 16)
    }

    public func start() {
        let thread = Thread { [self] in
            vos_set_thread_name("vos-status")
            self.serve()
        }
        thread.start()
    }

    public func stop() {
        shutdown(descriptor, Int32(SHUT_RDWR))
        close(descriptor)
        unlink(path)
    }

    private func serve() {
        while true {
            let client = accept(descriptor, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            handle(client)
            close(client)
        }
    }

    private func handle(_ client: Int32) {
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while line.count < 4096, read(client, &byte, 1) == 1, byte != 10 { line.append(byte) }
        let reply: Reply
        if let request = try? JSONDecoder().decode(Request.self, from: Data(line)) {
            reply = answer(request)
        } else {
            reply = Reply(ok: false, error: "expected one JSON line such as {\"op\":\"calls\"}")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var bytes = [UInt8]((try? encoder.encode(reply)) ?? Data("{\"ok\":false}".utf8))
        bytes.append(10)
        _ = bytes.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
    }

    private func answer(_ request: Request) -> Reply {
        switch request.op {
        case "calls":
            var statistics: [String: SessionInfo] = [:]
            if let mediaControlPath, let client = try? MediaControlClient(path: mediaControlPath, replyTimeoutMilliseconds: 1000),
               let sessions = try? client.statistics() {
                for session in sessions { statistics[session.session] = session }
            }
            let known = statistics
            let calls = loop.waitForResult(timeout: Self.loopWait) { [b2bua] in b2bua.callViews(mediaStatistics: known) }
            return Reply(ok: true, calls: calls ?? [])
        case "gateways":
            let gateways = loop.waitForResult(timeout: Self.loopWait) { [b2bua] in b2bua.gatewayViews() }
            return Reply(ok: true, gateways: gateways ?? [])
        case "trace":
            guard let traceLookup else { return Reply(ok: false, error: "this controller keeps no trace") }
            let callID = request.callID
            guard let answer = loop.waitForResult(timeout: Self.loopWait, { traceLookup(callID) }) else {
                return Reply(ok: false, error: "the SIP loop did not answer within 5 s")
            }
            return Reply(ok: true, trace: answer.0, capture: answer.1)
        case "explain":
            guard let callee = request.callee, let gateway = request.mappingGateway else {
                return Reply(ok: false, error: "explain needs callee and mappingGateway")
            }
            let (caller, at) = (request.caller, request.at)
            guard let result = loop.waitForResult(timeout: Self.loopWait, { [b2bua] in
                b2bua.explainRoute(callee: callee, mappingGateway: gateway, caller: caller, at: at)
            }) else {
                return Reply(ok: false, error: "the SIP loop did not answer within 5 s")
            }
            switch result {
            case let .success(explanation): return Reply(ok: true, explanation: explanation)
            case let .failure(failure): return Reply(ok: false, error: failure.message)
            }
        default:
            return Reply(ok: false, error: "unknown op '\(request.op)'; known: calls, gateways, trace, explain")
        }
    }

    /// How long an operator request waits for the SIP loop.
    private static let loopWait = Duration.seconds(5)
}
