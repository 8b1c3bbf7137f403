import MediaControl
import Testing

@Suite struct MediaControlCodecTests {
    @Test func requestsRoundTrip() throws {
        let request = MediaRequest(id: 7, op: .create, tag: "call-1", legs: [
            LegRequest(local: "203.0.113.1", remote: MediaEndpoint(ip: "198.51.100.2", port: 4000)),
            LegRequest(remote: MediaEndpoint(ip: "2001:db8::1", port: 5000)),
        ])
        var line = try MediaControlCodec.encode(request)
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
        var event = try MediaControlCodec.encode(MediaEvent(event: .rtpTimeout, session: "3", tag: "c", idleSeconds: 2.5))
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
}
