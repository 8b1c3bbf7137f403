/// Transcoding and repacketising of one direction of a relayed session (leg A's far end -> relay
/// -> leg B's far end): RTP in one leg's format, RTP out in the other's, on the relay I/O thread.
import VOSModel
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What one direction did with its packets. Every packet handed to `process` lands in exactly one
/// of audio, event, malformed, unknown payload type or late, so those five add up to `processedPackets`.
public struct DirectionCounters: Sendable, Equatable {
    public var processedPackets: UInt64 = 0
    /// Audio packets accepted (decoded, buffered, or forwarded unchanged).
    public var audioPackets: UInt64 = 0
    /// Well-formed telephone-event packets, forwarded or not.
    public var eventPackets: UInt64 = 0
    public var droppedMalformed: UInt64 = 0
    public var droppedUnknownPayloadType: UInt64 = 0
    /// Duplicates and packets older than one already accepted from the same source (with a
    /// jitter buffer: packets whose every frame was late, duplicate or out of range).
    public var droppedLate: UInt64 = 0
    /// Event packets not forwarded: the far leg has no telephone-event, or not that code, or the
    /// digit was played as tones, reported, or refused by the DTMF lock. Part of `eventPackets`.
    public var droppedEvents: UInt64 = 0
    /// Frames synthesised for lost audio (G.729 concealment, G.711 repeat-fade).
    public var concealedFrames: UInt64 = 0
    public var emittedPackets: UInt64 = 0
    /// Accepted audio packets whose sound was replaced by generated tones or comfort noise. Part
    /// of `audioPackets`.
    public var replacedAudioPackets: UInt64 = 0
    /// 10 ms frames of comfort noise generated.
    public var comfortNoiseFrames: UInt64 = 0
    /// Digits queued for `takeReportedDigit` (the far leg could not take them in media).
    public var digitsReported: UInt64 = 0
    /// Digits this processor generated towards the far leg: RFC 4733 events (from `play` or
    /// detected tones) or tones (from `play` or received events).
    public var digitsPlayed: UInt64 = 0
    /// Digits dropped because the direction is locked to another DTMF method.
    public var droppedByLock: UInt64 = 0
    /// Digits dropped because the `from` leg's receive setting excludes their method.
    public var droppedByFilter: UInt64 = 0
    /// Reports lost because nobody took them and the report ring was full.
    public var droppedReports: UInt64 = 0

    public init() {}
}

/// One direction of a session. Everything is allocated by `init`; `process`, `tick`, `flush`
/// and `takeReportedDigit` neither allocate nor lock, so they run on the relay I/O thread. Not
/// thread-safe: one thread uses it at a time (it is deliberately not Sendable; build it where it
/// is used, from the Sendable formats and options).
///
/// Output keeps its own RTP identity: one SSRC for the processor's life, a sequence number that
/// grows by one per emitted packet, and timestamps that are the input's plus a fixed offset, so
/// gaps in the input (silence, loss) stay gaps in the output. When the sender changes SSRC the
/// offset is re-based so the output timeline carries on just after what was already sent.
///
/// Clock. `now` (monotonic nanoseconds, any origin; virtual time in tests) is passed to
/// `process`, `tick` and `play`. Without a jitter buffer, audio goes out as it comes in; the tick
/// (every 10 ms) paces what this processor generates itself: telephone-events, tones, comfort
/// noise, the tail of a talk spurt. With one, `process` only stores decoded frames and `tick`
/// plays them out. A tick with nothing to do tests a few flags and returns.
///
/// Jitter buffer (`DecodedLegOptions.jitterBuffer`): frames are decoded on arrival and played
/// out on the tick into an output timeline of our own that advances 80 samples per 10 ms frame,
/// so gaps stay gaps. Missing frames are concealed up to `maximumConcealedSamples` after real
/// voice (without a jitter buffer, G.729: decoder concealment, in order; with one, and G.711: the
/// last frame repeated with a fade), then left as a gap (or comfort noise). The input's marker
/// bit is not used: a packet after a gap is marked. Packets must carry whole 10 ms frames; a
/// G.711 packet of another length loses its last partial frame (or is padded to one frame).
///
/// Echo canceller (`echoCancelTailMilliseconds`): each direction cancels, in the audio from its
/// `from` leg, the echo of what the opposite direction sent to that leg. The reference is read
/// from the opposite processor's output ring (`pair(with:)`), aligned once by time (the reader's
/// samples are paired with the samples sent just before they arrived) and then sample by sample
/// along both output timelines, re-aligned when one timeline is re-based. The echo delay
/// (network round trip included) must fit in the tail.
///
/// Comfort noise (`comfortNoise`, G.711 output only): after 60 ms without input audio past the
/// last packet's length (or a G.729 SID followed by silence) the tick sends white noise at the
/// level of the last SID frame (or about -65 dBov) every 10 ms until voice returns.
///
/// DTMF (`DTMFOptions`). One `DTMFDirectionLock` per direction over the methods rfc2833
/// (events from `from`), inband (tones detected in `from`'s audio) and info (`play`). Digits of
/// a method the receive setting excludes, or not the locked one, are dropped and counted.
/// - Events from `from`: remapped when `to` has telephone-event (as before); else played as
///   tones when `sendInband`; else reported (`takeReportedDigit`) once, on the event's first
///   end packet, or when another event starts or 300 ms pass without its end.
/// - Tones detected in `from`'s audio: sent as RFC 4733 events (`detectedDigitMilliseconds`
///   long, from the audio position of the detection) when `to` takes them, else reported at
///   detection. The detected tone is muted towards `to` while it lasts (its first ~30 ms, before
///   detection, get through); the audio packets keep flowing.
/// - `play` (SIP INFO digits): events when `to` takes them, else tones when `sendInband` or `to`
///   is G.711, else refused (the controller forwards the INFO).
/// Generated events use this processor's SSRC, sequence and timeline: they start at the current
/// audio position, updates every packet interval (at most 50 ms), three end packets. Generated
/// tones replace `to`'s audio while they play (without a jitter buffer audio is dropped
/// meanwhile and its timeline re-based after).
public final class MediaDirectionProcessor {
    public let from: LegMediaFormat
    public let to: LegMediaFormat
    public let options: DecodedLegOptions
    public let dtmf: DTMFOptions
    /// The SSRC of every packet this processor emits.
    public let outputSSRC: UInt32
    /// Same codec and ptime, no gain, no jitter buffer, echo canceller or in-band DTMF work:
    /// payloads are forwarded undecoded, only headers rewritten.
    public let isPassthrough: Bool

    public private(set) var counters = DirectionCounters()
    /// The last telephone-event block received (the last one when a packet carries several),
    /// whether it was forwarded or not. `timestamp` is the input's.
    public private(set) var lastEvent: (code: UInt8, end: Bool, duration: UInt16, timestamp: UInt32)?

    /// Largest payload forwarded unchanged (passthrough audio, events): the relay's datagram
    /// buffer (2048 bytes) less the 12-byte header this processor writes.
    public static let maximumForwardedPayload = 2048 - headerBytes
    /// Up to this much lost audio is concealed instead of left as a gap; longer gaps are
    /// silence or a new talk spurt, not loss worth synthesising.
    public static let maximumConcealedSamples = 480
    /// Reported digits held until `takeReportedDigit`.
    public static let reportCapacity = 16
    static let headerBytes = 12
    private static let frameSamples = AudioCodec.samplesPer10Milliseconds
    private static let nanosecondsPerSample: UInt64 = 1_000_000_000 / UInt64(AudioCodec.clockRate)
    /// A packet this far (in sequence numbers) behind the newest accepted one is late; further
    /// behind, it is taken as a sender restart.
    private static let lateWindow: Int16 = 64
    /// After this many late drops in a row the sender is taken to have restarted its sequence.
    private static let maximumConsecutiveLate = 8
    private static let unityGain: Int32 = 1 << 14
    /// An event to report whose end packets never came is reported after this long (300 ms).
    private static let eventReportTimeout: Int64 = 2400
    /// Comfort noise starts this long (60 ms) after the last input packet's audio ran out.
    private static let comfortNoiseHoldoff: Int64 = 480
    /// Without a jitter buffer, the tail of a talk spurt goes out this long (40 ms) after the
    /// last packet's audio ran out.
    private static let tailFlushDelay: Int64 = 320
    /// Frames one tick may produce (a late tick catches up, within reason).
    private static let maximumTickFrames = 64
    /// Default comfort noise amplitude (uniform noise, about -65 dBov).
    private static let defaultNoiseAmplitude: Int32 = 32
    /// RFC 4733 2.5.1.2: updates at least every 50 ms.
    private static let maximumEventInterval = 400
    /// How far (100 ms) the echo reference may run ahead of or behind what the reader expects
    /// before the two timelines are taken to have been re-based and are aligned afresh.
    private static let echoSlack = 800

