/// MediaControl owns the controller <-> vos-mediad protocol: message types, the newline-delimited
/// JSON codec, a synchronous client and the Unix-socket server plumbing that hands decoded
/// requests to a `MediaControlHandler`. The wire format is documented in
/// docs/media-control-protocol.md.
///
/// It must not relay packets, open media sockets or touch the kernel: what a request *does* is
/// the handler's business (MediaRelay implements it).
public enum MediaControl {
    /// The protocol version this build speaks. A request with another version gets an
    /// `unsupportedVersion` error so mismatched controller/mediad builds fail loudly.
    public static let protocolVersion = 1
    /// Longest request or reply line accepted; a longer line is refused and the connection closed,
    /// so a peer cannot make the daemon buffer without bound.
    public static let maximumLineLength = 256 * 1024
}
