/// Per-gateway call handling shared by mapping (customer) and routing (vendor) gateways:
/// number filtering, media proxy override, and the codec and DTMF settings (issue 13) that
/// codec negotiation reads. Requirements §1, §5, §6.

public enum Codec: String, Sendable, Codable, CaseIterable {
    case pcma = "PCMA", pcmu = "PCMU", g729 = "G729"

    public init(parsing text: String, field: String = "codec") throws(ModelError) {
        let upper = text.trimmingSpaces.uppercased()
        if upper == "G723" || upper == "G.723" {
            throw ModelError.invalid(field: field, value: text, expected: "PCMA, PCMU or G729 (G.723 is not supported: no free codec library)")
        }
        guard let codec = Codec(rawValue: upper) else {
            throw ModelError.invalid(field: field, value: text, expected: "PCMA, PCMU or G729")
        }
        self = codec
    }

    /// A comma-separated preference list such as `PCMA,PCMU,G729`, checked as `CodecSettings`
    /// stores it: not empty, each codec once.
    public static func parseList(_ text: String, field: String = "codec list") throws(ModelError) -> [Codec] {
        var codecs: [Codec] = []
        for item in text.split(separator: ",") where !item.trimmingSpaces.isEmpty {
            codecs.append(try Codec(parsing: String(item), field: field))
        }
        try CodecSettings.validate(codecs, field: field)
        return codecs
    }
}

public struct CodecSettings: Sendable, Hashable, Codable {
    public enum Mode: String, Sendable, Codable, CaseIterable {
        /// SDP offer/answer; no common codec fails the call with 488.
        case auto
        /// The leg uses only `codecs.first`.
        case specified
        /// Transcoding allowed (must be on for both legs to transcode). Stored and shown as
        /// `convert`, the name operators type; records written as `allow-conversion` still load.
        case convert

        public init(parsing text: String, field: String = "codec mode") throws(ModelError) {
            let lower = text.trimmingSpaces.lowercased()
            guard let mode = lower == "allow-conversion" ? .convert : Mode(rawValue: lower) else {
                throw ModelError.invalid(field: field, value: text, expected: "auto, specified or convert")
            }
            self = mode
        }

        public init(from decoder: any Decoder) throws {
            let text = try decoder.singleValueContainer().decode(String.self)
            do { self = try Mode(parsing: text) } catch {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
            }
        }
    }

    public enum G729Mode: String, Sendable, Codable, CaseIterable { case auto, g729, g729a, both }

    public var mode: Mode = .auto
    /// In preference order.
    public var codecs: [Codec] = [.pcma, .pcmu, .g729]
    /// G.729 Annex B (silence suppression and comfort noise frames). Off by default: most
    /// carriers expect `annexb=no`, and a peer that gets SID frames it did not ask for plays
    /// them as clicks or drops the call's audio.
    public var annexB: Bool = false
    public var g729Mode: G729Mode = .auto

    public init() {}

    /// The codecs a leg on this gateway may use: `specified` narrows the list to its first.
    public var usable: [Codec] { mode == .specified ? Array(codecs.prefix(1)) : codecs }

    public func validate() throws(ModelError) {
        try CodecSettings.validate(codecs, field: "codec list")
    }

    static func validate(_ codecs: [Codec], field: String) throws(ModelError) {
        guard !codecs.isEmpty else { throw ModelError.missing(field: field) }
        var seen = Set<Codec>()
        for codec in codecs where !seen.insert(codec).inserted {
            throw ModelError.inconsistent("\(field) lists \(codec.rawValue) twice")
        }
    }

    /// Records written before `annexB` existed lack it; each field falls back to its default.
    public init(from decoder: any Decoder) throws {
        let stored = try decoder.container(keyedBy: CodingKeys.self)
        mode = try stored.decodeIfPresent(Mode.self, forKey: .mode) ?? mode
        codecs = try stored.decodeIfPresent([Codec].self, forKey: .codecs) ?? codecs
        annexB = try stored.decodeIfPresent(Bool.self, forKey: .annexB) ?? annexB
        g729Mode = try stored.decodeIfPresent(G729Mode.self, forKey: .g729Mode) ?? g729Mode
    }
}

