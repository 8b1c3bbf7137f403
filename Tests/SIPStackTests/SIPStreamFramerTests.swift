import Testing
@testable import SIPStack

/// Cutting a TCP byte stream into SIP messages, whatever the read boundaries.
@Suite struct SIPStreamFramerTests {
    static let options = "OPTIONS sip:vos@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.2:5060;branch=z9hG4bK1\r\n"
        + "From: <sip:a@x>;tag=1\r\nTo: <sip:b@y>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    static let body = "v=0\r\no=- 1 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n"
    static let invite = "INVITE sip:4420@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.2:5060;branch=z9hG4bK2\r\n"
        + "From: <sip:a@x>;tag=1\r\nTo: <sip:b@y>\r\nCall-ID: c2\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n"
        + "Content-Length: \(body.utf8.count)\r\n\r\n" + body

    private func frames(_ framer: inout SIPStreamFramer) -> [SIPStreamFramer.Frame] {
        var result: [SIPStreamFramer.Frame] = []
        while let frame = framer.next() { result.append(frame) }
        return result
    }

    private func text(_ frame: SIPStreamFramer.Frame?) -> String? {
        guard case let .message(bytes) = frame else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    private func error(_ frame: SIPStreamFramer.Frame?) -> SIPStreamFramingError? {
        guard case let .malformed(error) = frame else { return nil }
        return error
    }

    @Test func oneMessageInOneRead() {
        var framer = SIPStreamFramer()
        framer.append(Array(Self.options.utf8))
        #expect(frames(&framer).map(text) == [Self.options])
        #expect(framer.bufferedByteCount == 0)
    }

    @Test func everySplitPointOfTwoMessagesYieldsBoth() {
        let stream = Array((Self.invite + Self.options).utf8)
        for cut in 0...stream.count {
            var framer = SIPStreamFramer()
            framer.append(Array(stream[..<cut]))
            var seen = frames(&framer)
            framer.append(Array(stream[cut...]))
            seen += frames(&framer)
            #expect(seen.map(text) == [Self.invite, Self.options], "cut at \(cut)")
        }
    }

    @Test func byteByByteDelivery() {
        var framer = SIPStreamFramer()
        var seen: [SIPStreamFramer.Frame] = []
        for byte in Array((Self.options + Self.invite + Self.options).utf8) {
            framer.append([byte])
            seen += frames(&framer)
        }
        #expect(seen.map(text) == [Self.options, Self.invite, Self.options])
    }

    @Test func severalMessagesInOneRead() {
        var framer = SIPStreamFramer()
        framer.append(Array((Self.options + Self.invite + Self.options + Self.invite).utf8))
        #expect(frames(&framer).map(text) == [Self.options, Self.invite, Self.options, Self.invite])
    }

    @Test func bodyArrivingAcrossReadsWaitsForContentLength() {
        var framer = SIPStreamFramer()
        let bytes = Array(Self.invite.utf8)
        let headerEnd = bytes.count - Self.body.utf8.count
        framer.append(Array(bytes[..<(headerEnd + 5)]))
        #expect(framer.next() == nil, "the body is incomplete")
        framer.append(Array(bytes[(headerEnd + 5)..<(bytes.count - 1)]))
        #expect(framer.next() == nil, "one byte still missing")
        framer.append([bytes[bytes.count - 1]])
        #expect(text(framer.next()) == Self.invite)
    }

    @Test func compactContentLengthAndOddSpacing() {
        let message = "MESSAGE sip:a@b SIP/2.0\r\nv: SIP/2.0/TCP h;branch=z9hG4bK3\r\nl :  5 \r\n\r\nhello"
        var framer = SIPStreamFramer()
        framer.append(Array((message + Self.options).utf8))
        #expect(frames(&framer).map(text) == [message, Self.options])
        #expect(SIPStreamFramer.contentLength(in: Array("X sip:l:1 SIP/2.0\r\nCONTENT-LENGTH:7\r\n\r\n".utf8)) == .length(7))
    }

    @Test func keepAlivePingsAndPongsBetweenMessages() {
        var framer = SIPStreamFramer()
        framer.append(Array(("\r\n\r\n" + Self.options + "\r\n" + Self.options + "\r\n\r\n").utf8))
        let seen = frames(&framer)
        #expect(seen.count == 4)
        #expect(seen.first == .keepAlivePing)
        #expect(text(seen[1]) == Self.options)
        #expect(text(seen[2]) == Self.options, "a lone CRLF (pong) is skipped")
        #expect(seen.last == .keepAlivePing)
    }

    @Test func pingSplitAcrossReadsIsStillAPing() {
        var framer = SIPStreamFramer()
        framer.append(Array("\r\n".utf8))
        #expect(framer.next() == nil)
        framer.append(Array("\r\n".utf8))
        #expect(framer.next() == .keepAlivePing)
    }

    @Test func oversizedBodyIsRejectedWithItsHeaderSection() {
        var framer = SIPStreamFramer(maximumMessageSize: 4096)
        let header = "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK4\r\nContent-Length: 100000\r\n\r\n"
        framer.append(Array(header.utf8))
        let failure = error(framer.next())
        #expect(failure?.kind == .messageTooLarge)
        #expect(failure?.headerSection == Array(header.utf8))
        #expect(failure?.parseError.suggestedStatusCode == 513)
        framer.append(Array(Self.options.utf8))
        #expect(framer.next() == nil, "a failed stream yields nothing more")
    }

    @Test func endlessHeaderSectionIsRejected() {
        var framer = SIPStreamFramer(maximumMessageSize: 4096)
        framer.append(Array("INVITE sip:a@b SIP/2.0\r\n".utf8))
        for _ in 0..<200 {
            framer.append(Array("X-Filler: aaaaaaaaaaaaaaaaaaaaaaaa\r\n".utf8))
            if framer.bufferedByteCount > 4096 { break }
            #expect(framer.next() == nil)
        }
        #expect(error(framer.next())?.kind == .headerSectionTooLarge)
    }

    @Test func garbageWithoutContentLengthIsRejected() {
        var framer = SIPStreamFramer()
        framer.append([0x00, 0xff, 0x13, 0x37] + Array("\r\n\r\n".utf8))
        #expect(error(framer.next())?.kind == .missingContentLength)
        var random = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var noisy = SIPStreamFramer(maximumMessageSize: 2048)
            noisy.append((0..<Int(random.next() % 4000)).map { _ in UInt8.random(in: 0...255, using: &random) })
            // Whatever the noise, framing ends: a frame, a failure, or a wait bounded by the limit.
            var count = 0
            while noisy.next() != nil { count += 1 }
            #expect(noisy.bufferedByteCount <= 4000)
            #expect(count < 2000)
        }
    }

    @Test func invalidOrConflictingContentLength() {
        var framer = SIPStreamFramer()
        framer.append(Array("BYE sip:a@b SIP/2.0\r\nContent-Length: 12x\r\n\r\n".utf8))
        #expect(error(framer.next())?.kind == .invalidContentLength)
        var twice = SIPStreamFramer()
        twice.append(Array("BYE sip:a@b SIP/2.0\r\nContent-Length: 1\r\nl: 2\r\n\r\nab".utf8))
        #expect(error(twice.next())?.kind == .invalidContentLength)
        var negative = SIPStreamFramer()
        negative.append(Array("BYE sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n".utf8))
        #expect(error(negative.next())?.kind == .invalidContentLength)
    }

    @Test func responsesAreFramedToo() {
        let response = "SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK5\r\nContent-Length: 2\r\n\r\nok"
        var framer = SIPStreamFramer()
        framer.append(Array((response + response).utf8))
        #expect(frames(&framer).map(text) == [response, response])
    }
}
