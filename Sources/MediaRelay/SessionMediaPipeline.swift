import MediaControl
import MediaDSP
import VOSModel

/// The decoded path of one session: a `MediaDirectionProcessor` per direction (index = the leg
/// the packets come from), built on the control path from the legs' negotiated formats and
/// handed to the session's I/O thread, which alone uses it from then on. The controller gives
/// formats only for calls it found need processing (transcoding, or DTMF crossing between
/// methods, which includes SIP INFO digits to be played into the media), so two formats mean a
/// decoded session even when they are equal; sessions without them stay on the plain relay path
/// and may be offloaded.
final class SessionMediaPipeline: @unchecked Sendable {
    // @unchecked: built and handed over once (`WorkerCommand.setPipeline`); after that only the
    // owning I/O thread touches the processors.
    let directions: [MediaDirectionProcessor]
    let formats: [LegMediaFormat]

    /// Nil unless both legs have a format.
    static func make(_ legs: [LegMedia?], options: DecodedLegOptions) throws(RelayError) -> SessionMediaPipeline? {
        guard legs.count == 2, let first = legs[0], let second = legs[1] else { return nil }
        let formats = [try format(first, leg: 0), try format(second, leg: 1)]
        let dtmf = [try dtmfOptions(from: first, to: second, leg: 0), try dtmfOptions(from: second, to: first, leg: 1)]
        do {
            let directions = [try MediaDirectionProcessor(from: formats[0], to: formats[1], options: options, dtmf: dtmf[0]),
                              try MediaDirectionProcessor(from: formats[1], to: formats[0], options: options, dtmf: dtmf[1])]
            directions[0].pair(with: directions[1])
            return SessionMediaPipeline(directions: directions, formats: formats)
        } catch {
            throw .invalidRequest("cannot set up the decoded path: \(error)")
        }
    }

    private init(directions: [MediaDirectionProcessor], formats: [LegMediaFormat]) {
        self.directions = directions
        self.formats = formats
    }

    /// DTMF handling of the direction from `from`'s far end to `to`'s: tones detected in what the
    /// sender sends, tones played to the receiver, and the methods the sender may use.
    static func dtmfOptions(from: LegMedia, to: LegMedia, leg: Int) throws(RelayError) -> DTMFOptions {
        var options = DTMFOptions()
        options.detectInband = from.inbandDetect ?? false
        options.sendInband = to.inbandSend ?? false
        if let receive = from.receive {
            guard let filter = DTMFReceiveFilter(name: receive) else {
                throw .invalidRequest("leg \(leg) media: receive \"\(receive)\" is not one of all, rfc2833, info, inband")
            }
            options.receive = filter
        }
        return options
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
            guard let parsed = DTMFSettings.eventRange(events) else {
                throw .invalidRequest("leg \(leg) media: events \"\(events)\" is not LOW-HIGH within 0-255")
            }
            range = UInt8(parsed.lowerBound)...UInt8(parsed.upperBound)
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
