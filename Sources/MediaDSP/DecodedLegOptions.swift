/// Processing applied to decoded voice, fixed for the processor's life (the session-wide
/// SS_* media parameters: voice gain, jitter buffer, echo canceller, comfort noise).
public struct DecodedLegOptions: Sendable, Equatable {
    /// Gain on the decoded voice in dB, within `voiceGainRange`; 0 leaves samples untouched.
    public var voiceGainDecibels: Double
    /// SS_JITTERBUFFER_MODE / _MIN / _MAX / _DEFAULT; nil for none (output driven by input).
    /// A buffer that can add no delay (fixed with DEFAULT 0, or MAX 0) counts as none: see
    /// `effectiveJitterBuffer`.
    public var jitterBuffer: JitterBufferConfiguration?
    /// SS_ECHOCANCEL 1 with SS_ECHOCANCELTAIL (64/128/256; `EchoCanceller.tailRange` accepted);
    /// nil when SS_ECHOCANCEL is 0. Needs the opposite direction as reference:
    /// `MediaDirectionProcessor.pair(with:)`.
    public var echoCancelTailMilliseconds: Int?
    /// SS_COMFORTNOISE: while the input pauses (no packets, or G.729 annex B silence) a G.711
    /// output leg gets low-level noise instead of nothing. Ignored for a G.729 output leg
    /// (annex B carries its own comfort noise, and without annex B silence is cheaper as a gap).
    public var comfortNoise: Bool

    public static let voiceGainRange: ClosedRange<Double> = -10...10

    public init(
        voiceGainDecibels: Double = 0, jitterBuffer: JitterBufferConfiguration? = nil,
        echoCancelTailMilliseconds: Int? = nil, comfortNoise: Bool = false
    ) {
        self.voiceGainDecibels = voiceGainDecibels
        self.jitterBuffer = jitterBuffer
        self.echoCancelTailMilliseconds = echoCancelTailMilliseconds
        self.comfortNoise = comfortNoise
    }

    /// The jitter buffer actually used: nil when none is configured, and when the configured
    /// one can add no delay (SS_JITTERBUFFER_MODE 0 with DEFAULT 0 means "no delay"; MAX 0 caps
    /// any mode at zero), so the input-driven path runs instead.
    public var effectiveJitterBuffer: JitterBufferConfiguration? {
        guard let configuration = jitterBuffer else { return nil }
        if configuration.maximumMilliseconds == 0 { return nil }
        if configuration.mode == .fixed, configuration.defaultMilliseconds == 0 { return nil }
        return configuration
    }
}
