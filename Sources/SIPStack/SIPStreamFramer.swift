/// Cuts a SIP byte stream (TCP) into messages (RFC 3261 §18.3): a message ends after the
/// empty line that closes its header section plus Content-Length body bytes. Bytes arrive in
/// arbitrary pieces, so the framer buffers until a whole message is there.
///
/// Keep-alives (RFC 5626 §3.5.1): a double CRLF between messages is a ping the transport
/// answers with a single CRLF; a lone CRLF (a pong, or the stray CRLFs RFC 3261 §7.5 tolerates)
/// is skipped.
///
/// Once a frame is `.malformed` the stream has lost sync (there is no way to know where the
/// next message starts), so the framer returns nothing more and the connection must close.
public struct SIPStreamFramer {
    public enum Frame: Equatable, Sendable {
        /// One complete message: header section and exactly Content-Length body bytes.
        case message([UInt8])
        /// A CRLFCRLF keep-alive ping; answer with CRLF.
        case keepAlivePing
        case malformed(SIPStreamFramingError)
    }

    /// Largest message accepted (header section plus body), as for UDP datagrams.
    public let maximumMessageSize: Int
    private var buffer: [UInt8] = []
    /// Bytes of `buffer` before this index are already framed; compacted lazily.
    private var start = 0
    /// Where to resume looking for the end of the header section, so a header section that
    /// trickles in byte by byte is not rescanned from the start each time.
    private var searchFrom = 0
    private var failed = false

    public init(maximumMessageSize: Int = 65_536) {
        self.maximumMessageSize = maximumMessageSize
    }

    /// Bytes received but not yet returned as a frame.
    public var bufferedByteCount: Int { buffer.count - start }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard !failed, !bytes.isEmpty else { return }
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            searchFrom -= start
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// The next complete frame, or nil when more bytes are needed (or the stream failed).
    public mutating func next() -> Frame? {
        guard !failed else { return nil }
        if let keepAlive = skipKeepAlives() { return keepAlive }
        guard start < buffer.count else { return nil }
        guard let bodyStart = headerSectionEnd() else {
            if buffer.count - start > maximumMessageSize {
                return fail(.headerSectionTooLarge, "no end of header section within \(maximumMessageSize) bytes", headerSection: nil)
            }
            return nil
        }
        let headerSection = Array(buffer[start..<bodyStart])
        let bodyLength: Int
        switch SIPStreamFramer.contentLength(in: headerSection) {
        case let .length(length): bodyLength = length
        case .missing:
            return fail(.missingContentLength, "Content-Length is required on a stream (RFC 3261 §18.3)", headerSection: headerSection)
        case let .invalid(reason):
            return fail(.invalidContentLength, reason, headerSection: headerSection)
        }
        guard bodyLength <= maximumMessageSize - headerSection.count else {
            return fail(.messageTooLarge, "message of \(headerSection.count) header bytes plus a \(bodyLength)-byte body exceeds \(maximumMessageSize)",
                        headerSection: headerSection)
        }
        let end = bodyStart + bodyLength
        guard end <= buffer.count else { return nil }
        let message = Array(buffer[start..<end])
        start = end
        searchFrom = end
        return .message(message)
    }

    /// At a message boundary: CRLFCRLF is a ping; other CR/LF bytes are skipped. A few CR/LF
    /// bytes alone wait for more, since they may be the first half of a ping.
    private mutating func skipKeepAlives() -> Frame? {
        while start < buffer.count, SIPStreamFramer.isLineBreak(buffer[start]) {
            if buffer.count - start >= 4, buffer[start] == SIPStreamFramer.cr, buffer[start + 1] == SIPStreamFramer.lf,
               buffer[start + 2] == SIPStreamFramer.cr, buffer[start + 3] == SIPStreamFramer.lf {
                start += 4
                searchFrom = start
                return .keepAlivePing
            }
            if buffer[start...].allSatisfy(SIPStreamFramer.isLineBreak) && buffer.count - start < 4 { return nil }
            start += 1
            searchFrom = start
        }
        return nil
    }

    /// Index just past the empty line ending the header section (CRLF CRLF; bare LFs tolerated
    /// as the datagram parser tolerates them), or nil if it has not arrived yet.
    private mutating func headerSectionEnd() -> Int? {
        var index = max(searchFrom, start)
        while index < buffer.count {
            if buffer[index] == SIPStreamFramer.lf {
                if index + 1 < buffer.count, buffer[index + 1] == SIPStreamFramer.lf { return index + 2 }
                if index + 2 < buffer.count, buffer[index + 1] == SIPStreamFramer.cr, buffer[index + 2] == SIPStreamFramer.lf { return index + 3 }
                if index + 2 >= buffer.count {
                    // The terminator may be cut here: resume at this LF once more bytes arrive.
                    searchFrom = index
                    return nil
                }
            }
            index += 1
        }
        searchFrom = index
        return nil
    }

    private mutating func fail(_ kind: SIPStreamFramingError.Kind, _ detail: String, headerSection: [UInt8]?) -> Frame {
        failed = true
        buffer = []
        start = 0
        searchFrom = 0
        return .malformed(SIPStreamFramingError(kind: kind, detail: detail, headerSection: headerSection))
    }

    enum ContentLength: Equatable {
        case length(Int)
        case missing
        case invalid(String)
    }

    /// Content-Length (or compact `l`) from a header section. Repeated headers must agree.
    static func contentLength(in headerSection: [UInt8]) -> ContentLength {
        var found: Int?
        var lineStart = 0
        // The start line is skipped: it has no colon-separated name we care about, and a
        // Request-URI may contain "l:" (sip:l:...) that must not be mistaken for a header.
        var isStartLine = true
        for index in headerSection.indices where headerSection[index] == lf {
            defer { lineStart = index + 1 }
            if isStartLine {
                isStartLine = false
                continue
            }
            let line = headerSection[lineStart..<index]
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = line[lineStart..<colon].filter { $0 != space && $0 != tab }
            guard isContentLengthName(name) else { continue }
            let value = line[(colon + 1)...].filter { $0 != space && $0 != tab && $0 != cr }
            guard !value.isEmpty, value.count <= 9, value.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
                return .invalid("Content-Length '\(String(decoding: value.prefix(20), as: UTF8.self))' is not a number")
            }
            let length = value.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
            if let found, found != length { return .invalid("Content-Length given twice: \(found) and \(length)") }
            found = length
        }
        return found.map(ContentLength.length) ?? .missing
    }

    private static func isContentLengthName(_ name: [UInt8]) -> Bool {
        let lowered = name.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 + 32 : $0 }
        return lowered == Array("content-length".utf8) || lowered == [UInt8(ascii: "l")]
    }

    private static func isLineBreak(_ byte: UInt8) -> Bool { byte == cr || byte == lf }

    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
}