/// A way DTMF travels: the one name the controller, vos-mediad and the CDR use.
public enum DTMFMethod: String, Sendable, Hashable, CaseIterable {
    /// RTP telephone-event (RFC 4733 / RFC 2833).
    case rfc2833
    /// SIP INFO with application/dtmf-relay or application/dtmf.
    case info
    /// Tones in the audio.
    case inband
}

public struct DTMFSettings: Sendable, Hashable, Codable {
    public enum ReceiveMethod: String, Sendable, Codable, CaseIterable { case all, rfc2833, info, inband }
    public enum SendMethod: String, Sendable, Codable, CaseIterable { case auto, rfc2833, info, inband }

    public var receive: ReceiveMethod = .all
    public var send: SendMethod = .auto
    public var rfc2833PayloadType: Int = 101
    /// Telephone-event range advertised, e.g. `0-16`.
    public var rfc2833Events: String = "0-16"
    /// Use the telephone-event payload type the peer answered with when it differs from
    /// `rfc2833PayloadType` (peers that ignore the offered number still get their digits).
    public var usePeerRFC2833Capability: Bool = true
    /// The peer's audio carries DTMF tones to detect (G.711 only).
    public var mediaContainsInband: Bool = false
    /// DTMF to the peer is always played as tones, whatever it declared.
    public var mustUseInbandSend: Bool = false

    public init() {}

    public func validate() throws(ModelError) {
        guard (96...127).contains(rfc2833PayloadType) else {
            throw ModelError.outOfRange(field: "--rfc2833-payload-type", value: String(rfc2833PayloadType), range: "96-127")
        }
        guard eventRange != nil else {
            throw ModelError.invalid(field: "--rfc2833-events", value: rfc2833Events, expected: "LOW-HIGH within 0-255, e.g. 0-16")
        }
    }

    /// `rfc2833Events` as numbers; nil when it is not `LOW-HIGH` within 0-255 (RFC 4733 events).
    public var eventRange: ClosedRange<Int>? { Self.eventRange(rfc2833Events) }

    /// A telephone-event range written `LOW-HIGH` within 0-255 (gateways' settings and the
    /// relay's `LegMedia.events` alike); nil for anything else.
    public static func eventRange(_ text: String) -> ClosedRange<Int>? {
        let bounds = text.split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count == 2, let low = Int(bounds[0]), let high = Int(bounds[1]), 0 <= low, low <= high, high <= 255 else {
            return nil
        }
        return low...high
    }
}

public enum NumberPrefix {
    /// Digits plus the characters dial plans use (`+`, `*`, `#`), at most 32.
    public static func validate(_ prefix: String, field: String, allowEmpty: Bool = false) throws(ModelError) {
        if prefix.isEmpty && allowEmpty { return }
        guard !prefix.isEmpty, prefix.count <= 32,
              prefix.allSatisfy(\.isDialCharacter) else {
            throw ModelError.invalid(field: field, value: prefix, expected: "1-32 characters of 0-9, +, *, #")
        }
    }
}

/// `SS_MEDIAPROXYMODE` values; a gateway may override the system setting.
public enum MediaProxyMode: Int, Sendable, Codable, CaseIterable {
    case off = 0, on = 1, auto = 2, mustOn = 3

    public init(parsing text: String) throws(ModelError) {
        switch text.trimmingSpaces.lowercased() {
        case "0", "off": self = .off
        case "1", "on": self = .on
        case "2", "auto": self = .auto
        case "3", "must-on", "mustOn": self = .mustOn
        default: throw ModelError.invalid(field: "media proxy mode", value: text, expected: "off|on|auto|must-on or 0-3")
        }
    }
}
