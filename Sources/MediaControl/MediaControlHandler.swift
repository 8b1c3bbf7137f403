/// What the server asks of whoever implements the operations. Called concurrently from one
/// thread per control connection. `subscribe` and `ping` never reach the handler.
public protocol MediaControlHandler: Sendable {
    func handle(_ request: MediaRequest) throws(MediaControlFailure) -> [SessionInfo]
}
