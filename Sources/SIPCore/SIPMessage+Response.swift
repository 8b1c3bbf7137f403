/// Building responses from requests (RFC 3261 §8.2.6).
extension SIPMessage {
    /// A response to `request`: copies every Via, From, To, Call-ID and CSeq in order, adds
    /// `toTag` to To when the request had none, and ends with `Content-Length: 0`.
    /// Header values are copied as text, so this also works for requests whose To failed to
    /// parse (the tag is then appended textually).
    public static func response(
        to request: SIPMessage, status: Int, reason: String? = nil, toTag: String? = nil
    ) -> SIPMessage {
        var headers: [SIPHeader] = []
        for header in request.headers {
            switch header.key {
            case SIPHeaderName.via, SIPHeaderName.from, SIPHeaderName.callID, SIPHeaderName.cseq:
                headers.append(header)
            case SIPHeaderName.to:
                headers.append(SIPHeader(name: header.name, value: addingTag(toTag, to: header.value)))
            default:
                break
            }
        }
        headers.append(SIPHeader(name: "Content-Length", value: "0"))
        let phrase = reason ?? SIPStatus.reasonPhrase(for: status)
        return SIPMessage(startLine: .response(version: "SIP/2.0", statusCode: status, reasonPhrase: phrase),
                          headers: headers)
    }

    private static func addingTag(_ tag: String?, to value: String) -> String {
        guard let tag else { return value }
        if var address = try? SIPNameAddress(parsing: value) {
            if address.tag != nil { return value }
            address.tag = tag
            return address.description
        }
        return value + ";tag=" + tag
    }
}

/// Default reason phrases (RFC 3261 §21 and common extensions).
public enum SIPStatus {
    public static func reasonPhrase(for code: Int) -> String {
        switch code {
        case 100: return "Trying"
        case 180: return "Ringing"
        case 181: return "Call Is Being Forwarded"
        case 182: return "Queued"
        case 183: return "Session Progress"
        case 200: return "OK"
        case 202: return "Accepted"
        case 300: return "Multiple Choices"
        case 301: return "Moved Permanently"
        case 302: return "Moved Temporarily"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 407: return "Proxy Authentication Required"
        case 408: return "Request Timeout"
        case 413: return "Request Entity Too Large"
        case 415: return "Unsupported Media Type"
        case 416: return "Unsupported URI Scheme"
        case 420: return "Bad Extension"
        case 422: return "Session Interval Too Small"
        case 480: return "Temporarily Unavailable"
        case 481: return "Call/Transaction Does Not Exist"
        case 482: return "Loop Detected"
        case 483: return "Too Many Hops"
        case 484: return "Address Incomplete"
        case 486: return "Busy Here"
        case 487: return "Request Terminated"
        case 488: return "Not Acceptable Here"
        case 491: return "Request Pending"
        case 500: return "Server Internal Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Server Time-out"
        case 505: return "Version Not Supported"
        case 513: return "Message Too Large"
        case 600: return "Busy Everywhere"
        case 603: return "Decline"
        case 604: return "Does Not Exist Anywhere"
        case 606: return "Not Acceptable"
        default: return "Unknown"
        }
    }
}
