import Testing
@testable import SIPCore

private let offer = utf8("""
    v=0\r
    o=alice 2890844526 2890844526 IN IP4 192.0.2.10\r
    s=-\r
    c=IN IP4 192.0.2.10\r
    t=0 0\r
    a=sendrecv\r
    m=audio 49170 RTP/AVP 0 8 18 101\r
    a=rtpmap:0 PCMU/8000\r
    a=rtpmap:18 G729/8000\r
    a=fmtp:18 annexb=no\r
    a=rtpmap:101 telephone-event/8000\r
    a=fmtp:101 0-16\r
    a=ptime:20\r
    a=sendonly\r
    m=video 51372/2 RTP/AVP 31\r
    c=IN IP4 192.0.2.11\r

    """)

@Suite struct SDPTests {
    @Test func parsesSessionAndMedia() throws {
        let sdp = try SDPSession(parsing: offer)
        #expect(sdp.origin?.username == "alice")
        #expect(sdp.connection?.address == "192.0.2.10")
        #expect(sdp.attributes.map(\.name) == ["sendrecv"])
        #expect(sdp.media.count == 2)
        let audio = sdp.media[0]
        #expect(audio.mediaType == "audio")
        #expect(audio.port == 49170)
        #expect(audio.payloadTypes == [0, 8, 18, 101])
        #expect(audio.rtpmap(for: 18) == SDPRtpMap(attributeValue: "18 G729/8000"))
        #expect(audio.rtpmap(for: 18)?.clockRate == 8000)
        #expect(audio.fmtp(for: 18) == "annexb=no")
        #expect(audio.ptime == 20)
        #expect(audio.direction == "sendonly")
        #expect(sdp.media[1].connection?.address == "192.0.2.11")
        #expect(sdp.serialized() == offer)
    }

    @Test func relayRewrite() throws {
        var sdp = try SDPSession(parsing: offer)
        sdp.setConnectionAddress("203.0.113.1", includeOrigin: true)
        sdp.setMediaPort(30000, at: 0)
        sdp.setMediaPort(30002, at: 1)
        let rewritten = try SDPSession(parsing: sdp.serialized())
        #expect(rewritten.connection?.address == "203.0.113.1")
        #expect(rewritten.origin?.address == "203.0.113.1")
        #expect(rewritten.media[1].connection?.address == "203.0.113.1")
        #expect(rewritten.media.map(\.port) == [30000, 30002])
        #expect(rewritten.media[1].lines[0].value == "video 30002/2 RTP/AVP 31")
        #expect(rewritten.media[0].payloadTypes == [0, 8, 18, 101])
    }

    @Test func ipv6Rewrite() throws {
        var sdp = try SDPSession(parsing: offer)
        sdp.setConnectionAddress("2001:db8::5", addressType: "IP6")
        #expect(sdp.connection == SDPConnection(addressType: "IP6", address: "2001:db8::5"))
    }

    /// The m= line is decoded once and kept: a section whose lines change must read the new one.
    @Test func aSectionReadsItsMLineAfterTheLinesChange() throws {
        var sdp = try SDPSession(parsing: offer)
        sdp.media[0].lines[0].value = "audio 40000 RTP/AVP 8"
        #expect(sdp.media[0].port == 40000)
        #expect(sdp.media[0].payloadTypes == [8])
        sdp.media[1].lines = [SDPLine(type: "m", value: "audio 6000 RTP/AVP 0")] + sdp.media[1].lines.dropFirst()
        #expect(sdp.firstAudioIndex == 0)
        sdp.media[0].lines[0].value = "not an m line"
        #expect(sdp.media[0].mediaType == nil)
        #expect(sdp.firstAudioIndex == 1)
        #expect(sdp.media[1].audioFormats.map(\.encoding) == ["PCMU"])
        #expect(sdp.media[0] != sdp.media[1])
    }

    @Test func attributeLinesAreReadByExactName() throws {
        let media = SDPMediaDescription(lines: [
            SDPLine(type: "m", value: "audio 5000 RTP/AVP 18"), SDPLine(type: "a", value: "ptimes:30"),
            SDPLine(type: "a", value: "ptime"), SDPLine(type: "a", value: "ptime:20"), SDPLine(type: "a", value: "rtpmapx:18 X/1"),
            SDPLine(type: "a", value: "rtpmap:18 G729/8000"), SDPLine(type: "a", value: "fmtp:18 annexb=no"),
        ])
        #expect(media.ptime == 20)
        #expect(media.rtpmap(for: 18)?.encoding == "G729")
        #expect(media.fmtp(for: 18) == "annexb=no")
        #expect(media.fmtp(for: 1) == nil)
    }

    @Test(arguments: ["", "o=x 1 1 IN IP4 h\r\n", "v=0\r\nm=audio x RTP/AVP 0\r\n",
                      "v=0\r\nc=IN IP4\r\n", "v=0\r\nc=IN IP4 a b\r\n", "v=0\r\no=a 1 1 IN IP4\r\n", "v=0\r\nbad line\r\n", "v=0\r\nm=audio 70000 RTP/AVP 0\r\n"])
    func rejects(_ text: String) {
        #expect(throws: SIPParseError.self) { try SDPSession(parsing: utf8(text)) }
    }
}
