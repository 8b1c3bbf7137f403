/// What the server asks of whoever implements the operations. Called concurrently from one
/// thread per control connection. `subscribe`, `ping` and firewall operations never reach the
/// handler.
public protocol MediaControlHandler: Sendable {
    func handle(_ request: MediaRequest) throws(MediaControlFailure) -> [SessionInfo]

    /// Requests that arrived together on one connection (a client pipelining), answered in
    /// order. A handler may carry out a run of the same operation at once; the default takes
    /// them one by one.
    func handle(batch requests: [MediaRequest]) -> [Result<[SessionInfo], MediaControlFailure>]
}

extension MediaControlHandler {
    public func handle(batch requests: [MediaRequest]) -> [Result<[SessionInfo], MediaControlFailure>] {
        requests.map { request in Result { () throws(MediaControlFailure) in try handle(request) } }
    }
}
