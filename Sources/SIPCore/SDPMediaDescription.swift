/// One media section: its `m=` line first, then the c=/b=/a= lines that belong to it.
///
/// The `m=` line is decoded once, when the lines are set, not on every read: a call reads a
/// section's type, port and formats many times on the SIP thread (codec negotiation, the relay's
/// rewrite, the CDR's codec).
public struct SDPMediaDescription: Sendable, Equatable {
    public var lines: [SDPLine] {
        didSet { mediaLine = SDPMediaDescription.decodeMediaLine(lines) }
    }
    private var mediaLine: SDPMediaLine?

    public init(lines: [SDPLine]) {
        self.lines = lines
        mediaLine = SDPMediaDescription.decodeMediaLine(lines)
    }

    /// A section whose `m=` line (`lines[0]`) the parser has already decoded as `mediaLine`.
    init(lines: [SDPLine], mediaLine: SDPMediaLine?) {
        self.lines = lines
        self.mediaLine = mediaLine
    }

    private static func decodeMediaLine(_ lines: [SDPLine]) -> SDPMediaLine? {
        lines.first.flatMap { try? SDPMediaLine(parsing: $0.value) }
    }

    public static func == (left: SDPMediaDescription, right: SDPMediaDescription) -> Bool { left.lines == right.lines }

    public var mediaType: String? { mediaLine?.media }
    public var transportProtocol: String? { mediaLine?.transportProtocol }
    public var formats: [String] { mediaLine?.formats ?? [] }
    /// Numeric RTP payload types among the formats.
    public var payloadTypes: [Int] { formats.compactMap { Int($0) } }

    public var port: Int? {
        get { mediaLine?.port }
        set {
            guard let newValue, var line = mediaLine, !lines.isEmpty else { return }
            line.port = newValue
            lines[0].value = line.description
        }
    }

    /// Media-level c= line, if this section overrides the session one.
    public var connection: SDPConnection? {
        lines.first { $0.type == "c" }.flatMap { try? SDPConnection(parsing: $0.value) }
    }

    public var attributes: [SDPAttribute] {
        lines.filter { $0.type == "a" }.map { SDPAttribute(line: $0.value) }
    }

    /// The value of the first `a=<name>[:value]` line; nil when there is none or it has no value.
    public func attribute(_ name: String) -> String? {
        for line in lines where line.type == "a" {
            if let value = SDPAttribute.value(of: line.value, named: name) { return String(value) }
        }
        return nil
    }

    /// `a=rtpmap:<pt> <encoding>/<clock>[/<channels>]` for `payloadType`.
    public func rtpmap(for payloadType: Int) -> SDPRtpMap? {
        for line in lines where line.type == "a" {
            if let value = SDPAttribute.value(of: line.value, named: "rtpmap"), let map = SDPRtpMap(attributeValue: value),
               map.payloadType == payloadType {
                return map
            }
        }
        return nil
    }

    /// The format parameters after `a=fmtp:<pt> `.
    public func fmtp(for payloadType: Int) -> String? {
        let prefix = "\(payloadType) "
        for line in lines where line.type == "a" {
            if let value = SDPAttribute.value(of: line.value, named: "fmtp"), value.hasPrefix(prefix) {
                return String(value.dropFirst(prefix.count))
            }
        }
        return nil
    }

    public var ptime: Int? { attribute("ptime").flatMap { Int($0) } }

    /// sendrecv / sendonly / recvonly / inactive, if stated at media level.
    public var direction: String? {
        attributes.first { ["sendrecv", "sendonly", "recvonly", "inactive"].contains($0.name) }?.name
    }

    mutating func setConnectionAddress(_ connection: String) {
        for index in lines.indices where lines[index].type == "c" {
            lines[index].value = connection
        }
    }
}

/// `a=name[:value]`.
public struct SDPAttribute: Sendable, Equatable {
    public var name: String
    public var value: String?

    /// What follows `name:` in an attribute line's value; nil when the line is another attribute
    /// or `name` without a value. Reads the line in place, without building an `SDPAttribute`.
    static func value(of line: String, named name: String) -> Substring? {
        guard line.hasPrefix(name) else { return nil }
        let rest = line.utf8.dropFirst(name.utf8.count)
        guard rest.first == UInt8(ascii: ":") else { return nil }
        return Substring(rest.dropFirst())
    }

    init(line: String) {
        if let colon = line.firstIndex(of: ":") {
            name = String(line[..<colon])
            value = String(line[line.index(after: colon)...])
        } else {
            name = line
            value = nil
        }
    }
}

public struct SDPRtpMap: Sendable, Equatable {
    public var payloadType: Int
    public var encoding: String
    public var clockRate: Int?
    public var channels: Int?

    init?(attributeValue: Substring) {
        let parts = attributeValue.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, let payloadType = Int(parts[0]) else { return nil }
        let codec = parts[1].split(separator: "/")
        guard let encoding = codec.first else { return nil }
        self.payloadType = payloadType
        self.encoding = String(encoding)
        self.clockRate = codec.count > 1 ? Int(codec[1]) : nil
        self.channels = codec.count > 2 ? Int(codec[2]) : nil
    }
}
