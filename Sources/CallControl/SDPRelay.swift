import MediaControl
import SIPCore
import VOSModel

/// SDP as the relay sees it: where a side wants its audio, and the same SDP pointing at the
/// relay instead. Only the first audio stream is relayed; other streams are disabled (port 0)
/// so no media bypasses the relay.
enum SDPRelay {
    /// The address and port a side announced for its audio, if any.
    static func audioEndpoint(of sdp: SDPSession) -> MediaEndpoint? {
        guard let audio = sdp.media.first(where: { $0.mediaType == "audio" }), let port = audio.port, port > 0,
              let connection = audio.connection ?? sdp.connection else { return nil }
        return MediaEndpoint(ip: connection.address, port: port)
    }

    /// The SDP with its audio sent to `relay` (c=, o= and the audio m= port rewritten).
    static func pointing(_ sdp: SDPSession, at relay: MediaEndpoint) -> SDPSession {
        var rewritten = sdp
        rewritten.setConnectionAddress(relay.ip, addressType: relay.ip.utf8.contains(UInt8(ascii: ":")) ? "IP6" : "IP4", includeOrigin: true)
        var audioSeen = false
        for index in rewritten.media.indices {
            if rewritten.media[index].mediaType == "audio" && !audioSeen {
                rewritten.setMediaPort(relay.port, at: index)
                audioSeen = true
            } else {
                rewritten.setMediaPort(0, at: index)
            }
        }
        return rewritten
    }

    /// Codec names of the first audio stream, for the CDR and the calls view.
    static func audioCodecs(of sdp: SDPSession) -> [String] {
        (sdp.audioFormats ?? []).map { $0.encoding.uppercased() }.filter { $0 != "TELEPHONE-EVENT" }
    }

    /// SS_MEDIAPROXYMODE 2: relay when the caller looks NATed (private SDP address, or an SDP
    /// address other than where its signalling came from).
    static func looksNATed(_ endpoint: MediaEndpoint?, signallingSource: String) -> Bool {
        guard let endpoint else { return false }
        if endpoint.ip != signallingSource { return true }
        guard let address = try? IPAddress(parsing: endpoint.ip) else { return true }
        return isPrivate(address)
    }

    static func isPrivate(_ address: IPAddress) -> Bool {
        switch address {
        case let .v4(value):
            return value >> 24 == 10 || value >> 20 == 0xAC1 || value >> 16 == 0xC0A8 || value >> 22 == (100 << 2 | 1)
        case let .v6(high, _):
            return high >> 57 == 0x7E  // fc00::/7 unique local
        }
    }
}
