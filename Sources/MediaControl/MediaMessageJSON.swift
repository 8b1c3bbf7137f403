import Foundation
import VOSModel

// The hand-written JSON form of the messages on the call path (create, update, delete, stats
// and their replies, events). It writes and reads exactly what the Codable conformances do
// (members in sorted order, absent optionals left out, null read as absent), which
// MediaControlCodecTests checks both ways against JSONEncoder/JSONDecoder. Firewall reports,
// rare and operator-facing, keep going through Foundation's coder.

extension MediaRequest {
    func writeJSON(into writer: inout JSONLineWriter) {
        writer.beginObject()
        if let address { writer.key("address"); writer.string(address) }
        if let digits { writer.key("digits"); writer.string(digits) }
        if let durationMs { writer.key("durationMs"); writer.integer(durationMs) }
        writer.key("id"); writer.unsigned(id)
        if let leg { writer.key("leg"); writer.integer(leg) }
        if let legs {
            writer.key("legs")
            writer.beginArray()
            for leg in legs {
                writer.element()
                writer.beginObject()
                if let local = leg.local { writer.key("local"); writer.string(local) }
                if let media = leg.media { writer.key("media"); media.writeJSON(into: &writer) }
                if let remote = leg.remote { writer.key("remote"); writer.string(remote.description) }
                writer.endObject()
            }
            writer.endArray()
        }
        if let media { writer.key("media"); media.writeJSON(into: &writer) }
        writer.key("op"); writer.string(op.rawValue)
        if let reason { writer.key("reason"); writer.string(reason) }
        if let remote { writer.key("remote"); writer.string(remote.description) }
        if let seconds { writer.key("seconds"); writer.integer(seconds) }
        if let session { writer.key("session"); writer.string(session) }
        if let tag { writer.key("tag"); writer.string(tag) }
        writer.key("version"); writer.integer(version)
        writer.endObject()
    }

    init(json fields: JSONFields) throws(JSONShapeError) {
        self.init(id: try fields.unsigned("id"), op: try fields.choice("op", MediaOperation.self),
                  tag: try fields.optionalString("tag"),
                  legs: try fields.optionalObjects("legs") { (leg) throws(JSONShapeError) in
                      LegRequest(local: try leg.optionalString("local"), remote: try leg.optionalEndpoint("remote"),
                                 media: try leg.optionalObject("media").map { (media) throws(JSONShapeError) in try LegMedia(json: media) })
                  },
                  session: try fields.optionalString("session"), leg: try fields.optionalInteger("leg"),
                  remote: try fields.optionalEndpoint("remote"), address: try fields.optionalString("address"),
                  seconds: try fields.optionalInteger("seconds"), reason: try fields.optionalString("reason"),
                  media: try fields.optionalObject("media").map { (media) throws(JSONShapeError) in try LegMedia(json: media) },
                  digits: try fields.optionalString("digits"), durationMs: try fields.optionalInteger("durationMs"))
        version = try fields.integer("version")
    }
}

extension MediaResponse {
    /// Throws only when the firewall report (encoded by JSONEncoder) cannot be encoded.
    func writeJSON(into writer: inout JSONLineWriter) throws {
        writer.beginObject()
        if let error { writer.key("error"); error.writeJSON(into: &writer) }
        if let firewall {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            writer.key("firewall"); writer.raw(Array(try encoder.encode(firewall)))
        }
        writer.key("id"); writer.unsigned(id)
        writer.key("ok"); writer.bool(ok)
        if let sessions {
            writer.key("sessions")
            writer.beginArray()
            for session in sessions {
                writer.element()
                session.writeJSON(into: &writer)
            }
            writer.endArray()
        }
        writer.key("version"); writer.integer(version)
        writer.endObject()
    }

    /// A reply without a firewall report (those are read by JSONDecoder).
    init(json fields: JSONFields) throws(JSONShapeError) {
        self.init(version: try fields.integer("version"), id: try fields.unsigned("id"), ok: try fields.bool("ok"),
                  sessions: try fields.optionalObjects("sessions") { (session) throws(JSONShapeError) in try SessionInfo(json: session) },
                  error: try fields.optionalObject("error").map { (error) throws(JSONShapeError) in try MediaControlFailure(json: error) },
                  firewall: nil)
    }
}

