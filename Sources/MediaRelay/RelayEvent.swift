import Sockets

/// What an I/O thread reports to the engine; the engine turns it into a protocol event.
public struct RelayEvent: Sendable {
    public enum Kind: Sendable {
        case latched(leg: Int, source: SocketAddress)
        case rtpTimeout(idleSeconds: Double)
        /// A digit from `leg`'s far end the relay could not deliver in the other leg's media.
        case dtmf(leg: Int, digit: Character, durationMilliseconds: Int, method: String)
    }

    public let sessionID: UInt64
    public let kind: Kind
}