    private let inputLaw: G711.Law?
    private let outputLaw: G711.Law?
    private let decoder: G729Decoder?
    private let encoder: G729Encoder?
    /// Q14 voice gain; `unityGain` when none.
    private let gain: Int32
    private let outputSamples: Int

    /// PCM waiting for a full output packet; `outputSamples` long.
    private let fifo: UnsafeMutablePointer<Int16>
    /// One 10 ms frame of freshly decoded (or generated) PCM.
    private let frame: UnsafeMutablePointer<Int16>
    /// The packet being emitted: header, then payload.
    private let output: UnsafeMutableRawPointer
    private let outputCapacity: Int

    // Output RTP identity.
    private var outputSequence: UInt16
    /// Input timestamp + offset = output timestamp (with a jitter buffer: of the frame playing).
    private var timestampOffset: UInt32
    /// Output timestamp just past the newest media emitted; where a new sender SSRC's timeline starts.
    private var outputHorizon: UInt32 = 0
    private var pendingMarker = false
    /// Annex B output sent SID or nothing last: the next voice packet starts a talk spurt.
    private var encoderSilent = false

    // Input timeline.
    private var haveSource = false
    private var inputSSRC: UInt32 = 0
    /// What this direction has sent: the relay's own RTCP sender reports to the `to` leg say so.
    public private(set) var lastOutputTimestamp: UInt32 = 0
    public private(set) var emittedPayloadOctets: UInt64 = 0
    /// The SSRC of the stream the `from` leg sends (0 before its first packet): the source the
    /// relay's reception reports to that leg are about.
    public var senderSSRC: UInt32 { inputSSRC }
    private var lastSequence: UInt16 = 0
    private var consecutiveLate = 0
    /// Input timestamp of the sample that would follow the last one taken in.
    private var nextInputTimestamp: UInt32 = 0
    /// The last packet taken in was voice that a short gap after it can only be lost packets of;
    /// not after a SID (silence follows by design), an event (senders may pause audio for it) or
    /// a new sender SSRC.
    private var lossConcealable = false
    private var fifoCount = 0
    /// Output timestamp of `fifo[0]`.
    private var fifoTimestamp: UInt32 = 0
    /// Generated audio replaced the input for a while: the next input packet re-bases the offset.
    private var needsRebase = false
    private var audioSeen = false
    /// Sample clock of the last accepted audio packet, and its length.
    private var lastAudioClock: Int64 = 0
    private var lastInputPacketSamples = 0

    // Clock: `now` in samples since the first `now` seen.
    private var clockStarted = false
    private var clockEpoch: UInt64 = 0
    private var currentClock: Int64 = 0
    private var currentNow: UInt64 = 0
    /// The output timestamp that was current at sample clock `mediaClock`: extrapolated to place
    /// generated media (events, tones, noise) on the audio's timeline.
    private var mediaTimestamp: UInt32 = 0
    private var mediaClock: Int64 = 0
    private var mediaClockValid = false

    // Tick-driven output (jitter buffer playout, tones, comfort noise).
    /// Output timestamp of the next tick frame.
    private var tickTimestamp: UInt32 = 0
    /// Generated frames (tones, noise) replace the input-driven output (no jitter buffer playing).
    private var syntheticRunning = false
    /// Sample clock at which the next generated frame is due.
    private var nextFrameClock: Int64 = 0

    // Jitter buffer.
    private let jitterBuffer: JitterBuffer?
    /// Decoded packet on its way into the buffer: `stagingCapacity` samples.
    private let staging: UnsafeMutablePointer<Int16>?
    private let stagingCapacity: Int
    private var jitterAnchored = false
    /// Sample clock of the last frame played out, for noticing a resumed playout.
    private var lastPlayoutClock: Int64 = 0
    private var playoutStarted = false
    private var newestBufferedTimestamp: UInt32 = 0
    private var newestBufferedIsSID = false
    /// Last real frame played, for G.711 repeat-fade concealment.
    private let lastPlayed: UnsafeMutablePointer<Int16>
    private var playedReal = false
    private var concealRun = 0
    /// Playout is in a gap (silence): missing frames are not loss until real audio plays again.
    private var playoutInGap = true

    // Echo canceller.
    private let canceller: EchoCanceller?
    /// What this direction sent to `to`, for the opposite direction's canceller.
    private let outputReference: EchoReference?
    /// The opposite direction's `outputReference`: what was sent to our `from` leg.
    private var echoReference: EchoReference?
    private let referenceScratch: UnsafeMutablePointer<Int16>
    private var echoLocked = false
    /// Our output timestamp + delta = the reference ring position of the same instant.
    private var echoDelta: UInt32 = 0
    private var echoSeenGeneration: UInt64 = 0
    /// Output timestamp of the end of the audio being conditioned (the packet without a jitter
    /// buffer, the frame with one): what is aligned with the reference when (re)locking.
    private var echoChunkEnd: UInt32 = 0
    /// The opposite direction's packet size: the reference is read this far behind the newest
    /// sample written, so the reader never runs into samples not sent yet.
    private var echoLag = 0

    // Comfort noise.
    private let comfortNoiseEnabled: Bool
    private var comfortNoiseActive = false
    private var noiseAmplitude: Int32 = MediaDirectionProcessor.defaultNoiseAmplitude
    private var noiseState: UInt32 = 0x1234_5678

    // DTMF.
    private var lock = DTMFDirectionLock()
    private let detector: DTMFToneDetector?
    private let toneGenerator: DTMFToneGenerator?
    /// Tones are queued or playing.
    private var tonesActive = false
    private var eventSender = TelephoneEventSender()
    private var eventSenderActive = false
    private var eventSenderClock: Int64 = 0
    private let eventInterval: Int
    // The event being received from `from` (digits 0-15 only).
    private var incomingActive = false
    private var incomingTimestamp: UInt32 = 0
    private var incomingCode: UInt8 = 0
    private var incomingRoute = IncomingRoute.dropped
    private var incomingDuration: UInt16 = 0
    private var incomingLastClock: Int64 = 0
    private var reportPending = false
    // Reported digits.
    private let reports: UnsafeMutablePointer<ReportedDigit>
    private var reportHead = 0
    private var reportCount = 0

    private enum IncomingRoute {
        case forward, tones, report, dropped
    }

    private struct ReportedDigit {
        var ascii: UInt8
        var method: DTMFMethod
        var durationMilliseconds: Int32
    }