extension MediaControlFailure {
    func writeJSON(into writer: inout JSONLineWriter) {
        writer.beginObject()
        writer.key("code"); writer.string(code.rawValue)
        writer.key("message"); writer.string(message)
        writer.endObject()
    }

    init(json fields: JSONFields) throws(JSONShapeError) {
        self.init(try fields.choice("code", Code.self), try fields.string("message"))
    }
}

extension SessionInfo {
    func writeJSON(into writer: inout JSONLineWriter) {
        writer.beginObject()
        writer.key("ageSeconds"); writer.double(ageSeconds)
        writer.key("legs")
        writer.beginArray()
        for leg in legs {
            writer.element()
            leg.writeJSON(into: &writer)
        }
        writer.endArray()
        writer.key("rtpTimeoutSeconds"); writer.integer(rtpTimeoutSeconds)
        writer.key("session"); writer.string(session)
        if let tag { writer.key("tag"); writer.string(tag) }
        writer.endObject()
    }

    init(json fields: JSONFields) throws(JSONShapeError) {
        self.init(session: try fields.string("session"), tag: try fields.optionalString("tag"),
                  ageSeconds: try fields.double("ageSeconds"), rtpTimeoutSeconds: try fields.integer("rtpTimeoutSeconds"),
                  legs: try fields.objects("legs") { (leg) throws(JSONShapeError) in try LegInfo(json: leg) })
    }
}

extension LegInfo {
    func writeJSON(into writer: inout JSONLineWriter) {
        writer.beginObject()
        if let codec { writer.key("codec"); writer.string(codec) }
        writer.key("dropped"); writer.unsigned(dropped)
        writer.key("expected"); writer.unsigned(expected)
        if let idleSeconds { writer.key("idleSeconds"); writer.double(idleSeconds) }
        writer.key("index"); writer.integer(index)
        if let jitterBufferMs { writer.key("jitterBufferMs"); writer.integer(jitterBufferMs) }
        writer.key("jitterMs"); writer.double(jitterMs)
        if let latched { writer.key("latched"); writer.string(latched.description) }
        writer.key("local"); writer.string(local.description)
        writer.key("lossPercent"); writer.double(lossPercent)
        writer.key("lost"); writer.integer(lost)
        if let malformed { writer.key("malformed"); writer.unsigned(malformed) }
        if let oneWayAudio { writer.key("oneWayAudio"); writer.bool(oneWayAudio) }
        if let oneWayAudioSeen { writer.key("oneWayAudioSeen"); writer.bool(oneWayAudioSeen) }
        writer.key("path"); writer.string(path.rawValue)
        if let quality { writer.key("quality"); writer.string(quality.rawValue) }
        writer.key("received"); received.writeJSON(into: &writer)
        if let remote { writer.key("remote"); writer.string(remote.description) }
        if let roundTripMs { writer.key("roundTripMs"); writer.double(roundTripMs) }
        if let rtcpInvalid { writer.key("rtcpInvalid"); writer.unsigned(rtcpInvalid) }
        if let rtcpJitterMs { writer.key("rtcpJitterMs"); writer.double(rtcpJitterMs) }
        if let rtcpLossPercent { writer.key("rtcpLossPercent"); writer.double(rtcpLossPercent) }
        if let rtcpLost { writer.key("rtcpLost"); writer.integer(rtcpLost) }
        if let rtcpReports { writer.key("rtcpReports"); writer.unsigned(rtcpReports) }
        writer.key("sent"); sent.writeJSON(into: &writer)
        writer.endObject()
    }

