/// Answering requests the parser rejected (RFC 3261 §8.2 / RFC 4475 §3.1.2).
///
/// A 400 can only be sent when the request still frames (start line plus header section) and
/// carries the five headers a response is built from: Via, From, To, Call-ID and CSeq. Their
/// values are copied verbatim even when one of them is what failed to parse: the client needs
/// them to match the response to its transaction. Responses and unframeable garbage are dropped.
public enum SIPBadRequest {
    /// The error response for `bytes` that failed with `error`, or nil if none can be sent.
    /// The status is `error.suggestedStatusCode` (400, 505, 513) and the reason names the culprit;
    /// a Warning header carries the full description.
    public static func response(
        for bytes: [UInt8], error: SIPParseError, toTag: String? = nil,
        limits: SIPParserLimits = .default
    ) -> SIPMessage? {
        let framed: SIPFrame? = bytes.withUnsafeBufferPointer { buffer in
            try? SIPFrame.frame(buffer, limits: limits)
        }
        guard let frame = framed, let method = requestMethod(frame.startLine) else { return nil }
        let keys = Set(frame.headers.map(\.key))
        for required in [SIPHeaderName.via, SIPHeaderName.from, SIPHeaderName.to,
                         SIPHeaderName.callID, SIPHeaderName.cseq] where !keys.contains(required) {
            return nil
        }
        // ACK never gets a response (RFC 3261 §17.2.1).
        if method == "ACK" { return nil }
        let request = SIPMessage(
            startLine: .request(method: method, uri: SIPURI(host: "invalid"), version: "SIP/2.0"),
            headers: frame.headers)
        var response = SIPMessage.response(
            to: request, status: error.suggestedStatusCode, reason: error.suggestedReasonPhrase, toTag: toTag)
        var warning = ""
        SIPNameAddress.writeQuoted(sanitized(error.description), to: &warning)
        response.headers.insert(SIPHeader(name: "Warning", value: "399 vos " + warning),
                                at: response.headers.count - 1)
        return response
    }

    /// Whether `bytes`, rejected by the parser, can be answered at all.
    public static func isAnswerable(_ bytes: [UInt8], limits: SIPParserLimits = .default) -> Bool {
        response(for: bytes, error: SIPParseError(.invalidHeader, "probe"), limits: limits) != nil
    }

    private static func requestMethod(_ startLine: String) -> String? {
        guard let space = startLine.utf8.firstIndex(of: ByteClass.space) else { return nil }
        let method = String(startLine[..<space])
        guard ByteClass.isTokenString(method),
              !ByteClass.equalsIgnoringCase(String(method.prefix(4)), "SIP/") else { return nil }
        return method
    }

    /// Warning text must be a quoted-string; keep it printable ASCII so any peer can show it.
    private static func sanitized(_ text: String) -> String {
        String(decoding: text.utf8.prefix(200).map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: "?") },
               as: UTF8.self)
    }
}
