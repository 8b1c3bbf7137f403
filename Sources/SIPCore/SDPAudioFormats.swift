/// The formats of an SDP body's first audio stream, read as codec negotiation needs them and
/// rewritten when vos offers or answers a different list (transcoding, payload type remapping).
/// Everything else in the body is left as it was.

/// One entry of an audio `m=` line with what its `a=rtpmap` and `a=fmtp` say about it.
public struct SDPAudioFormat: Sendable, Equatable {
    public var payloadType: Int
    /// As written in `a=rtpmap` (or the RFC 3551 name of a static payload type); encoding names
    /// are case-insensitive, so compare them uppercased.
    public var encoding: String
    public var clockRate: Int
    public var channels: Int?
    /// The parameters after `a=fmtp:<pt> `, e.g. `annexb=no` or `0-16`.
    public var fmtp: String?

    public init(payloadType: Int, encoding: String, clockRate: Int, channels: Int? = nil, fmtp: String? = nil) {
        self.payloadType = payloadType
        self.encoding = encoding
        self.clockRate = clockRate
        self.channels = channels
        self.fmtp = fmtp
    }

    /// RFC 3551 static audio payload types a peer may list without `a=rtpmap`; all of them
    /// have an 8000 Hz RTP clock (G.722 too, by RFC 3551's historical error).
    public static let staticEncodings: [Int: String] = [
        0: "PCMU", 3: "GSM", 4: "G723", 8: "PCMA", 9: "G722", 13: "CN", 15: "G728", 18: "G729",
    ]

    /// The `a=rtpmap` value: `<pt> <encoding>/<clock>[/<channels>]`.
    var rtpmapValue: String {
        var value = "\(payloadType) \(encoding)/\(clockRate)"
        if let channels { value += "/\(channels)" }
        return value
    }
}

extension SDPMediaDescription {
    /// The formats in `m=` order. A dynamic payload type with no `a=rtpmap` names no codec and
    /// is left out; a static one without it gets its RFC 3551 name.
    public var audioFormats: [SDPAudioFormat] {
        payloadTypes.compactMap { payloadType in
            var format: SDPAudioFormat
            if let map = rtpmap(for: payloadType) {
                format = SDPAudioFormat(payloadType: payloadType, encoding: map.encoding, clockRate: map.clockRate ?? 8000,
                                        channels: map.channels)
            } else if let encoding = SDPAudioFormat.staticEncodings[payloadType] {
                format = SDPAudioFormat(payloadType: payloadType, encoding: encoding, clockRate: 8000)
            } else {
                return nil
            }
            format.fmtp = fmtp(for: payloadType)
            return format
        }
    }

    /// Makes `formats` this section's format list: the `m=` line lists their payload types in
    /// order, each gets its `a=rtpmap` (and `a=fmtp` when it has parameters), and the rtpmap,
    /// fmtp and rtcp-fb lines of payload types no longer listed are dropped. Other lines
    /// (ptime, direction, c=) stay where they were.
    public mutating func replaceFormats(with formats: [SDPAudioFormat]) throws(SIPParseError) {
        guard !formats.isEmpty else { throw SIPParseError(.invalidSDP, "an m= line needs at least one format") }
        guard let first = lines.first, first.type == "m" else {
            throw SIPParseError(.invalidSDP, "media section does not start with m=")
        }
        var mediaLine = try SDPMediaLine(parsing: first.value)
        mediaLine.formats = formats.map { String($0.payloadType) }

        var kept: [SDPLine] = [SDPLine(type: "m", value: mediaLine.description)]
        var insertAt: Int?
        for line in lines.dropFirst() {
            if line.type == "a", SDPMediaDescription.isFormatLine(line.value) {
                insertAt = insertAt ?? kept.count
                let attribute = SDPAttribute(line: line.value)
                // rtcp-fb of a format still listed (or of all, `*`) is kept; rtpmap and fmtp are
                // rewritten below.
                if attribute.name == "rtcp-fb" {
                    let target = attribute.value?.split(separator: " ", maxSplits: 1).first.map(String.init)
                    if target == "*" || formats.contains(where: { String($0.payloadType) == target }) { kept.append(line) }
                }
                continue
            }
            kept.append(line)
        }
        // RFC 4566 puts a= lines after i=, c=, b= and k=: the rewritten ones go where the old
        // ones were, or before the first attribute.
        let position = insertAt ?? kept.firstIndex(where: { $0.type == "a" }) ?? kept.count
        var added: [SDPLine] = []
        for format in formats {
            added.append(SDPLine(type: "a", value: "rtpmap:" + format.rtpmapValue))
            if let fmtp = format.fmtp, !fmtp.isEmpty {
                added.append(SDPLine(type: "a", value: "fmtp:\(format.payloadType) \(fmtp)"))
            }
        }
        kept.insert(contentsOf: added, at: position)
        lines = kept
    }

    /// `a=rtpmap:`, `a=fmtp:` and `a=rtcp-fb:` lines, which belong to one payload type.
    private static func isFormatLine(_ value: String) -> Bool {
        value.hasPrefix("rtpmap:") || value.hasPrefix("fmtp:") || value.hasPrefix("rtcp-fb:")
    }
}

extension SDPSession {
    /// The index of the first `m=audio` section.
    public var firstAudioIndex: Int? { media.firstIndex { $0.mediaType == "audio" } }

    /// The first audio stream's formats; nil when the body has no audio stream.
    public var audioFormats: [SDPAudioFormat]? {
        firstAudioIndex.map { media[$0].audioFormats }
    }

    /// `a=ptime` of the first audio stream, or of the session when the stream has none.
    public var audioPtime: Int? {
        guard let index = firstAudioIndex else { return nil }
        if let ptime = media[index].ptime { return ptime }
        return attributes.first { $0.name == "ptime" }?.value.flatMap { Int($0) }
    }

    /// Replaces the first audio stream's formats (see `SDPMediaDescription.replaceFormats`).
    public mutating func replaceAudioFormats(with formats: [SDPAudioFormat]) throws(SIPParseError) {
        guard let index = firstAudioIndex else { throw SIPParseError(.invalidSDP, "no m=audio stream to rewrite") }
        try media[index].replaceFormats(with: formats)
    }
}
