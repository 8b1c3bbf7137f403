import Foundation
import MediaControl
import Testing
import VOSModel

@Suite struct MediaControlCodecTests {
    @Test func requestsRoundTrip() throws {
        let request = MediaRequest(id: 7, op: .create, tag: "call-1", legs: [
            LegRequest(local: "203.0.113.1", remote: MediaEndpoint(ip: "198.51.100.2", port: 4000)),
            LegRequest(remote: MediaEndpoint(ip: "2001:db8::1", port: 5000)),
        ])
        var line = MediaControlCodec.encode(request)
        #expect(line.last == UInt8(ascii: "\n"))
        line.removeLast()
        #expect(!line.contains(UInt8(ascii: "\n")))
        #expect(try MediaControlCodec.decodeRequest(line).get() == request)
    }

    @Test(arguments: [
        ("garbage", MediaControlFailure.Code.malformedRequest, UInt64(0)),
        (#"{"version":1,"id":3,"op":"explode"}"#, .unknownOperation, 3),
        (#"{"version":9,"id":4,"op":"ping"}"#, .unsupportedVersion, 4),
        (#"{"id":5,"op":"ping"}"#, .missingField, 5),
        (#"{"version":1,"id":6,"op":"update","remote":"nowhere"}"#, .malformedRequest, 6),
        (#"{"version":1,"id":8,"op":"create","legs":"two"}"#, .malformedRequest, 8),
    ])
    func badRequestsBecomeErrorsWithTheirID(line: String, code: MediaControlFailure.Code, id: UInt64) {
        switch MediaControlCodec.decodeRequest(Array(line.utf8)) {
        case .success: Issue.record("\(line) decoded")
        case let .failure(problem):
            #expect(problem.failure.code == code)
            #expect(problem.id == id)
        }
    }

    @Test func endpointsParseBothFamilies() throws {
        #expect(try MediaEndpoint(parsing: "192.0.2.1:4000") == MediaEndpoint(ip: "192.0.2.1", port: 4000))
        #expect(try MediaEndpoint(parsing: "[2001:db8::1]:4000") == MediaEndpoint(ip: "2001:db8::1", port: 4000))
        #expect(MediaEndpoint(ip: "2001:db8::1", port: 4000).description == "[2001:db8::1]:4000")
        #expect(throws: MediaControlFailure.self) { try MediaEndpoint(parsing: "192.0.2.1") }
        #expect(throws: MediaControlFailure.self) { try MediaEndpoint(parsing: "192.0.2.1:70000") }
        #expect(throws: MediaControlFailure.self) { try MediaEndpoint(parsing: "2001:db8::1:4000") }
    }

    @Test func eventsAreToldApartFromReplies() throws {
        var event = MediaControlCodec.encode(MediaEvent(event: .rtpTimeout, session: "3", tag: "c", idleSeconds: 2.5))
        event.removeLast()
        #expect(try MediaControlCodec.decodeIncoming(event) == .event(MediaEvent(event: .rtpTimeout, session: "3", tag: "c", idleSeconds: 2.5)))
        var reply = try MediaControlCodec.encode(MediaResponse.failure(id: 2, .init(.unknownSession, "no session")))
        reply.removeLast()
        guard case let .response(response) = try MediaControlCodec.decodeIncoming(reply) else {
            Issue.record("reply read as an event")
            return
        }
        #expect(response.error?.code == .unknownSession)
    }

    // The call-path messages are written and read by hand (MediaMessageJSON.swift); these prove
    // the lines are the ones Codable would write and read, both ways, so vosctl, scripts and
    // older peers see the same protocol.

    static let awkwardText = "quote \" backslash \\ slash / newline \n tab \t bell \u{07} ü 漢 🎧"

    static let sampleLegs = [
        LegInfo(index: 0, local: MediaEndpoint(ip: "203.0.113.1", port: 30000), remote: MediaEndpoint(ip: "10.0.0.5", port: 4000),
                latched: MediaEndpoint(ip: "198.51.100.7", port: 4002), path: .kernel,
                received: TrafficCounters(packets: 1500, bytes: 258_000), sent: TrafficCounters(packets: 1499, bytes: 257_828),
                dropped: 3, lost: -2, expected: 1498, lossPercent: 0.1335, jitterMs: 5.1e-05, idleSeconds: 0.02,
                rtcpReports: 4, rtcpLossPercent: 1.953125, rtcpLost: -1, rtcpJitterMs: 30.125, rtcpInvalid: 2, roundTripMs: 41.5,
                quality: .warning, oneWayAudio: false, oneWayAudioSeen: true),
        LegInfo(index: 1, local: MediaEndpoint(ip: "2001:db8::1", port: 30002), remote: nil, latched: nil, path: .userspace,
                received: TrafficCounters(), sent: TrafficCounters(), dropped: 0, lost: 0, expected: 0,
                lossPercent: 0, jitterMs: 12.5, idleSeconds: nil),
        LegInfo(index: 0, local: MediaEndpoint(ip: "192.0.2.1", port: 30004), remote: nil, latched: nil, path: .transcode,
                received: TrafficCounters(), sent: TrafficCounters(), dropped: 0, lost: 0, expected: 0,
                lossPercent: 0, jitterMs: 0, idleSeconds: nil, codec: "G729", malformed: 7, jitterBufferMs: 60),
    ]

    static let sampleRequests = [
        MediaRequest(id: UInt64.max, op: .create, tag: awkwardText, legs: [
            LegRequest(local: "203.0.113.1", remote: MediaEndpoint(ip: "198.51.100.2", port: 4000)), LegRequest(),
        ]),
        MediaRequest(id: 2, op: .update, session: "17", leg: 1, remote: MediaEndpoint(ip: "2001:db8::9", port: 6000)),
        MediaRequest(id: 3, op: .delete, session: "17"),
        MediaRequest(id: 4, op: .ban, address: "203.0.113.9", seconds: 600, reason: awkwardText),
        MediaRequest(id: 5, op: .ping),
        MediaRequest(id: 6, op: .create, tag: "t", legs: [
            LegRequest(remote: MediaEndpoint(ip: "192.0.2.2", port: 4000),
                       media: LegMedia(codec: "PCMA", payloadType: 8, ptime: 20, telephoneEvent: 101, events: "0-15",
                                       inbandDetect: true, receive: "rfc2833")),
            LegRequest(media: LegMedia(codec: "G729", payloadType: 18, annexB: false, inbandSend: true)),
        ]),
        MediaRequest(id: 7, op: .update, session: "17", leg: 0, media: LegMedia(codec: "PCMU", payloadType: 0)),
        MediaRequest(id: 8, op: .dtmf, session: "17", leg: 1, digits: "5#", durationMs: 160),
    ]

    static let sampleResponses = [
        MediaResponse.success(id: 9, sessions: [SessionInfo(session: "17", tag: awkwardText, ageSeconds: 3.25,
                                                            rtpTimeoutSeconds: 30, legs: sampleLegs)]),
        MediaResponse.success(id: 10, sessions: [SessionInfo(session: "18", tag: nil, ageSeconds: 0, rtpTimeoutSeconds: 0, legs: [])]),
        MediaResponse.success(id: 11),
        MediaResponse.failure(id: 12, .init(.portRangeExhausted, awkwardText)),
        MediaResponse.success(id: 13, firewall: FirewallReport(table: "inet vos_filter", enabled: true, drift: ["a/b"], changed: false,
                                                               bans: [FirewallBanInfo(address: "203.0.113.9", reason: awkwardText,
                                                                                      timeoutSeconds: 600, expiresInSeconds: 42)])),
    ]

    static let sampleEvents = [
        MediaEvent(event: .legLatched, session: "1", tag: "a84b", leg: 0, address: MediaEndpoint(ip: "203.0.113.2", port: 4000)),
        MediaEvent(event: .rtpTimeout, session: "2", tag: nil, idleSeconds: 30.004),
        MediaEvent(event: .dtmf, session: "3", tag: "c", leg: 0, digit: "5", durationMs: 160, method: "rfc2833"),
    ]

    private static func withoutNewline(_ line: [UInt8]) -> [UInt8] {
        #expect(line.last == UInt8(ascii: "\n"))
        #expect(line.dropLast().contains(UInt8(ascii: "\n")) == false)
        return Array(line.dropLast())
    }

    @Test(arguments: sampleRequests)
    func requestLinesAreCodableLines(request: MediaRequest) throws {
        let line = Self.withoutNewline(MediaControlCodec.encode(request))
        #expect(try JSONDecoder().decode(MediaRequest.self, from: Data(line)) == request)
        #expect(try MediaControlCodec.decodeRequest(Array(JSONEncoder().encode(request))).get() == request)
    }

    @Test(arguments: sampleResponses)
    func replyLinesAreCodableLines(response: MediaResponse) throws {
        let line = Self.withoutNewline(try MediaControlCodec.encode(response))
        #expect(try JSONDecoder().decode(MediaResponse.self, from: Data(line)) == response)
        #expect(try MediaControlCodec.decodeIncoming(Array(JSONEncoder().encode(response))) == .response(response))
        #expect(try MediaControlCodec.decodeIncoming(line) == .response(response))
    }

    @Test(arguments: sampleEvents)
    func eventLinesAreCodableLines(event: MediaEvent) throws {
        let line = Self.withoutNewline(MediaControlCodec.encode(event))
        #expect(try JSONDecoder().decode(MediaEvent.self, from: Data(line)) == event)
        #expect(try MediaControlCodec.decodeIncoming(Array(JSONEncoder().encode(event))) == .event(event))
    }

    @Test func legMembersAreWrittenAsJSONEncoderWritesThem() throws {
        let response = MediaResponse.success(id: 9, sessions: [SessionInfo(session: "17", tag: "t", ageSeconds: 3.25,
                                                                           rtpTimeoutSeconds: 30, legs: Self.sampleLegs)])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let line = String(decoding: Self.withoutNewline(try MediaControlCodec.encode(response)), as: UTF8.self)
        #expect(line == String(decoding: try encoder.encode(response), as: UTF8.self))
        #expect(line.contains(#""oneWayAudio":false,"oneWayAudioSeen":true,"path":"kernel","quality":"warning""#), "\(line)")
    }

    @Test func membersAreWrittenInSortedOrder() {
        let line = String(decoding: MediaControlCodec.encode(MediaRequest(id: 3, op: .delete, session: "17")), as: UTF8.self)
        #expect(line == #"{"id":3,"op":"delete","session":"17","version":1}"# + "\n")
    }

    @Test func nullMembersReadAsAbsentAndUnknownOnesAreIgnored() throws {
        let line = #"{"version":1,"id":5,"op":"delete","session":"4","tag":null,"future":{"x":[1,2.5e3,true,null]}}"#
        #expect(try MediaControlCodec.decodeRequest(Array(line.utf8)).get() == MediaRequest(id: 5, op: .delete, session: "4"))
    }

    @Test(arguments: [
        #"{"version":1,"id":6,"op":"delete","session":"4"} x"#,
        #"{"version":1,"id":6,"op":"delete","session":"4""#,
        #"{"version":1,"id":6,"op":"delete","session":"\q"}"#,
        #"{"version":1,"id":6,"op":"delete","session":"\ud800"}"#,
        #"{"version":1,"id":-6,"op":"ping"}"#,
        #"{"version":1,"id":6,"op":"update","session":"4","leg":"one","remote":"192.0.2.1:4000"}"#,
        String(repeating: "[", count: 40) + String(repeating: "]", count: 40),
        "{\"version\":1,\"id\":6,\"op\":\"delete\",\"session\":\"a\u{01}b\"}",
    ])
    func brokenLinesAreRefusedNotCrashed(line: String) {
        switch MediaControlCodec.decodeRequest(Array(line.utf8)) {
        case let .success(request): Issue.record("\(line) decoded as \(request)")
        case let .failure(problem): #expect(problem.failure.code == .malformedRequest || problem.failure.code == .missingField)
        }
    }
}
