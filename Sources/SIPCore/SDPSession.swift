/// An SDP body (RFC 4566) kept as its ordered `x=value` lines, split into the session part and
/// one section per `m=` line. Unknown lines survive untouched; the typed views below decode the
/// lines a softswitch and media relay use.
public struct SDPSession: Sendable, Equatable {
    public var sessionLines: [SDPLine]
    public var media: [SDPMediaDescription]

    public static let maxLines = 1_024

    public init(sessionLines: [SDPLine], media: [SDPMediaDescription] = []) {
        self.sessionLines = sessionLines
        self.media = media
    }

    public init(parsing bytes: [UInt8]) throws(SIPParseError) {
        var sessionLines: [SDPLine] = []
        var media: [SDPMediaDescription] = []
        // The section being read; it becomes an SDPMediaDescription (which decodes its m= line)
        // when the next m= line or the end of the body closes it.
        var section: [SDPLine] = []
        var sectionMediaLine: SDPMediaLine?
        var lineCount = 0
        for rawLine in bytes.split(separator: ByteClass.lf, omittingEmptySubsequences: true) {
            var line = rawLine[...]
            if line.last == ByteClass.cr { line = line.dropLast() }
            if line.isEmpty { continue }
            lineCount += 1
            guard lineCount <= SDPSession.maxLines else {
                throw SIPParseError(.invalidSDP, "more than \(SDPSession.maxLines) lines")
            }
            guard line.count >= 2, let type = line.first, type &- 0x61 < 26,
                  line[line.startIndex + 1] == ByteClass.equals else {
                throw SIPParseError(.invalidSDP, "line \(lineCount) is not 'x=value'")
            }
            guard let value = String(validating: line.dropFirst(2), as: UTF8.self),
                  !value.utf8.contains(where: { $0 == ByteClass.cr || $0 == 0 }) else {
                throw SIPParseError(.invalidSDP, "line \(lineCount) is not valid UTF-8 text")
            }
            let sdpLine = SDPLine(type: Character(Unicode.Scalar(type)), value: value)
            if lineCount == 1, sdpLine.type != "v" || value != "0" {
                throw SIPParseError(.invalidSDP, "SDP must start with v=0")
            }
            switch sdpLine.type {
            case "m":
                let mediaLine = try SDPMediaLine(parsing: value)
                if !section.isEmpty { media.append(SDPMediaDescription(lines: section, mediaLine: sectionMediaLine)) }
                section = [sdpLine]
                sectionMediaLine = mediaLine
            case "c":
                try SDPConnection.validate(value)
                fallthrough
            default:
                if sdpLine.type == "o" { try SDPOrigin.validate(value) }
                if section.isEmpty {
                    sessionLines.append(sdpLine)
                } else {
                    section.append(sdpLine)
                }
            }
        }
        guard lineCount > 0 else { throw SIPParseError(.invalidSDP, "empty SDP") }
        if !section.isEmpty { media.append(SDPMediaDescription(lines: section, mediaLine: sectionMediaLine)) }
        self.sessionLines = sessionLines
        self.media = media
    }

    public func serialized() -> [UInt8] {
        var text = ""
        for line in sessionLines { line.write(to: &text) }
        for section in media {
            for line in section.lines { line.write(to: &text) }
        }
        return Array(text.utf8)
    }

    public var origin: SDPOrigin? {
        sessionLines.first { $0.type == "o" }.flatMap { try? SDPOrigin(parsing: $0.value) }
    }

    /// Session-level c= line.
    public var connection: SDPConnection? {
        sessionLines.first { $0.type == "c" }.flatMap { try? SDPConnection(parsing: $0.value) }
    }

    /// Session-level a= attributes.
    public var attributes: [SDPAttribute] {
        sessionLines.filter { $0.type == "a" }.map { SDPAttribute(line: $0.value) }
    }

    /// Points every c= line (session and media level) at `address`, as a media relay anchoring
    /// the call does. With `includeOrigin`, o= is rewritten too.
    public mutating func setConnectionAddress(_ address: String, addressType: String = "IP4", includeOrigin: Bool = false) {
        let connection = SDPConnection(addressType: addressType, address: address).description
        for index in sessionLines.indices {
            if sessionLines[index].type == "c" {
                sessionLines[index].value = connection
            } else if includeOrigin, sessionLines[index].type == "o",
                      var origin = try? SDPOrigin(parsing: sessionLines[index].value) {
                origin.addressType = addressType
                origin.address = address
                sessionLines[index].value = origin.description
            }
        }
        for index in media.indices { media[index].setConnectionAddress(connection) }
    }

    /// Sets the port of media section `index` (0-based, in m= order).
    public mutating func setMediaPort(_ port: Int, at index: Int) {
        guard media.indices.contains(index) else { return }
        media[index].port = port
    }
}

/// One `x=value` line.
public struct SDPLine: Sendable, Equatable {
    public var type: Character
    public var value: String

    public init(type: Character, value: String) {
        self.type = type
        self.value = value
    }

    func write(to output: inout String) {
        output.append(type)
        output += "="
        output += value
        output += "\r\n"
    }
}
