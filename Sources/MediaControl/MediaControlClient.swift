/// A synchronous client for the controller and vosctl: one request at a time, each waiting for
/// its reply. Events that arrive while waiting are kept for `nextEvent`. Not for concurrent use
/// from several threads; open one client per thread.
public final class MediaControlClient {
    private let stream: UnixStream
    private var nextID: UInt64 = 1
    private var pendingEvents: [MediaEvent] = []
    /// How long to wait for a reply before giving up, in milliseconds.
    public var replyTimeoutMilliseconds: Int32

    public init(path: String, replyTimeoutMilliseconds: Int32 = 5000) throws(MediaControlFailure) {
        stream = try UnixStream.connect(path: path)
        self.replyTimeoutMilliseconds = replyTimeoutMilliseconds
    }

    /// Sends a request (its id is assigned here) and returns the reply's sessions, throwing the
    /// daemon's error when it refused.
    @discardableResult
    public func send(_ request: MediaRequest) throws(MediaControlFailure) -> [SessionInfo] {
        let response = try exchange(request)
        if let error = response.error, !response.ok { throw error }
        return response.sessions ?? []
    }

    /// Sends a request and returns the raw reply, error replies included.
    public func exchange(_ request: MediaRequest) throws(MediaControlFailure) -> MediaResponse {
        var request = request
        request.id = nextID
        nextID += 1
        try stream.write(MediaControlCodec.encode(request))
        return try awaitResponse(id: request.id)
    }

    /// Sends every request before reading a reply (one write and one wake-up of the daemon per
    /// batch, instead of a round trip each) and returns the replies in request order. The
    /// daemon answers a connection's requests in order.
    public func exchange(_ requests: [MediaRequest]) throws(MediaControlFailure) -> [MediaResponse] {
        guard requests.count > 1 else { return try requests.map { (request) throws(MediaControlFailure) in try exchange(request) } }
        var ids: [UInt64] = []
        ids.reserveCapacity(requests.count)
        var lines: [UInt8] = []
        lines.reserveCapacity(160 * requests.count)
        for var request in requests {
            request.id = nextID
            nextID += 1
            ids.append(request.id)
            lines.append(contentsOf: MediaControlCodec.encode(request))
        }
        try stream.write(lines)
        return try ids.map { (id) throws(MediaControlFailure) in try awaitResponse(id: id) }
    }

    /// Sends raw bytes (which should end in a newline) and returns the next reply; for tests and
    /// diagnostics of malformed input.
    public func exchangeRaw(_ line: [UInt8]) throws(MediaControlFailure) -> MediaResponse {
        try stream.write(line)
        return try awaitResponse(id: nil)
    }

    public func create(tag: String? = nil, legs: [LegRequest]) throws(MediaControlFailure) -> SessionInfo {
        let sessions = try send(MediaRequest(id: 0, op: .create, tag: tag, legs: legs))
        guard let session = sessions.first else { throw MediaControlFailure(.internalError, "create reply carried no session") }
        return session
    }

    public func update(session: String, leg: Int, remote: MediaEndpoint) throws(MediaControlFailure) {
        try send(MediaRequest(id: 0, op: .update, session: session, leg: leg, remote: remote))
    }

    @discardableResult
    public func delete(session: String) throws(MediaControlFailure) -> SessionInfo? {
        try send(MediaRequest(id: 0, op: .delete, session: session)).first
    }

    public func statistics(session: String? = nil) throws(MediaControlFailure) -> [SessionInfo] {
        try send(MediaRequest(id: 0, op: .stats, session: session))
    }

    public func subscribe() throws(MediaControlFailure) {
        try send(MediaRequest(id: 0, op: .subscribe))
    }

    public func ping() throws(MediaControlFailure) {
        try send(MediaRequest(id: 0, op: .ping))
    }

    /// The next pushed event, waiting at most `timeoutMilliseconds`; nil on timeout.
    public func nextEvent(timeoutMilliseconds: Int32) throws(MediaControlFailure) -> MediaEvent? {
        if !pendingEvents.isEmpty { return pendingEvents.removeFirst() }
        while stream.waitReadable(timeoutMilliseconds: timeoutMilliseconds) {
            guard let line = try stream.readLine() else {
                throw MediaControlFailure(.connectionFailed, "vos-mediad closed the control connection")
            }
            if case let .event(event) = try MediaControlCodec.decodeIncoming(line) { return event }
        }
        return nil
    }

    private func awaitResponse(id: UInt64?) throws(MediaControlFailure) -> MediaResponse {
        while true {
            guard stream.waitReadable(timeoutMilliseconds: replyTimeoutMilliseconds) else {
                throw MediaControlFailure(.connectionFailed, "no reply from vos-mediad within \(replyTimeoutMilliseconds) ms")
            }
            guard let line = try stream.readLine() else {
                throw MediaControlFailure(.connectionFailed, "vos-mediad closed the control connection")
            }
            switch try MediaControlCodec.decodeIncoming(line) {
            case let .event(event):
                pendingEvents.append(event)
            case let .response(response):
                if id == nil || response.id == id || response.id == 0 { return response }
            }
        }
    }
}
