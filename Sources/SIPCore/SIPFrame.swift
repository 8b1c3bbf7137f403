/// Stage one of parsing: the start line, the unfolded header fields and where the body starts.
/// Knows nothing about header semantics, so it also serves the 400-answerability check.
struct SIPFrame {
    var startLine: String
    var headers: [SIPHeader]
    var bodyStart: Int

    static func frame(_ bytes: UnsafeBufferPointer<UInt8>, limits: SIPParserLimits) throws(SIPParseError) -> SIPFrame {
        guard bytes.count <= limits.maxMessageSize else {
            throw SIPParseError(.messageTooLarge, "message of \(bytes.count) bytes exceeds \(limits.maxMessageSize)")
        }
        var index = 0
        // RFC 3261 §7.5: ignore CRLFs before the start line (keep-alives).
        while index < bytes.count, bytes[index] == ByteClass.cr || bytes[index] == ByteClass.lf { index += 1 }
        guard let (startEnd, afterStart) = lineEnd(bytes, from: index) else {
            throw SIPParseError(.incompleteHeaderSection, "no complete start line")
        }
        guard startEnd - index <= limits.maxLineLength else {
            throw SIPParseError(.lineTooLong, "start line longer than \(limits.maxLineLength) bytes")
        }
        let startLine = try text(bytes, index..<startEnd, what: "start line")
        index = afterStart

        var headers: [SIPHeader] = []
        var pendingName: String?
        var pendingValue: [UInt8] = []
        pendingValue.reserveCapacity(256)

        func flush() throws(SIPParseError) {
            guard let name = pendingName else { return }
            while let last = pendingValue.last, ByteClass.isWhitespace(last) { pendingValue.removeLast() }
            guard let value = String(validating: pendingValue, as: UTF8.self) else {
                throw SIPParseError(.invalidEncoding, header: name, "value is not valid UTF-8")
            }
            guard headers.count < limits.maxHeaderCount else {
                throw SIPParseError(.tooManyHeaders, "more than \(limits.maxHeaderCount) header fields")
            }
            headers.append(SIPHeader(name: name, value: value))
            pendingName = nil
            pendingValue.removeAll(keepingCapacity: true)
        }

        while true {
            guard let (end, next) = lineEnd(bytes, from: index) else {
                throw SIPParseError(.incompleteHeaderSection, "header section not terminated by an empty line")
            }
            if end == index {
                try flush()
                return SIPFrame(startLine: startLine, headers: headers, bodyStart: next)
            }
            if ByteClass.isWhitespace(bytes[index]) {
                // Folded continuation: LWS is equivalent to a single SP (RFC 3261 §7.3.1).
                guard let name = pendingName else {
                    throw SIPParseError(.invalidHeader, "continuation line before any header")
                }
                var contentStart = index
                while contentStart < end, ByteClass.isWhitespace(bytes[contentStart]) { contentStart += 1 }
                if contentStart < end {
                    while let last = pendingValue.last, ByteClass.isWhitespace(last) { pendingValue.removeLast() }
                    if !pendingValue.isEmpty { pendingValue.append(ByteClass.space) }
                    try appendValue(bytes, contentStart..<end, to: &pendingValue, header: name)
                }
                guard name.utf8.count + pendingValue.count <= limits.maxLineLength else {
                    throw SIPParseError(.lineTooLong, header: name, "header longer than \(limits.maxLineLength) bytes")
                }
            } else {
                try flush()
                var colon = index
                while colon < end, bytes[colon] != ByteClass.colon { colon += 1 }
                guard colon < end else {
                    throw SIPParseError(.invalidHeader, "header line without ':'")
                }
                var nameEnd = colon
                while nameEnd > index, ByteClass.isWhitespace(bytes[nameEnd - 1]) { nameEnd -= 1 }
                guard nameEnd > index, bytes[index..<nameEnd].allSatisfy(ByteClass.isToken) else {
                    throw SIPParseError(.invalidHeader, "invalid header name")
                }
                guard end - index <= limits.maxLineLength else {
                    throw SIPParseError(.lineTooLong, "header line longer than \(limits.maxLineLength) bytes")
                }
                let name = String(decoding: UnsafeBufferPointer(rebasing: bytes[index..<nameEnd]), as: UTF8.self)
                var valueStart = colon + 1
                while valueStart < end, ByteClass.isWhitespace(bytes[valueStart]) { valueStart += 1 }
                try appendValue(bytes, valueStart..<end, to: &pendingValue, header: name)
                pendingName = name
            }
            index = next
        }
    }

    /// Finds the end of the line starting at `start`: returns the index of its CR (or LF) and the
    /// index after the LF. Bare LF is tolerated as a line end; nil when no LF follows.
    private static func lineEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> (Int, Int)? {
        var index = start
        while index < bytes.count {
            if bytes[index] == ByteClass.lf {
                let end = index > start && bytes[index - 1] == ByteClass.cr ? index - 1 : index
                return (end, index + 1)
            }
            index += 1
        }
        return nil
    }

    private static func appendValue(
        _ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, to value: inout [UInt8], header: String
    ) throws(SIPParseError) {
        let slice = bytes[range]
        if slice.contains(ByteClass.cr) {
            throw SIPParseError(.invalidHeader, header: header, "bare CR inside header value")
        }
        value.append(contentsOf: slice)
    }

    private static func text(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, what: String) throws(SIPParseError) -> String {
        let slice = UnsafeBufferPointer(rebasing: bytes[range])
        guard !slice.contains(where: { ($0 < 0x20 && $0 != ByteClass.tab) || $0 == 0x7F }) else {
            throw SIPParseError(.invalidStartLine, "control character in \(what)")
        }
        guard let string = String(validating: slice, as: UTF8.self) else {
            throw SIPParseError(.invalidEncoding, "\(what) is not valid UTF-8")
        }
        return string
    }
}