    init(json fields: JSONFields) throws(JSONShapeError) {
        self.init(index: try fields.integer("index"), local: try fields.endpoint("local"),
                  remote: try fields.optionalEndpoint("remote"), latched: try fields.optionalEndpoint("latched"),
                  path: try fields.choice("path", ForwardingPath.self),
                  received: try TrafficCounters(json: try fields.object("received")),
                  sent: try TrafficCounters(json: try fields.object("sent")),
                  dropped: try fields.unsigned("dropped"), lost: try fields.signed("lost"), expected: try fields.unsigned("expected"),
                  lossPercent: try fields.double("lossPercent"), jitterMs: try fields.double("jitterMs"),
                  idleSeconds: try fields.optionalDouble("idleSeconds"), codec: try fields.optionalString("codec"),
                  malformed: try fields.optionalUnsigned("malformed"), rtcpReports: try fields.optionalUnsigned("rtcpReports"),
                  rtcpLossPercent: try fields.optionalDouble("rtcpLossPercent"), rtcpLost: try fields.optionalSigned("rtcpLost"),
                  rtcpJitterMs: try fields.optionalDouble("rtcpJitterMs"), rtcpInvalid: try fields.optionalUnsigned("rtcpInvalid"),
                  roundTripMs: try fields.optionalDouble("roundTripMs"), quality: try fields.optionalChoice("quality", QualityBand.self),
                  oneWayAudio: try fields.optionalBool("oneWayAudio"), oneWayAudioSeen: try fields.optionalBool("oneWayAudioSeen"),
                  jitterBufferMs: try fields.optionalInteger("jitterBufferMs"))
    }
}

extension TrafficCounters {
    func writeJSON(into writer: inout JSONLineWriter) {
        writer.beginObject()
        writer.key("bytes"); writer.unsigned(bytes)
        writer.key("packets"); writer.unsigned(packets)
        writer.endObject()
    }

    init(json fields: JSONFields) throws(JSONShapeError) {
        self.init(packets: try fields.unsigned("packets"), bytes: try fields.unsigned("bytes"))
    }
}

extension MediaEvent {
    func writeJSON(into writer: inout JSONLineWriter) {
        writer.beginObject()
        if let address { writer.key("address"); writer.string(address.description) }
        if let digit { writer.key("digit"); writer.string(digit) }
        if let durationMs { writer.key("durationMs"); writer.integer(durationMs) }
        writer.key("event"); writer.string(event.rawValue)
        if let idleSeconds { writer.key("idleSeconds"); writer.double(idleSeconds) }
        if let leg { writer.key("leg"); writer.integer(leg) }
        if let method { writer.key("method"); writer.string(method) }
        writer.key("session"); writer.string(session)
        if let tag { writer.key("tag"); writer.string(tag) }
        writer.key("version"); writer.integer(version)
        writer.endObject()
    }

    init(json fields: JSONFields) throws(JSONShapeError) {
        self.init(event: try fields.choice("event", Kind.self), session: try fields.string("session"),
                  tag: try fields.optionalString("tag"), leg: try fields.optionalInteger("leg"),
                  address: try fields.optionalEndpoint("address"), idleSeconds: try fields.optionalDouble("idleSeconds"),
                  digit: try fields.optionalString("digit"), durationMs: try fields.optionalInteger("durationMs"),
                  method: try fields.optionalString("method"))
        version = try fields.integer("version")
    }
}

extension LegMedia {
    func writeJSON(into writer: inout JSONLineWriter) {
        writer.beginObject()
        if let annexB { writer.key("annexB"); writer.bool(annexB) }
        writer.key("codec"); writer.string(codec)
        if let events { writer.key("events"); writer.string(events) }
        if let inbandDetect { writer.key("inbandDetect"); writer.bool(inbandDetect) }
        if let inbandSend { writer.key("inbandSend"); writer.bool(inbandSend) }
        writer.key("payloadType"); writer.integer(payloadType)
        if let ptime { writer.key("ptime"); writer.integer(ptime) }
        if let receive { writer.key("receive"); writer.string(receive) }
        if let telephoneEvent { writer.key("telephoneEvent"); writer.integer(telephoneEvent) }
        writer.endObject()
    }

    init(json fields: JSONFields) throws(JSONShapeError) {
        self.init(codec: try fields.string("codec"), payloadType: try fields.integer("payloadType"),
                  ptime: try fields.optionalInteger("ptime"), telephoneEvent: try fields.optionalInteger("telephoneEvent"),
                  events: try fields.optionalString("events"), annexB: try fields.optionalBool("annexB"),
                  inbandDetect: try fields.optionalBool("inbandDetect"), inbandSend: try fields.optionalBool("inbandSend"),
                  receive: try fields.optionalString("receive"))
    }
}
