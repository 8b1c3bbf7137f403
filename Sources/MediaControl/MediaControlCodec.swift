import Foundation

/// Newline-delimited JSON: one object per line, UTF-8, no newline inside an object (strings
/// escape theirs). Call-path messages use the hand-written coder (`MediaMessageJSON.swift`);
/// firewall reports use Foundation's.
public enum MediaControlCodec {
    /// A line the client read: a reply to some request, or a pushed event.
    public enum Incoming: Sendable, Equatable {
        case response(MediaResponse)
        case event(MediaEvent)
    }

    public static func encode(_ request: MediaRequest) -> [UInt8] {
        var writer = JSONLineWriter()
        request.writeJSON(into: &writer)
        return writer.line()
    }

    public static func encode(_ event: MediaEvent) -> [UInt8] {
        var writer = JSONLineWriter()
        event.writeJSON(into: &writer)
        return writer.line()
    }

    public static func encode(_ response: MediaResponse) throws(MediaControlFailure) -> [UInt8] {
        var writer = JSONLineWriter(reservingCapacity: response.sessions.map { 128 + 640 * $0.count } ?? 128)
        do { try response.writeJSON(into: &writer) } catch {
            throw MediaControlFailure(.internalError, "cannot encode the firewall report: \(error)")
        }
        return writer.line()
    }

    /// Decodes a request line. On failure returns the id it could read (0 if none) with the
    /// reason, so the server answers instead of dropping the line.
    public static func decodeRequest(_ line: [UInt8]) -> Result<MediaRequest, RequestDecodingFailure> {
        let fields: JSONFields
        do { fields = try JSONFields(try JSONParser.parse(line)) } catch {
            return .failure(.init(id: 0, failure: .init(.malformedRequest, "not a JSON object: \(error.description)")))
        }
        let id = (try? fields.optionalUnsigned("id")) ?? 0
        guard let version = try? fields.optionalInteger("version") else {
            return .failure(.init(id: id, failure: .init(.missingField, "request has no \"version\"")))
        }
        guard version == MediaControl.protocolVersion else {
            return .failure(.init(id: id, failure: .init(
                .unsupportedVersion, "protocol version \(version) is not supported (this daemon speaks \(MediaControl.protocolVersion))")))
        }
        guard fields.contains("id") else {
            return .failure(.init(id: 0, failure: .init(.missingField, "request has no \"id\"")))
        }
        guard let opText = try? fields.optionalString("op") else {
            return .failure(.init(id: id, failure: .init(.missingField, "request has no \"op\"")))
        }
        guard MediaOperation(rawValue: opText) != nil else {
            let known = MediaOperation.allCases.map(\.rawValue).joined(separator: ", ")
            return .failure(.init(id: id, failure: .init(.unknownOperation, "unknown op \"\(opText)\" (known: \(known))")))
        }
        do { return .success(try MediaRequest(json: fields)) } catch {
            return .failure(.init(id: id, failure: .init(.malformedRequest, "bad \(opText) request: \(error.description)")))
        }
    }

    /// Decodes a line the daemon sent: an event if it has an `event` member, else a reply.
    public static func decodeIncoming(_ line: [UInt8]) throws(MediaControlFailure) -> Incoming {
        do {
            let fields = try JSONFields(try JSONParser.parse(line))
            if fields.contains("event") { return .event(try MediaEvent(json: fields)) }
            if fields.contains("firewall") { return .response(try decodeFirewallReply(line)) }
            return .response(try MediaResponse(json: fields))
        } catch {
            throw MediaControlFailure(.malformedRequest, "unreadable line from vos-mediad: \(error.description)")
        }
    }

    private static func decodeFirewallReply(_ line: [UInt8]) throws(JSONShapeError) -> MediaResponse {
        do { return try JSONDecoder().decode(MediaResponse.self, from: Data(line)) } catch {
            throw JSONShapeError(path: "", reason: describe(error))
        }
    }

    /// DecodingError's default description is a wall of internals; name the field and the reason.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ context: DecodingError.Context) -> String {
            let names = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
            return names.isEmpty ? "" : " at \(names.joined(separator: "."))"
        }
        switch error {
        case let .typeMismatch(_, context), let .valueNotFound(_, context):
            return "wrong type\(path(context)): \(context.debugDescription)"
        case let .keyNotFound(key, context):
            return "missing \"\(key.stringValue)\"\(path(context))"
        case let .dataCorrupted(context):
            return "\(context.debugDescription)\(path(context))"
        @unknown default:
            return "\(error)"
        }
    }
}

/// A request line that could not be decoded, with the id to answer under.
public struct RequestDecodingFailure: Error, Sendable {
    public let id: UInt64
    public let failure: MediaControlFailure
}
