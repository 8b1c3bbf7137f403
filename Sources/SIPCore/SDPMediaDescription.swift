/// One media section: its `m=` line first, then the c=/b=/a= lines that belong to it.
public struct SDPMediaDescription: Sendable, Equatable {
    public var lines: [SDPLine]

    public init(lines: [SDPLine]) { self.lines = lines }

    private var mediaLine: SDPMediaLine? {
        lines.first.flatMap { try? SDPMediaLine(parsing: $0.value) }
    }

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

    public func attribute(_ name: String) -> String? {
        attributes.first { $0.name == name }?.value
    }

    /// `a=rtpmap:<pt> <encoding>/<clock>[/<channels>]` for `payloadType`.
    public func rtpmap(for payloadType: Int) -> SDPRtpMap? {
        for attribute in attributes where attribute.name == "rtpmap" {
            if let map = SDPRtpMap(attributeValue: attribute.value ?? ""), map.payloadType == payloadType {
                return map
            }
        }
        return nil
    }

    /// The format parameters after `a=fmtp:<pt> `.
    public func fmtp(for payloadType: Int) -> String? {
        let prefix = "\(payloadType) "
        for attribute in attributes where attribute.name == "fmtp" {
            if let value = attribute.value, value.hasPrefix(prefix) {
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

    init?(attributeValue: String) {
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
