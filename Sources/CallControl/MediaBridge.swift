import MediaControl

/// A relay session as vos-mediad created it: leg 0 faces the customer, leg 1 the vendor.
public struct CreatedMediaSession: Sendable, Equatable {
    public let session: String
    public let customerSide: MediaEndpoint
    public let vendorSide: MediaEndpoint

    public init(session: String, customerSide: MediaEndpoint, vendorSide: MediaEndpoint) {
        self.session = session
        self.customerSide = customerSide
        self.vendorSide = vendorSide
    }
}

/// What the B2BUA needs from vos-mediad: a two-leg session, remote updates, release. None of
/// it blocks the SIP loop: each answer arrives through a completion, on a thread of the
/// bridge's choosing (the B2BUA hands it back to its loop).
public protocol MediaBridge: AnyObject {
    /// A session whose customer leg already knows where the customer's SDP said to send audio,
    /// and, when the call is to be transcoded, both legs' formats (customer, vendor): set at
    /// creation, before any INVITE, so no packet can cross in the wrong codec.
    func createSession(tag: String, customerRemote: MediaEndpoint?, formats: [LegMedia]?,
                       completion: @escaping @Sendable (Result<CreatedMediaSession, MediaControlFailure>) -> Void)
    /// A leg's SDP address, its negotiated format (`LegMedia`: different formats on the two legs
    /// make vos-mediad transcode), or both.
    func update(session: String, leg: Int, remote: MediaEndpoint?, media: LegMedia?)
    /// Plays DTMF toward `leg`'s far end in the media (what a SIP INFO digit becomes when that
    /// leg takes RFC 4733 events or tones); `completion` gets vos-mediad's refusal, nil when played.
    func playDigits(session: String, leg: Int, digits: String, durationMilliseconds: Int,
                    completion: @escaping @Sendable (MediaControlFailure?) -> Void)
    /// Releases the session; `completion` gets the final statistics (nil when unknown).
    func deleteSession(_ session: String, completion: @escaping @Sendable (SessionInfo?) -> Void)
}

/// The real bridge: creates on a thread of their own (`MediaCreator`), so a call waits for its
/// relay ports in its own state while the loop serves other calls; updates and deletes on the
/// releaser thread (a delete waits for the relay's final counters). A broken connection is
/// reopened on the next request, so a restarted vos-mediad costs calls in flight, not the
/// controller.
public final class MediaControlBridge: MediaBridge {
    private let creator: MediaCreator
    private let releaser: MediaReleaser

    public init(path: String) {
        self.creator = MediaCreator(path: path)
        self.releaser = MediaReleaser(path: path)
    }

    public func createSession(tag: String, customerRemote: MediaEndpoint?, formats: [LegMedia]?,
                              completion: @escaping @Sendable (Result<CreatedMediaSession, MediaControlFailure>) -> Void) {
        creator.enqueue(tag: tag, customerRemote: customerRemote, formats: formats, completion: completion)
    }

    /// Queued behind nothing but earlier updates and deletes: the SIP loop does not wait.
    public func update(session: String, leg: Int, remote: MediaEndpoint?, media: LegMedia?) {
        releaser.enqueue(.update(session: session, leg: leg, remote: remote, media: media))
    }

    public func deleteSession(_ session: String, completion: @escaping @Sendable (SessionInfo?) -> Void) {
        releaser.enqueue(.delete(session: session, completion: completion))
    }

    public func playDigits(session: String, leg: Int, digits: String, durationMilliseconds: Int,
                           completion: @escaping @Sendable (MediaControlFailure?) -> Void) {
        releaser.enqueue(.playDigits(session: session, leg: leg, digits: digits, durationMilliseconds: durationMilliseconds,
                                     completion: completion))
    }
}
