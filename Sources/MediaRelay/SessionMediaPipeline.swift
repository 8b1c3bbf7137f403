import MediaControl
import MediaDSP

/// The decoded path of one session: a `MediaDirectionProcessor` per direction (index = the leg
/// the packets come from), built on the control path from the legs' negotiated formats and
/// handed to the session's I/O thread, which alone uses it from then on. Sessions whose legs
/// share one format never get one: they stay on the plain relay path and may be offloaded.
final class SessionMediaPipeline: @unchecked Sendable {
    // @unchecked: built and handed over once (`WorkerCommand.setPipeline`); after that only the
    // owning I/O thread touches the processors.
    let directions: [MediaDirectionProcessor]
    let formats: [LegMediaFormat]

    /// Nil when the two formats need no processing (a plain relay carries them).
    static func make(_ legs: [LegMedia?], options: DecodedLegOptions) throws(RelayError) -> SessionMediaPipeline? {
        guard legs.count == 2, let first = legs[0], let second = legs[1] else { return nil }
        let formats = [try format(first, leg: 0), try format(second, leg: 1)]
        guard MediaDirectionProcessor.needsProcessing(formats[0], formats[1]) else { return nil }
        do {
            return SessionMediaPipeline(
                directions: [try MediaDirectionProcessor(from: formats[0], to: formats[1], options: options),
                             try MediaDirectionProcessor(from: formats[1], to: formats[0], options: options)],
                formats: formats)
        } catch {
            throw .invalidRequest("cannot set up the decoded path: \(error)")
        }
    }

    private init(directions: [MediaDirectionProcessor], formats: [LegMediaFormat]) {
        self.directions = directions
        self.formats = formats
    }

    /// The protocol's leg format in MediaDSP's terms; a refusal names the leg and the field.
    static func format(_ media: LegMedia, leg: Int) throws(RelayError) -> LegMediaFormat {
        guard let codec = AudioCodec(encodingName: media.codec) else {
            throw .invalidRequest("leg \(leg) media: codec \"\(media.codec)\" is not one of PCMA, PCMU, G729")
        }
        guard (0...127).contains(media.payloadType) else {
            throw .invalidRequest("leg \(leg) media: payloadType \(media.payloadType) is not 0-127")
        }
        var eventType: UInt8?
        if let telephoneEvent = media.telephoneEvent {
            guard (96...127).contains(telephoneEvent), telephoneEvent != media.payloadType else {
                throw .invalidRequest("leg \(leg) media: telephoneEvent \(telephoneEvent) is not a free dynamic payload type (96-127)")
            }
            eventType = UInt8(telephoneEvent)
        }
        var range: ClosedRange<UInt8> = 0...15
        if let events = media.events {
            let bounds = events.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count == 2, let low = UInt8(bounds[0]), let high = UInt8(bounds[1]), low <= high else {
                throw .invalidRequest("leg \(leg) media: events \"\(events)\" is not LOW-HIGH within 0-255")
            }
            range = low...high
        }
        do {
            return try LegMediaFormat(codec: codec, payloadType: UInt8(media.payloadType), ptimeMilliseconds: media.ptime ?? 20,
                                      telephoneEventPayloadType: eventType, telephoneEventRange: range,
                                      annexB: media.annexB ?? false)
        } catch {
            throw .invalidRequest("leg \(leg) media: \(error)")
        }
    }
}
