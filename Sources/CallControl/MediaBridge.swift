import MediaControl

/// What the B2BUA needs from vos-mediad: a two-leg session, remote updates, release.
/// Leg 0 faces the customer, leg 1 the vendor.
public protocol MediaBridge: AnyObject {
    /// A session whose customer leg already knows where the customer's SDP said to send audio.
    func createSession(tag: String, customerRemote: MediaEndpoint?) throws -> (session: String, customerSide: MediaEndpoint, vendorSide: MediaEndpoint)
    func setRemote(session: String, leg: Int, remote: MediaEndpoint) throws
    /// Releases the session without blocking the caller; `completion` gets the final
    /// statistics (nil when unknown), on a thread of the bridge's choosing.
    func deleteSession(_ session: String, completion: @escaping @Sendable (SessionInfo?) -> Void)
}

/// The real bridge: a MediaControlClient used from the event loop thread for create (its ports
/// go into the SDP being built), and a queue thread for updates and deletes (delete waits for
/// the relay to hand back final counters), so neither stalls the SIP loop. A broken
/// connection is reopened on the next request, so a restarted vos-mediad costs calls in
/// flight, not the controller.
public final class MediaControlBridge: MediaBridge {
    private let path: String
    private var client: MediaControlClient?
    private let releaser: MediaReleaser

    public init(path: String) {
        self.path = path
        self.releaser = MediaReleaser(path: path)
    }

    private func connected() throws -> MediaControlClient {
        if let client { return client }
        let fresh = try MediaControlClient(path: path, replyTimeoutMilliseconds: 2000)
        client = fresh
        return fresh
    }

    private func withClient<T>(_ body: (MediaControlClient) throws -> T) throws -> T {
        do {
            return try body(try connected())
        } catch let failure as MediaControlFailure where failure.code == .connectionFailed {
            client = nil
            throw failure
        }
    }

    public func createSession(tag: String, customerRemote: MediaEndpoint?) throws -> (session: String, customerSide: MediaEndpoint, vendorSide: MediaEndpoint) {
        let info = try withClient { try $0.create(tag: tag, legs: [LegRequest(remote: customerRemote), LegRequest()]) }
        guard info.legs.count == 2 else {
            throw MediaControlFailure(.internalError, "vos-mediad returned \(info.legs.count) legs for a two-leg session")
        }
        return (info.session, info.legs[0].local, info.legs[1].local)
    }

    /// Queued behind nothing but earlier updates and deletes: the SIP loop does not wait.
    public func setRemote(session: String, leg: Int, remote: MediaEndpoint) throws {
        releaser.enqueue(.update(session: session, leg: leg, remote: remote))
    }

    public func deleteSession(_ session: String, completion: @escaping @Sendable (SessionInfo?) -> Void) {
        releaser.enqueue(.delete(session: session, completion: completion))
    }
}