    public init(
        from: LegMediaFormat, to: LegMediaFormat, options: DecodedLegOptions = .init(), dtmf: DTMFOptions = .init()
    ) throws(MediaDSPError) {
        let decibels = options.voiceGainDecibels
        guard DecodedLegOptions.voiceGainRange.contains(decibels) else {
            throw .invalidParameter(
                name: "voice gain", value: "\(decibels) dB",
                reason: "must be \(DecodedLegOptions.voiceGainRange.lowerBound)...\(DecodedLegOptions.voiceGainRange.upperBound) dB")
        }
        guard DTMFOptions.detectedDigitRange.contains(dtmf.detectedDigitMilliseconds) else {
            throw .invalidParameter(
                name: "detected DTMF digit duration", value: "\(dtmf.detectedDigitMilliseconds) ms",
                reason: "must be \(DTMFOptions.detectedDigitRange.lowerBound)...\(DTMFOptions.detectedDigitRange.upperBound) ms")
        }
        self.from = from
        self.to = to
        self.options = options
        self.dtmf = dtmf
        gain = Int32((pow(10, decibels / 20) * Double(Self.unityGain)).rounded())
        let jitterConfiguration = options.effectiveJitterBuffer
        let detects = dtmf.detectInband && from.codec != .g729
        let passthrough = from.codec == to.codec && from.ptimeMilliseconds == to.ptimeMilliseconds
            && gain == Self.unityGain
            // An annex B sender's SID frames must not reach a leg that refused annex B.
            && !(from.codec == .g729 && from.annexB && !to.annexB)
            && jitterConfiguration == nil && options.echoCancelTailMilliseconds == nil
            && !detects && !dtmf.sendInband
        isPassthrough = passthrough
        inputLaw = G711.Law(from.codec)
        outputLaw = G711.Law(to.codec)
        decoder = !passthrough && from.codec == .g729 ? try G729Decoder() : nil
        encoder = !passthrough && to.codec == .g729 ? try G729Encoder(annexB: to.annexB) : nil
        outputSamples = to.samplesPerPacket

        if let jitterConfiguration {
            let buffer = JitterBuffer(configuration: jitterConfiguration)
            jitterBuffer = buffer
            stagingCapacity = buffer.capacityFrames / 2 * Self.frameSamples
            staging = .allocate(capacity: stagingCapacity)
        } else {
            jitterBuffer = nil
            stagingCapacity = 0
            staging = nil
        }
        if let tail = options.echoCancelTailMilliseconds {
            canceller = try EchoCanceller(tailMilliseconds: tail)
            outputReference = EchoReference()
        } else {
            canceller = nil
            outputReference = nil
        }
        comfortNoiseEnabled = options.comfortNoise && outputLaw != nil
        do {
            detector = detects ? try DTMFToneDetector() : nil
            toneGenerator = dtmf.sendInband || outputLaw != nil
                ? try DTMFToneGenerator(onMilliseconds: dtmf.toneOnMilliseconds, offMilliseconds: dtmf.toneOffMilliseconds,
                                        levelDBm0: dtmf.toneLevelDBm0)
                : nil
        } catch {
            throw .invalidParameter(name: "DTMF options", value: "\(dtmf)", reason: "\(error)")
        }
        eventInterval = min(max(to.samplesPerPacket, Self.frameSamples), Self.maximumEventInterval)

        fifo = .allocate(capacity: outputSamples)
        frame = .allocate(capacity: Self.frameSamples)
        frame.initialize(repeating: 0, count: Self.frameSamples)
        lastPlayed = .allocate(capacity: Self.frameSamples)
        lastPlayed.initialize(repeating: 0, count: Self.frameSamples)
        referenceScratch = .allocate(capacity: Self.frameSamples)
        reports = .allocate(capacity: Self.reportCapacity)
        reports.initialize(repeating: ReportedDigit(ascii: 0, method: .rfc2833, durationMilliseconds: 0), count: Self.reportCapacity)
        outputCapacity = Self.headerBytes + max(Self.maximumForwardedPayload, outputSamples)
        output = .allocate(byteCount: outputCapacity, alignment: 8)
        outputSSRC = UInt32.random(in: .min ... .max)
        outputSequence = UInt16.random(in: .min ... .max)
        timestampOffset = UInt32.random(in: .min ... .max)
        outputHorizon = timestampOffset
    }

    deinit {
        fifo.deallocate()
        frame.deallocate()
        lastPlayed.deallocate()
        referenceScratch.deallocate()
        reports.deallocate()
        staging?.deallocate()
        output.deallocate()
    }

    /// Whether media between two legs needs a processor at all; false when a plain relay keeps the
    /// meaning (same codec, payload type and ptime, and any events the sender may send are ones the
    /// receiver negotiated under the same payload type). Voice gain is not considered: a non-zero
    /// gain always needs a processor.
    public static func needsProcessing(_ sender: LegMediaFormat, _ receiver: LegMediaFormat) -> Bool {
        if sender.codec != receiver.codec || sender.payloadType != receiver.payloadType
            || sender.ptimeMilliseconds != receiver.ptimeMilliseconds {
            return true
        }
        if sender.codec == .g729, sender.annexB, !receiver.annexB { return true }
        if let events = sender.telephoneEventPayloadType {
            return events != receiver.telephoneEventPayloadType
                || !receiver.telephoneEventRange.contains(sender.telephoneEventRange.lowerBound)
                || !receiver.telephoneEventRange.contains(sender.telephoneEventRange.upperBound)
        }
        return false
    }

    /// `needsProcessing(_:_:)` for one direction with its options: also true when the options
    /// need a processor (gain, jitter buffer, echo canceller, comfort noise towards G.711,
    /// in-band DTMF, or a receive setting that filters the sender's events). Digits by SIP INFO
    /// (`play`) also need one; the caller decides that.
    public static func needsProcessing(
        _ sender: LegMediaFormat, _ receiver: LegMediaFormat, options: DecodedLegOptions, dtmf: DTMFOptions
    ) -> Bool {
        needsProcessing(sender, receiver) || options.voiceGainDecibels != 0 || options.effectiveJitterBuffer != nil
            || options.echoCancelTailMilliseconds != nil || (options.comfortNoise && receiver.codec != .g729)
            || (dtmf.detectInband && sender.codec != .g729) || dtmf.sendInband
            || (sender.telephoneEventPayloadType != nil && !dtmf.receive.accepts(.rfc2833))
    }

    /// Links the two directions of a session for echo cancellation: each one's canceller takes
    /// as reference what the other sent to its `from` leg. Call once, after both exist, when
    /// `echoCancelTailMilliseconds` is set (otherwise it does nothing). No reference cycle: each
    /// keeps only the other's output ring.
    public func pair(with other: MediaDirectionProcessor) {
        echoReference = other.outputReference
        other.echoReference = outputReference
        echoLag = other.outputSamples
        other.echoLag = outputSamples
        echoLocked = false
        other.echoLocked = false
    }

    /// The delay the jitter buffer adds in this direction now (ms), for statistics; nil without one.
    public var jitterBufferDelayMilliseconds: Int? { jitterBuffer?.currentDelayMilliseconds }

    /// The jitter buffer's counters; nil without one.
    public var jitterBufferStatistics: JitterBufferStatistics? { jitterBuffer?.statistics }

    /// The DTMF method this direction is locked to, once a digit went through.
    public var lockedDTMFMethod: DTMFMethod? { lock.lockedMethod }

    /// Releases the DTMF lock (e.g. after a re-INVITE changed the negotiated DTMF method).
    public func resetDTMFLock() { lock.reset() }

