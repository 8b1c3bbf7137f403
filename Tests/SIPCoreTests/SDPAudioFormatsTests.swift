import Testing
@testable import SIPCore

/// Reading and rewriting the first audio stream's format list: static payload types without
/// rtpmap are named, and a rewrite keeps every line that is not a format's own.
@Suite struct SDPAudioFormatsTests {
    static let offer = utf8("""
        v=0\r
        o=alice 1 1 IN IP4 192.0.2.10\r
        s=-\r
        c=IN IP4 192.0.2.10\r
        t=0 0\r
        a=ptime:30\r
        m=audio 49170 RTP/AVP 0 8 18 4 3 101 96\r
        a=rtpmap:18 G729/8000\r
        a=fmtp:18 annexb=no\r
        a=rtpmap:101 telephone-event/8000\r
        a=fmtp:101 0-16\r
        a=rtcp-fb:101 nack\r
        a=sendrecv\r
        m=audio 49180 RTP/AVP 0\r

        """)

    @Test func readsStaticAndMappedFormats() throws {
        let sdp = try SDPSession(parsing: Self.offer)
        let formats = try #require(sdp.audioFormats)
        #expect(formats == [
            SDPAudioFormat(payloadType: 0, encoding: "PCMU", clockRate: 8000),
            SDPAudioFormat(payloadType: 8, encoding: "PCMA", clockRate: 8000),
            SDPAudioFormat(payloadType: 18, encoding: "G729", clockRate: 8000, fmtp: "annexb=no"),
            SDPAudioFormat(payloadType: 4, encoding: "G723", clockRate: 8000),
            SDPAudioFormat(payloadType: 3, encoding: "GSM", clockRate: 8000),
            SDPAudioFormat(payloadType: 101, encoding: "telephone-event", clockRate: 8000, fmtp: "0-16"),
        ], "96 has no rtpmap and names no codec")
        #expect(sdp.audioPtime == 30, "session-level ptime when the stream has none")
        #expect(sdp.firstAudioIndex == 0)
    }

    @Test func mediaLevelPtimeAndChannelsAreRead() throws {
        let sdp = try SDPSession(parsing: utf8("v=0\r\nm=audio 4000 RTP/AVP 97\r\na=rtpmap:97 opus/48000/2\r\na=ptime:40\r\n"))
        #expect(sdp.audioFormats == [SDPAudioFormat(payloadType: 97, encoding: "opus", clockRate: 48000, channels: 2)])
        #expect(sdp.audioPtime == 40)
    }

    @Test func noAudioStream() throws {
        var sdp = try SDPSession(parsing: utf8("v=0\r\nm=video 4000 RTP/AVP 31\r\n"))
        #expect(sdp.audioFormats == nil && sdp.audioPtime == nil)
        #expect(throws: SIPParseError(.invalidSDP, "no m=audio stream to rewrite")) {
            try sdp.replaceAudioFormats(with: [SDPAudioFormat(payloadType: 0, encoding: "PCMU", clockRate: 8000)])
        }
    }

    @Test func replacingWritesTheNewListAndKeepsOtherLines() throws {
        var sdp = try SDPSession(parsing: Self.offer)
        try sdp.replaceAudioFormats(with: [
            SDPAudioFormat(payloadType: 18, encoding: "G729", clockRate: 8000),
            SDPAudioFormat(payloadType: 105, encoding: "telephone-event", clockRate: 8000, fmtp: "0-15"),
        ])
        let expected = """
            v=0\r
            o=alice 1 1 IN IP4 192.0.2.10\r
            s=-\r
            c=IN IP4 192.0.2.10\r
            t=0 0\r
            a=ptime:30\r
            m=audio 49170 RTP/AVP 18 105\r
            a=rtpmap:18 G729/8000\r
            a=rtpmap:105 telephone-event/8000\r
            a=fmtp:105 0-15\r
            a=sendrecv\r
            m=audio 49180 RTP/AVP 0\r

            """
        #expect(String(decoding: sdp.serialized(), as: UTF8.self) == expected, "old rtpmap/fmtp/rtcp-fb gone, the second stream untouched")
        let reread = try SDPSession(parsing: sdp.serialized())
        #expect(reread.audioFormats?.map(\.payloadType) == [18, 105])
        #expect(reread.media[0].fmtp(for: 18) == nil, "G.729's old annexb=no went with the old fmtp line")
    }

    @Test func keptFormatsKeepTheirFeedbackAndNewLinesGoBeforeTheFirstAttribute() throws {
        var media = SDPMediaDescription(lines: [
            SDPLine(type: "m", value: "audio 5000 RTP/AVP 0 101"),
            SDPLine(type: "c", value: "IN IP4 192.0.2.1"),
            SDPLine(type: "a", value: "rtcp-fb:101 nack"),
            SDPLine(type: "a", value: "rtcp-fb:* trr-int 100"),
            SDPLine(type: "a", value: "ptime:20"),
        ])
        try media.replaceFormats(with: [SDPAudioFormat(payloadType: 8, encoding: "PCMA", clockRate: 8000),
                                        SDPAudioFormat(payloadType: 101, encoding: "telephone-event", clockRate: 8000, fmtp: "0-16")])
        #expect(media.lines.map { "\($0.type)=\($0.value)" } == [
            "m=audio 5000 RTP/AVP 8 101", "c=IN IP4 192.0.2.1",
            "a=rtpmap:8 PCMA/8000", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16",
            "a=rtcp-fb:101 nack", "a=rtcp-fb:* trr-int 100", "a=ptime:20",
        ])
        #expect(media.ptime == 20 && media.port == 5000)

        var bare = SDPMediaDescription(lines: [SDPLine(type: "m", value: "audio 5000 RTP/AVP 0")])
        try bare.replaceFormats(with: [SDPAudioFormat(payloadType: 9, encoding: "G722", clockRate: 8000, channels: 1)])
        #expect(bare.lines.map(\.value) == ["audio 5000 RTP/AVP 9", "rtpmap:9 G722/8000/1"])
    }

    @Test func anEmptyListIsRefused() throws {
        var sdp = try SDPSession(parsing: Self.offer)
        #expect(throws: SIPParseError(.invalidSDP, "an m= line needs at least one format")) { try sdp.replaceAudioFormats(with: []) }
        #expect(sdp == (try SDPSession(parsing: Self.offer)))
    }
}
