import Foundation

/// Newline-delimited JSON: one object per line, UTF-8, no newline inside an object (JSONEncoder
/// never emits one without `.prettyPrinted`).
public enum MediaControlCodec {
    /// A line the client read: a reply to some request, or a pushed event.
    public enum Incoming: Sendable, Equatable {
        case response(MediaResponse)
        case event(MediaEvent)
    }

    /// The fields every request must have, read first so an error reply can still name the
    /// request's id when the rest is wrong.
    private struct Envelope: Decodable {
        let version: Int?
        let id: UInt64?
        let op: String?
    }

    private struct EventProbe: Decodable { let event: String? }

    public static func encode<Message: Encodable>(_ message: Message) throws(MediaControlFailure) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            var bytes = [UInt8](try encoder.encode(message))
            bytes.append(UInt8(ascii: "\n"))
            return bytes
        } catch {
            throw MediaControlFailure(.internalError, "cannot encode \(Message.self): \(error)")
        }
    }

    /// Decodes a request line. On failure returns the id it could read (0 if none) with the
    /// reason, so the server answers instead of dropping the line.
    public static func decodeRequest(_ line: [UInt8]) -> Result<MediaRequest, RequestDecodingFailure> {
        let data = Data(line)
        let decoder = JSONDecoder()
        let envelope: Envelope
        do { envelope = try decoder.decode(Envelope.self, from: data) } catch {
            return .failure(.init(id: 0, failure: .init(.malformedRequest, "not a JSON object: \(describe(error))")))
        }
        let id = envelope.id ?? 0
        guard let version = envelope.version else {
            return .failure(.init(id: id, failure: .init(.missingField, "request has no \"version\"")))
        }
        guard version == MediaControl.protocolVersion else {
            return .failure(.init(id: id, failure: .init(
                .unsupportedVersion, "protocol version \(version) is not supported (this daemon speaks \(MediaControl.protocolVersion))")))
        }
        guard envelope.id != nil else {
            return .failure(.init(id: 0, failure: .init(.missingField, "request has no \"id\"")))
        }
        guard let opText = envelope.op else {
            return .failure(.init(id: id, failure: .init(.missingField, "request has no \"op\"")))
        }
        guard MediaOperation(rawValue: opText) != nil else {
            let known = MediaOperation.allCases.map(\.rawValue).joined(separator: ", ")
            return .failure(.init(id: id, failure: .init(.unknownOperation, "unknown op \"\(opText)\" (known: \(known))")))
        }
        do { return .success(try decoder.decode(MediaRequest.self, from: data)) } catch {
            return .failure(.init(id: id, failure: .init(.malformedRequest, "bad \(opText) request: \(describe(error))")))
        }
    }

    /// Decodes a line the daemon sent: an event if it has an `event` member, else a reply.
    public static func decodeIncoming(_ line: [UInt8]) throws(MediaControlFailure) -> Incoming {
        let data = Data(line)
        let decoder = JSONDecoder()
        do {
            if try decoder.decode(EventProbe.self, from: data).event != nil {
                return .event(try decoder.decode(MediaEvent.self, from: data))
            }
            return .response(try decoder.decode(MediaResponse.self, from: data))
        } catch {
            throw MediaControlFailure(.malformedRequest, "unreadable line from vos-mediad: \(describe(error))")
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