    /// CLOCK_MONOTONIC in nanoseconds: the clock `process(_:emit:)` uses.
    public static func monotonicNanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
    }

    // MARK: Packet path

    /// Handles one packet received from the `from` leg at `now` (monotonic nanoseconds). `emit` is
    /// called zero or more times with a complete RTP packet for the `to` leg, valid only during
    /// that call.
    public func process(_ packet: UnsafeRawBufferPointer, now: UInt64, emit: (UnsafeRawBufferPointer) -> Void) {
        startCall(now)
        counters.processedPackets &+= 1
        guard let rtp = ReceivedRTP(packet) else {
            counters.droppedMalformed &+= 1
            return
        }
        if rtp.payloadType == from.payloadType {
            processAudio(rtp, emit: emit)
        } else if rtp.payloadType == from.telephoneEventPayloadType {
            processEvent(rtp, emit: emit)
        } else {
            counters.droppedUnknownPayloadType &+= 1
        }
    }

    /// `process(_:now:emit:)` at CLOCK_MONOTONIC now (one vDSO call).
    public func process(_ packet: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) -> Void) {
        process(packet, now: Self.monotonicNanoseconds(), emit: emit)
    }

    /// The periodic tick (every 10 ms or so): plays out the jitter buffer, generated tones and
    /// comfort noise, paces generated telephone-events, sends the tail of a talk spurt, and
    /// reports received events whose end never came.
    public func tick(now: UInt64, emit: (UnsafeRawBufferPointer) -> Void) {
        guard jitterBuffer != nil || fifoCount > 0 || tonesActive || syntheticRunning || comfortNoiseActive
            || eventSenderActive || reportPending || (comfortNoiseEnabled && audioSeen) else { return }
        startCall(now)
        let clock = currentClock
        if reportPending, clock - incomingLastClock > Self.eventReportTimeout {
            reportIncomingEvent()
        }
        if let jitterBuffer, jitterAnchored {
            playOut(jitterBuffer, emit: emit)
        } else {
            armComfortNoise()
            if tonesActive || comfortNoiseActive {
                runSynthetic(emit: emit)
            } else if syntheticRunning {
                stopSynthetic(emit: emit)
            } else if fifoCount > 0, jitterBuffer == nil,
                      clock - lastAudioClock > Int64(lastInputPacketSamples) + Self.tailFlushDelay {
                flushFIFO(limit: nil, emit: emit)
            }
        }
        if eventSenderActive { sendGeneratedEvent(emit: emit) }
    }

    /// Sends what is waiting for a full output packet (padded to whole G.729 frames). The tick
    /// does this by itself once the input has paused; this is for callers that want it now.
    public func flush(emit: (UnsafeRawBufferPointer) -> Void) {
        flushFIFO(limit: nil, emit: emit)
    }

    private func startCall(_ now: UInt64) {
        if !clockStarted {
            clockStarted = true
            clockEpoch = now
        }
        currentNow = now
        currentClock = Int64(bitPattern: now &- clockEpoch) / Int64(Self.nanosecondsPerSample)
    }

    private func processAudio(_ rtp: ReceivedRTP, emit: (UnsafeRawBufferPointer) -> Void) {
        let payload = rtp.payload
        let samples: Int
        var endsWithSID = false
        switch from.codec {
        case .pcma, .pcmu:
            samples = payload.count
            guard samples > 0 else { counters.droppedMalformed &+= 1; return }
        case .g729:
            // N voice frames, then at most one SID frame, which ends the packet (RFC 3551 4.5.6).
            let remainder = payload.count % G729Frame.voiceBytes
            guard payload.count > 0, remainder == 0 || remainder == G729Frame.sidBytes else {
                counters.droppedMalformed &+= 1
                return
            }
            endsWithSID = remainder != 0
            samples = (payload.count / G729Frame.voiceBytes + (remainder == 0 ? 0 : 1)) * G729Frame.samples
        }
        if isPassthrough, payload.count > Self.maximumForwardedPayload {
            counters.droppedMalformed &+= 1
            return
        }
        if let jitterBuffer {
            bufferAudio(rtp, samples: samples, endsWithSID: endsWithSID, into: jitterBuffer, emit: emit)
            return
        }
        guard admit(rtp, isAudio: true, emit: emit) else {
            counters.droppedLate &+= 1
            return
        }
        counters.audioPackets &+= 1
        audioSeen = true
        lastAudioClock = currentClock
        lastInputPacketSamples = samples
        let sidOnly = endsWithSID && payload.count == G729Frame.sidBytes
        if comfortNoiseActive, !sidOnly {
            comfortNoiseActive = false
            if syntheticRunning, !tonesActive { stopSynthetic(emit: emit) }
        }
        let replaced = syntheticRunning
        if replaced {
            counters.replacedAudioPackets &+= 1
        } else if needsRebase {
            rebaseInput(on: rtp, emit: emit)
        }

        if isPassthrough {
            nextInputTimestamp = rtp.timestamp &+ UInt32(truncatingIfNeeded: samples)
            guard !replaced else { return }
            let marker = rtp.marker || pendingMarker
            pendingMarker = false
            forward(payload, outputTimestamp: rtp.timestamp &+ timestampOffset, payloadType: to.payloadType,
                    marker: marker, emit: emit)
            advanceHorizon(to: nextInputTimestamp &+ timestampOffset)
            setMediaClock(nextInputTimestamp &+ timestampOffset)
            return
        }

        if rtp.timestamp != nextInputTimestamp {
            if replaced {
                nextInputTimestamp = rtp.timestamp
            } else {
                bridgeGap(to: rtp, emit: emit)
            }
        }
        if rtp.marker, !replaced { pendingMarker = true }
        echoChunkEnd = nextInputTimestamp &+ UInt32(truncatingIfNeeded: samples) &+ timestampOffset
        if let law = inputLaw {
            var offset = 0
            while offset < payload.count {
                let count = min(Self.frameSamples, payload.count - offset)
                G711.decode(law, from: UnsafeRawBufferPointer(rebasing: payload[offset..<offset + count]), into: frame)
                takeDecoded(count, concealed: false, emit: emit)
                offset += count
            }
        } else if let decoder {
            var offset = 0
            while offset < payload.count {
                let count = min(G729Frame.voiceBytes, payload.count - offset)
                decoder.decode(UnsafeRawBufferPointer(rebasing: payload[offset..<offset + count]), into: frame)
                if count == G729Frame.sidBytes { learnNoiseLevel() }
                takeDecoded(G729Frame.samples, concealed: false, emit: emit)
                offset += count
            }
            lossConcealable = !endsWithSID
        }
        if !syntheticRunning { setMediaClock(nextInputTimestamp &+ timestampOffset) }
    }

    private func processEvent(_ rtp: ReceivedRTP, emit: (UnsafeRawBufferPointer) -> Void) {
        let payload = rtp.payload
        // One 4-byte block per event; RFC 4733 2.5.1.5 lets a packet carry several.
        guard payload.count >= 4, payload.count % 4 == 0, payload.count <= Self.maximumForwardedPayload else {
            counters.droppedMalformed &+= 1
            return
        }
        _ = admit(rtp, isAudio: false, emit: emit)
        counters.eventPackets &+= 1
        lossConcealable = false
        let last = payload.count - 4
        let code = payload[last]
        let end = payload[last + 1] & 0x80 != 0
        let duration = UInt16(payload[last + 2]) << 8 | UInt16(payload[last + 3])
        lastEvent = (code: code, end: end, duration: duration, timestamp: rtp.timestamp)

        if TelephoneEvent.ascii(forEvent: code) != nil {
            // A DTMF digit: the lock and the routing decide.
            let route = trackIncomingEvent(code: code, end: end, duration: duration, timestamp: rtp.timestamp)
            guard route == .forward else {
                counters.droppedEvents &+= 1
                return
            }
        }
        guard let eventType = to.telephoneEventPayloadType else {
            counters.droppedEvents &+= 1
            return
        }
        var block = 0
        while block < payload.count {
            guard to.telephoneEventRange.contains(payload[block]) else {
                counters.droppedEvents &+= 1
                return
            }
            block += 4
        }
        // The event timestamp is the event's start, shared by all its packets: it maps like audio.
        forward(payload, outputTimestamp: rtp.timestamp &+ timestampOffset, payloadType: eventType, marker: rtp.marker, emit: emit)
        advanceHorizon(to: rtp.timestamp &+ timestampOffset &+ UInt32(duration))
    }

    // MARK: Input timeline

    /// Tracks the sender's SSRC and sequence. False for a duplicate or late audio packet. Events
    /// are never refused (their final packet is sent three times, RFC 4733 2.5.1.4), nor is
    /// anything with a jitter buffer (it sorts packets out by timestamp).
    private func admit(_ rtp: ReceivedRTP, isAudio: Bool, emit: (UnsafeRawBufferPointer) -> Void) -> Bool {
        guard haveSource else {
            haveSource = true
            inputSSRC = rtp.ssrc
            lastSequence = rtp.sequence
            nextInputTimestamp = rtp.timestamp
            if mediaClockValid || counters.emittedPackets > 0 {
                // Generated media went out first: carry on from it.
                timestampOffset = later(outputHorizon, mediaEstimate()) &- rtp.timestamp
            } else {
                outputHorizon = rtp.timestamp &+ timestampOffset
            }
            return true
        }
        if rtp.ssrc != inputSSRC {
            if reportPending { reportIncomingEvent() }
            incomingActive = false
            inputSSRC = rtp.ssrc
            lastSequence = rtp.sequence
            consecutiveLate = 0
            if let jitterBuffer {
                jitterBuffer.reset()
                jitterAnchored = false
                return true
            }
            // A new sender timeline: send what the old one left, then start the new one right
            // after it in output time, marked as a new talk spurt. Our SSRC stays.
            if !syntheticRunning { flushFIFO(limit: nil, emit: emit) }
            timestampOffset = outputHorizon &- rtp.timestamp
            nextInputTimestamp = rtp.timestamp
            lossConcealable = false
            pendingMarker = true
            echoLocked = false
            return true
        }
        let step = Int16(bitPattern: rtp.sequence &- lastSequence)
        guard isAudio, jitterBuffer == nil else {
            if step > 0 { lastSequence = rtp.sequence }
            return true
        }
        if step <= 0, step > -Self.lateWindow {
            consecutiveLate += 1
            // Past the limit the sender restarted its numbering without a new SSRC: follow it.
            if consecutiveLate <= Self.maximumConsecutiveLate { return false }
        }
        consecutiveLate = 0
        lastSequence = rtp.sequence
        return true
    }

    /// The packet does not continue the input timeline. Short G.729 losses are concealed by the
    /// decoder; anything else ends the old timeline (its samples go out, never mixed with the new
    /// ones) and starts a new one at the packet.
    private func bridgeGap(to rtp: ReceivedRTP, emit: (UnsafeRawBufferPointer) -> Void) {
        let gap = Int(Int32(bitPattern: rtp.timestamp &- nextInputTimestamp))
        if let decoder, lossConcealable, !rtp.marker, gap > 0,
           gap % G729Frame.samples == 0, gap <= Self.maximumConcealedSamples {
            for _ in 0..<gap / G729Frame.samples {
                decoder.conceal(into: frame)
                counters.concealedFrames &+= 1
                takeDecoded(G729Frame.samples, concealed: true, emit: emit)
            }
            return
        }
        // The old samples may cover output time only up to where the new packet starts.
        flushFIFO(limit: Int(Int32(bitPattern: rtp.timestamp &+ timestampOffset &- fifoTimestamp)), emit: emit)
        detector?.skip(count: max(0, min(gap, Self.maximumConcealedSamples)))
        nextInputTimestamp = rtp.timestamp
    }

    /// Input audio resumes after generated audio replaced it: map it to just after what went out.
    private func rebaseInput(on rtp: ReceivedRTP, emit: (UnsafeRawBufferPointer) -> Void) {
        flushFIFO(limit: nil, emit: emit)
        timestampOffset = later(outputHorizon, mediaEstimate()) &- rtp.timestamp
        nextInputTimestamp = rtp.timestamp
        pendingMarker = true
        lossConcealable = false
        needsRebase = false
        echoLocked = false
    }

    // MARK: Decoded PCM

    /// `frame[0..<count]` holds new decoded (or concealed) voice of the input timeline.
    private func takeDecoded(_ count: Int, concealed: Bool, emit: (UnsafeRawBufferPointer) -> Void) {
        let timestamp = nextInputTimestamp &+ timestampOffset
        conditionInput(count, timestamp: timestamp, concealed: concealed)
        nextInputTimestamp &+= UInt32(truncatingIfNeeded: count)
        // Generated audio is going out instead.
        guard !syntheticRunning else { return }
        appendToFIFO(frame, count: count, timestamp: timestamp, emit: emit)
    }

    /// What happens to `from`'s voice before it is encoded for `to`, in `frame[0..<count]`
    /// (output timestamp `timestamp`): echo cancellation, in-band DTMF detection (and muting of
    /// a detected tone), gain.
    private func conditionInput(_ count: Int, timestamp: UInt32, concealed: Bool) {
        if let canceller, !concealed { cancelEcho(canceller, count: count, timestamp: timestamp) }
        if let detector {
            if concealed {
                detector.skip(count: count)
            } else {
                detector.process(frame, count: count)
                while let ascii = detector.takeDigitASCII() { handleDetectedDigit(ascii) }
            }
            if detector.toneInProgress != nil {
                frame.update(repeating: 0, count: count)
                return
            }
        }
        if gain != Self.unityGain {
            for index in 0..<count {
                let scaled = (Int32(frame[index]) * gain + (1 << 13)) >> 14
                frame[index] = Int16(clamping: scaled)
            }
        }
    }

    /// Removes from `frame` the echo of what the opposite direction sent to our `from` leg.
    private func cancelEcho(_ canceller: EchoCanceller, count: Int, timestamp: UInt32) {
        guard let reference = echoReference, reference.hasData else { return }
        var position = timestamp &+ echoDelta
        let ahead = Int(Int32(bitPattern: position &+ UInt32(truncatingIfNeeded: count) &- reference.writtenEnd))
        let stale = ahead < -(EchoReference.capacity - Self.echoSlack)
            || (ahead > Self.echoSlack && reference.generation != echoSeenGeneration)
        if !echoLocked || stale {
            // Pair the end of this packet (frame) with what was sent one packet before it arrived.
            if echoLocked { canceller.reset() }
            echoLocked = true
            echoDelta = reference.writtenEnd &- UInt32(truncatingIfNeeded: echoLag) &- echoChunkEnd
            position = timestamp &+ echoDelta
        }
        echoSeenGeneration = reference.generation
        reference.read(into: referenceScratch, count: count, at: position)
        canceller.process(frame, reference: referenceScratch, count: count)
    }

    /// Adds `count` samples starting at output timestamp `timestamp` to the FIFO, sending each
    /// full packet. The caller keeps the samples contiguous with what the FIFO holds.
    private func appendToFIFO(
        _ source: UnsafePointer<Int16>, count: Int, timestamp: UInt32, emit: (UnsafeRawBufferPointer) -> Void
    ) {
        var taken = 0
        while taken < count {
            if fifoCount == 0 { fifoTimestamp = timestamp &+ UInt32(truncatingIfNeeded: taken) }
            let n = min(count - taken, outputSamples - fifoCount)
            (fifo + fifoCount).update(from: source + taken, count: n)
            fifoCount += n
            taken += n
            if fifoCount == outputSamples {
                encodeAndSend(count: outputSamples, outputTimestamp: fifoTimestamp, emit: emit)
                fifoCount = 0
            }
        }
    }

    /// Sends the FIFO's samples short of a full packet: G.729 rounds up to whole frames with
    /// silence. `limit` caps the samples sent, so they never overlap a following timeline.
    private func flushFIFO(limit: Int?, emit: (UnsafeRawBufferPointer) -> Void) {
        guard fifoCount > 0 else { return }
        let frameSamples = to.codec == .g729 ? G729Frame.samples : 1
        // A whole packet of the leg's ptime, the rest silence: the far end gets the packet size
        // it negotiated even at the end of a talk spurt. Only a following timeline that starts
        // sooner (`limit`) cuts it short, to whole frames.
        var count = outputSamples
        if let limit, count > limit {
            count = max(0, limit) / frameSamples * frameSamples
        }
        if count > fifoCount {
            (fifo + fifoCount).update(repeating: 0, count: count - fifoCount)
        }
        if count > 0 {
            encodeAndSend(count: count, outputTimestamp: fifoTimestamp, emit: emit)
        }
        fifoCount = 0
    }

    /// Encodes `fifo[0..<count]` (whole frames for G.729) into one packet, or several when annex B
    /// silence splits it: a SID frame ends a packet and an untransmitted frame leaves a gap.
    private func encodeAndSend(count: Int, outputTimestamp: UInt32, emit: (UnsafeRawBufferPointer) -> Void) {
        outputReference?.write(fifo, count: count, at: outputTimestamp)
        let payload = output + Self.headerBytes
        if let law = outputLaw {
            G711.encode(law, from: fifo, count: count, into: payload)
            send(payloadBytes: count, outputTimestamp: outputTimestamp, payloadType: to.payloadType, marker: takeMarker(), emit: emit)
        } else if let encoder {
            let bytes = payload.assumingMemoryBound(to: UInt8.self)
            var used = 0
            var packetTimestamp = outputTimestamp
            var startsTalkSpurt = false
            for start in stride(from: 0, to: count, by: G729Frame.samples) {
                let written = encoder.encode(fifo + start, into: bytes + used)
                if written > 0, used == 0 {
                    packetTimestamp = outputTimestamp &+ UInt32(truncatingIfNeeded: start)
                    startsTalkSpurt = encoderSilent && written == G729Frame.voiceBytes
                }
                used += written
                if written != G729Frame.voiceBytes {
                    encoderSilent = true
                    if used > 0 {
                        send(payloadBytes: used, outputTimestamp: packetTimestamp, payloadType: to.payloadType,
                             marker: takeMarker() || startsTalkSpurt, emit: emit)
                        used = 0
                    }
                } else {
                    encoderSilent = false
                }
            }
            if used > 0 {
                send(payloadBytes: used, outputTimestamp: packetTimestamp, payloadType: to.payloadType,
                     marker: takeMarker() || startsTalkSpurt, emit: emit)
            }
        }
        advanceHorizon(to: outputTimestamp &+ UInt32(truncatingIfNeeded: count))
    }

    // MARK: Jitter buffer

    /// Decodes a packet into the jitter buffer; `tick` plays it out.
    private func bufferAudio(
        _ rtp: ReceivedRTP, samples: Int, endsWithSID: Bool, into jitterBuffer: JitterBuffer,
        emit: (UnsafeRawBufferPointer) -> Void
    ) {
        guard let staging, samples <= stagingCapacity else {
            counters.droppedMalformed &+= 1
            return
        }
        _ = admit(rtp, isAudio: true, emit: emit)
        let payload = rtp.payload
        if let law = inputLaw {
            G711.decode(law, from: payload, into: staging)
        } else if let decoder {
            var offset = 0
            var written = 0
            while offset < payload.count {
                let count = min(G729Frame.voiceBytes, payload.count - offset)
                decoder.decode(UnsafeRawBufferPointer(rebasing: payload[offset..<offset + count]), into: staging + written)
                offset += count
                written += G729Frame.samples
            }
        }
        var count = samples
        if count < Self.frameSamples {
            (staging + count).update(repeating: 0, count: Self.frameSamples - count)
            count = Self.frameSamples
        } else {
            count -= count % Self.frameSamples
        }
        let wasAnchored = jitterAnchored
        let result = jitterBuffer.put(timestamp: rtp.timestamp, samples: UnsafeBufferPointer(start: staging, count: count),
                                      arrival: currentNow)
        switch result {
        case .stored, .resynchronized:
            counters.audioPackets &+= 1
            audioSeen = true
            lastAudioClock = currentClock
            lastInputPacketSamples = samples
            if !wasAnchored || result == .resynchronized {
                jitterAnchored = true
                // Until a frame plays, place its events where its audio is expected to go.
                let delay = UInt32(truncatingIfNeeded: jitterBuffer.configuration.defaultMilliseconds * 8)
                timestampOffset = later(outputHorizon, mediaEstimate()) &+ delay &- rtp.timestamp
                newestBufferedTimestamp = rtp.timestamp
                newestBufferedIsSID = endsWithSID
            } else if Int32(bitPattern: rtp.timestamp &- newestBufferedTimestamp) >= 0 {
                newestBufferedTimestamp = rtp.timestamp
                newestBufferedIsSID = endsWithSID
            }
            if endsWithSID, decoder != nil {
                // The packet's last frame is the SID's comfort noise.
                learnNoiseLevel(from: staging + samples - G729Frame.samples)
            }
        case .late, .duplicate, .outOfRange:
            counters.droppedLate &+= 1
        case .invalidLength:
            counters.droppedMalformed &+= 1
        }
    }

    /// Plays out every frame due: received, concealed, tones, comfort noise or a gap.
    private func playOut(_ jitterBuffer: JitterBuffer, emit: (UnsafeRawBufferPointer) -> Void) {
        let clock = currentClock
        // Tones or noise generated before the buffer had anything hand over their timeline.
        syntheticRunning = false
        comfortNoiseActive = false
        var produced = 0
        while produced < Self.maximumTickFrames {
            let result = jitterBuffer.get(now: currentNow, into: frame)
            if result == .notDue { return }
            if produced == 0, !playoutStarted || clock - lastPlayoutClock > 2 * Int64(Self.frameSamples) {
                // Playout (re)starts: carry on from what went out, in real time.
                flushFIFO(limit: nil, emit: emit)
                let start = later(outputHorizon, mediaEstimate())
                tickTimestamp = playoutStarted ? later(tickTimestamp, start) : start
                playoutStarted = true
                pendingMarker = true
            }
            let real: Bool
            switch result {
            case .notDue:
                return
            case .frame(let timestamp):
                timestampOffset = tickTimestamp &- timestamp
                real = true
            case .missing(let timestamp):
                timestampOffset = tickTimestamp &- timestamp
                real = false
            case .inserted:
                real = false
            }
            produced += 1
            lastPlayoutClock = clock
            var content = real
            if real {
                lastPlayed.update(from: frame, count: Self.frameSamples)
                playedReal = true
                playoutInGap = false
                concealRun = 0
            } else {
                content = concealPlayout()
                if !content { playoutInGap = true }
            }
            let timestamp = tickTimestamp
            echoChunkEnd = timestamp &+ UInt32(Self.frameSamples)
            if content {
                conditionInput(Self.frameSamples, timestamp: timestamp, concealed: !real)
            } else {
                detector?.skip(count: Self.frameSamples)
            }
            if tonesActive {
                generateTones()
                content = true
            } else if !content, comfortNoiseEnabled, audioSeen {
                generateNoise()
                content = true
            }
            setMediaClock(timestamp)
            if content {
                appendToFIFO(frame, count: Self.frameSamples, timestamp: timestamp, emit: emit)
            } else if fifoCount > 0 {
                // A gap starts inside a packet: the packet is completed with the gap's first
                // frames as silence rather than sent short (the leg asked for its ptime).
                frame.update(repeating: 0, count: Self.frameSamples)
                appendToFIFO(frame, count: Self.frameSamples, timestamp: timestamp, emit: emit)
            } else {
                pendingMarker = true
            }
            tickTimestamp &+= UInt32(Self.frameSamples)
        }
    }

    /// A frame for a missing one into `frame`, or false: too long a gap, or after silence (a
    /// gap already, or a G.729 SID). Without looking ahead a late packet and the end of a talk
    /// spurt look alike: both get up to `maximumConcealedSamples` of concealment, fading.
    private func concealPlayout() -> Bool {
        let limit = Self.maximumConcealedSamples / Self.frameSamples
        guard !playoutInGap, playedReal, concealRun < limit, !(decoder != nil && newestBufferedIsSID) else { return false }
        concealRun += 1
        counters.concealedFrames &+= 1
        // Repeat the last frame, fading out over the concealment limit, for G.729 too: its
        // decoder already decoded the frames buffered after this one (on arrival), so its own
        // concealment here would run its state out of order and distort what follows (a tone
        // test heard 4-18 % of the power off the tone).
        let scale = Int32((limit + 1 - concealRun) * Int(Self.unityGain) / (limit + 1))
        for index in 0..<Self.frameSamples {
            frame[index] = Int16(truncatingIfNeeded: (Int32(lastPlayed[index]) * scale) >> 14)
        }
        return true
    }

    // MARK: Generated audio (tones, comfort noise)

    /// Plays generated frames on the tick clock while no jitter buffer is playing.
    private func runSynthetic(emit: (UnsafeRawBufferPointer) -> Void) {
        let clock = currentClock
        if !syntheticRunning {
            // Generated audio takes over from the input: what the input left goes out first.
            flushFIFO(limit: nil, emit: emit)
            tickTimestamp = later(outputHorizon, mediaEstimate())
            nextFrameClock = clock
            syntheticRunning = true
            needsRebase = true
            pendingMarker = true
        }
        let behind = clock - nextFrameClock
        if behind > Int64(Self.maximumTickFrames * Self.frameSamples) {
            // The ticks stalled: leave the lost time as a gap.
            let skipped = behind / Int64(Self.frameSamples) * Int64(Self.frameSamples)
            flushFIFO(limit: nil, emit: emit)
            tickTimestamp &+= UInt32(truncatingIfNeeded: skipped)
            nextFrameClock += skipped
            pendingMarker = true
        }
        while nextFrameClock <= clock {
            if tonesActive {
                generateTones()
            } else if comfortNoiseActive {
                generateNoise()
            } else {
                stopSynthetic(emit: emit)
                return
            }
            setMediaClock(tickTimestamp, at: nextFrameClock)
            appendToFIFO(frame, count: Self.frameSamples, timestamp: tickTimestamp, emit: emit)
            tickTimestamp &+= UInt32(Self.frameSamples)
            nextFrameClock += Int64(Self.frameSamples)
            if !tonesActive { armComfortNoise() }
        }
        if !tonesActive, !comfortNoiseActive { stopSynthetic(emit: emit) }
    }

    /// Generated audio ends: the packet under way is completed with silence (not sent short).
    private func stopSynthetic(emit: (UnsafeRawBufferPointer) -> Void) {
        var frames = 0
        while fifoCount > 0, frames < 8 {
            frame.update(repeating: 0, count: Self.frameSamples)
            appendToFIFO(frame, count: Self.frameSamples, timestamp: tickTimestamp, emit: emit)
            tickTimestamp &+= UInt32(Self.frameSamples)
            frames += 1
        }
        flushFIFO(limit: nil, emit: emit)
        syntheticRunning = false
    }

    /// Next 10 ms of queued tones into `frame`; the tones are done when the generator runs dry.
    private func generateTones() {
        guard let toneGenerator else {
            tonesActive = false
            frame.update(repeating: 0, count: Self.frameSamples)
            return
        }
        if toneGenerator.generate(into: frame, count: Self.frameSamples) < Self.frameSamples {
            tonesActive = false
        }
    }

    private func armComfortNoise() {
        guard comfortNoiseEnabled, audioSeen, !comfortNoiseActive, !tonesActive,
              jitterBuffer == nil || !jitterAnchored else { return }
        if currentClock - lastAudioClock > Int64(lastInputPacketSamples) + Self.comfortNoiseHoldoff {
            comfortNoiseActive = true
        }
    }

    /// 10 ms of white noise at the comfort noise level into `frame`.
    private func generateNoise() {
        for index in 0..<Self.frameSamples {
            noiseState ^= noiseState << 13
            noiseState ^= noiseState >> 17
            noiseState ^= noiseState << 5
            let uniform = Int32(truncatingIfNeeded: Int16(truncatingIfNeeded: noiseState >> 8))
            frame[index] = Int16(truncatingIfNeeded: (uniform * noiseAmplitude) >> 15)
        }
        counters.comfortNoiseFrames &+= 1
    }

    /// Takes the comfort noise level from a decoded SID frame (80 samples).
    private func learnNoiseLevel(from samples: UnsafePointer<Int16>? = nil) {
        let source = samples ?? UnsafePointer(frame)
        var sum: Int64 = 0
        for index in 0..<G729Frame.samples {
            sum += Int64(source[index]) * Int64(source[index])
        }
        let rms = (Double(sum) / Double(G729Frame.samples)).squareRoot()
        // Uniform noise of amplitude A has an RMS of A / sqrt(3).
        noiseAmplitude = Int32(min(max(rms * 3.0.squareRoot(), 4), 2000))
    }

    // MARK: DTMF

    /// Follows the received event stream; decides once per digit (on its first packet) what
    /// happens to it. Returns the route of this packet.
    private func trackIncomingEvent(code: UInt8, end: Bool, duration: UInt16, timestamp: UInt32) -> IncomingRoute {
        if incomingActive, Int32(bitPattern: timestamp &- incomingTimestamp) < 0 {
            // A late packet of an earlier event (its retransmitted end, say): it has been dealt with.
            return lock.lockedMethod == .rfc2833 && to.telephoneEventPayloadType != nil ? .forward : .dropped
        }
        if !incomingActive || timestamp != incomingTimestamp || code != incomingCode {
            if reportPending { reportIncomingEvent() }
            incomingActive = true
            incomingTimestamp = timestamp
            incomingCode = code
            incomingDuration = 0
            if !dtmf.receive.accepts(.rfc2833) {
                counters.droppedByFilter &+= 1
                incomingRoute = .dropped
            } else if !lock.admit(.rfc2833) {
                counters.droppedByLock &+= 1
                incomingRoute = .dropped
            } else if to.telephoneEventPayloadType != nil {
                incomingRoute = .forward
            } else if canPlayTones(forPlay: false), queueTone(code) {
                counters.digitsPlayed &+= 1
                incomingRoute = .tones
            } else {
                incomingRoute = .report
                reportPending = true
            }
        }
        incomingDuration = max(incomingDuration, duration)
        incomingLastClock = currentClock
        if end, reportPending { reportIncomingEvent() }
        return incomingRoute
    }

    private func reportIncomingEvent() {
        reportPending = false
        report(code: incomingCode, durationMilliseconds: Int(incomingDuration) * 1000 / AudioCodec.clockRate, method: .rfc2833)
    }

    private func handleDetectedDigit(_ ascii: UInt8) {
        guard let code = TelephoneEvent.event(forASCII: ascii) else { return }
        guard dtmf.receive.accepts(.inband) else {
            counters.droppedByFilter &+= 1
            return
        }
        guard lock.admit(.inband) else {
            counters.droppedByLock &+= 1
            return
        }
        if to.telephoneEventPayloadType != nil, to.telephoneEventRange.contains(code),
           queueEvent(code, durationMilliseconds: dtmf.detectedDigitMilliseconds) {
            counters.digitsPlayed &+= 1
        } else {
            report(code: code, durationMilliseconds: dtmf.detectedDigitMilliseconds, method: .inband)
        }
    }

    private func canPlayTones(forPlay: Bool) -> Bool {
        guard toneGenerator != nil, outputLaw != nil || encoder != nil else { return false }
        return dtmf.sendInband || (forPlay && outputLaw != nil)
    }

    private func queueTone(_ code: UInt8) -> Bool {
        guard let toneGenerator, let ascii = TelephoneEvent.ascii(forEvent: code) else { return false }
        do {
            try toneGenerator.queue(digit: Character(Unicode.Scalar(ascii)))
        } catch {
            return false
        }
        tonesActive = true
        return true
    }

    /// Queues an RFC 4733 event towards `to`; a new burst starts at the current audio position.
    private func queueEvent(_ code: UInt8, durationMilliseconds: Int) -> Bool {
        if !eventSenderActive {
            eventSender = TelephoneEventSender(initialTimestamp: mediaEstimate(), packetIntervalSamples: eventInterval)
            eventSenderClock = currentClock
            eventSenderActive = true
        }
        do {
            try eventSender.start(event: code, durationMilliseconds: durationMilliseconds)
        } catch {
            return false
        }
        return true
    }

    private func sendGeneratedEvent(emit: (UnsafeRawBufferPointer) -> Void) {
        let elapsed = max(0, currentClock - eventSenderClock)
        eventSenderClock = currentClock
        if let packet = eventSender.next(elapsedSamples: Int(elapsed)), let eventType = to.telephoneEventPayloadType {
            let payload = UnsafeMutableRawBufferPointer(start: output + Self.headerBytes, count: TelephoneEvent.payloadLength)
            if (try? packet.payload.write(to: payload)) != nil {
                send(payloadBytes: TelephoneEvent.payloadLength, outputTimestamp: packet.timestamp, payloadType: eventType,
                     marker: packet.marker, emit: emit)
                advanceHorizon(to: packet.timestamp &+ UInt32(packet.payload.duration))
            }
        }
        if eventSender.isIdle { eventSenderActive = false }
    }

    private func report(code: UInt8, durationMilliseconds: Int, method: DTMFMethod) {
        guard let ascii = TelephoneEvent.ascii(forEvent: code) else { return }
        guard reportCount < Self.reportCapacity else {
            counters.droppedReports &+= 1
            return
        }
        reports[(reportHead + reportCount) % Self.reportCapacity] = ReportedDigit(
            ascii: ascii, method: method, durationMilliseconds: Int32(clamping: durationMilliseconds))
        reportCount += 1
        counters.digitsReported &+= 1
    }

    /// The oldest digit the `to` leg could not be given in media (the controller sends it by SIP
    /// INFO), or nil. Poll after `process` and `tick`.
    public func takeReportedDigit() -> (digit: Character, durationMilliseconds: Int, method: DTMFMethod)? {
        guard reportCount > 0 else { return nil }
        let entry = reports[reportHead]
        reportHead = (reportHead + 1) % Self.reportCapacity
        reportCount -= 1
        return (Character(Unicode.Scalar(entry.ascii)), Int(entry.durationMilliseconds), entry.method)
    }

    /// Digits received by SIP INFO on the `from` leg's side, to be delivered to the `to` leg:
    /// as RFC 4733 events when `to` takes telephone-event (every digit in its range), else as
    /// tones when `sendInband` or `to` is G.711. The tick paces them. `durationMilliseconds`
    /// (clamped to 40...8000) applies to events; tones use `DTMFOptions.toneOnMilliseconds`.
    public func playDigits(_ digits: String, durationMilliseconds: Int, now: UInt64) -> DTMFPlayOutcome {
        startCall(now)
        var count = 0
        var eventsFit = true
        for ascii in digits.utf8 {
            guard let code = TelephoneEvent.event(forASCII: ascii) else { return .invalidDigits }
            count += 1
            if !to.telephoneEventRange.contains(code) { eventsFit = false }
        }
        guard count > 0 else { return .invalidDigits }
        guard dtmf.receive.accepts(.info) else {
            counters.droppedByFilter &+= UInt64(count)
            return .refusedByFilter
        }
        guard lock.admit(.info) else {
            counters.droppedByLock &+= UInt64(count)
            return .droppedByLock
        }
        if to.telephoneEventPayloadType != nil, eventsFit {
            let queued = eventSenderActive ? eventSender.pendingCount : 0
            guard queued + count <= TelephoneEventSender.queueCapacity else { return .queueFull }
            for ascii in digits.utf8 {
                guard let code = TelephoneEvent.event(forASCII: ascii),
                      queueEvent(code, durationMilliseconds: durationMilliseconds) else { return .queueFull }
                counters.digitsPlayed &+= 1
            }
            return .events
        }
        if canPlayTones(forPlay: true) {
            for ascii in digits.utf8 {
                guard let code = TelephoneEvent.event(forASCII: ascii), queueTone(code) else { return .queueFull }
                counters.digitsPlayed &+= 1
            }
            return .tones
        }
        return .noMediaRoute
    }

    /// `playDigits` as a yes/no: true when the digits were taken into media. False for every
    /// other outcome, including a refusal by the DTMF lock or the receive setting (the controller
    /// must not forward those either: see `playDigits` and `counters.droppedByLock`).
    public func play(digits: String, durationMilliseconds: Int, now: UInt64) -> Bool {
        playDigits(digits, durationMilliseconds: durationMilliseconds, now: now).isDelivered
    }

    // MARK: Output packets

    private func takeMarker() -> Bool {
        defer { pendingMarker = false }
        return pendingMarker
    }

    private func advanceHorizon(to timestamp: UInt32) {
        if Int32(bitPattern: timestamp &- outputHorizon) > 0 { outputHorizon = timestamp }
    }

    /// The later of two output timestamps.
    private func later(_ a: UInt32, _ b: UInt32) -> UInt32 {
        Int32(bitPattern: a &- b) >= 0 ? a : b
    }

    private func setMediaClock(_ timestamp: UInt32, at clock: Int64? = nil) {
        mediaTimestamp = timestamp
        mediaClock = clock ?? currentClock
        mediaClockValid = true
    }

    /// The output timestamp of the current instant, extrapolated from the last media placed.
    private func mediaEstimate() -> UInt32 {
        guard mediaClockValid else { return outputHorizon }
        let elapsed = min(max(currentClock - mediaClock, 0), Int64(Int32.max))
        return mediaTimestamp &+ UInt32(truncatingIfNeeded: elapsed)
    }

    private func forward(
        _ payload: UnsafeRawBufferPointer, outputTimestamp: UInt32, payloadType: UInt8, marker: Bool,
        emit: (UnsafeRawBufferPointer) -> Void
    ) {
        if let source = payload.baseAddress {
            (output + Self.headerBytes).copyMemory(from: source, byteCount: payload.count)
        }
        send(payloadBytes: payload.count, outputTimestamp: outputTimestamp, payloadType: payloadType, marker: marker, emit: emit)
    }

    /// Writes the RTP header in front of the payload already at `output + 12` and hands it out.
    /// No CSRCs or header extensions: they describe the sender's stream, not ours.
    private func send(
        payloadBytes: Int, outputTimestamp: UInt32, payloadType: UInt8, marker: Bool,
        emit: (UnsafeRawBufferPointer) -> Void
    ) {
        let header = output.assumingMemoryBound(to: UInt8.self)
        header[0] = 0x80
        header[1] = (marker ? 0x80 : 0) | payloadType
        Self.storeBigEndian(outputSequence, at: header + 2)
        Self.storeBigEndian(outputTimestamp, at: header + 4)
        Self.storeBigEndian(outputSSRC, at: header + 8)
        outputSequence &+= 1
        counters.emittedPackets &+= 1
        lastOutputTimestamp = outputTimestamp
        emittedPayloadOctets &+= UInt64(payloadBytes)
        emit(UnsafeRawBufferPointer(start: output, count: Self.headerBytes + payloadBytes))
    }

    private static func storeBigEndian<Value: FixedWidthInteger>(_ value: Value, at pointer: UnsafeMutablePointer<UInt8>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: value.bigEndian, as: Value.self)
    }

    // MARK: Parsing

    /// The fields of a received RTP packet (RFC 3550 5.1) this processor uses; nil when the
    /// header's own lengths do not fit the packet.
    private struct ReceivedRTP {
        let marker: Bool
        let payloadType: UInt8
        let sequence: UInt16
        let timestamp: UInt32
        let ssrc: UInt32
        let payload: UnsafeRawBufferPointer

        init?(_ packet: UnsafeRawBufferPointer) {
            guard packet.count >= MediaDirectionProcessor.headerBytes, packet[0] >> 6 == 2 else { return nil }
            var payloadStart = MediaDirectionProcessor.headerBytes + 4 * Int(packet[0] & 0x0F)
            if packet[0] & 0x10 != 0 {
                // Extension: 16-bit profile field, then its length in 32-bit words (RFC 3550 5.3.1).
                guard payloadStart + 4 <= packet.count else { return nil }
                let words = Int(packet[payloadStart + 2]) << 8 | Int(packet[payloadStart + 3])
                payloadStart += 4 + 4 * words
            }
            guard payloadStart <= packet.count else { return nil }
            var payloadEnd = packet.count
            if packet[0] & 0x20 != 0 {
                // The last octet counts the padding, itself included, so it is at least 1.
                let padding = Int(packet[packet.count - 1])
                guard padding > 0, payloadStart + padding <= packet.count else { return nil }
                payloadEnd -= padding
            }
            marker = packet[1] & 0x80 != 0
            payloadType = packet[1] & 0x7F
            sequence = UInt16(packet[2]) << 8 | UInt16(packet[3])
            timestamp = UInt32(packet[4]) << 24 | UInt32(packet[5]) << 16 | UInt32(packet[6]) << 8 | UInt32(packet[7])
            ssrc = UInt32(packet[8]) << 24 | UInt32(packet[9]) << 16 | UInt32(packet[10]) << 8 | UInt32(packet[11])
            payload = UnsafeRawBufferPointer(rebasing: packet[payloadStart..<payloadEnd])
        }
    }
}
