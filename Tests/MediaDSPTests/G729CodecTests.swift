/// G.729 over bcg729: frame sizes, a tone surviving encode and decode, annex B silence, SID and
/// erasure decoding.
import Foundation
import MediaDSP
import Testing

/// Power of `frequency` in `samples` (8 kHz) on the scale these tests' thresholds were set in
/// (a sine of amplitude A reads A²/4): `ToneAnalysis`'s Goertzel, which reads A²/2.
func testTonePower(_ samples: ArraySlice<Int16>, frequency: Double, sampleRate: Double = 8000) -> Double {
    ToneAnalysis.power(of: frequency, in: Array(samples), sampleRate: sampleRate) / 2
}

/// `count` samples of a sine starting at sample `start`.
func makeTestSine(frequency: Double, amplitude: Double, count: Int, start: Int = 0) -> [Int16] {
    (start..<start + count).map { Int16((amplitude * sin(2 * Double.pi * frequency * Double($0) / 8000.0)).rounded()) }
}

/// Encodes whole 10 ms frames; returns each frame's bytes (empty when untransmitted).
func encodeTestG729(_ encoder: G729Encoder, _ samples: [Int16]) -> [[UInt8]] {
    var frames: [[UInt8]] = []
    samples.withUnsafeBufferPointer { pcm in
        for start in stride(from: 0, to: pcm.count - G729Frame.samples + 1, by: G729Frame.samples) {
            var frame = [UInt8](repeating: 0, count: G729Frame.voiceBytes)
            let length = frame.withUnsafeMutableBufferPointer { encoder.encode(pcm.baseAddress! + start, into: $0.baseAddress!) }
            frames.append(Array(frame.prefix(length)))
        }
    }
    return frames
}

func decodeTestG729(_ decoder: G729Decoder, _ frame: [UInt8]) -> [Int16] {
    var samples = [Int16](repeating: 0, count: G729Frame.samples)
    frame.withUnsafeBytes { bytes in
        samples.withUnsafeMutableBufferPointer { _ = decoder.decode(bytes, into: $0.baseAddress!) }
    }
    return samples
}

private func rms(_ samples: ArraySlice<Int16>) -> Double {
    (samples.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(samples.count)).squareRoot()
}

@Suite struct G729CodecTests {
    @Test func toneSurvivesEncodeAndDecode() throws {
        let encoder = try G729Encoder()
        let decoder = try G729Decoder()
        let input = makeTestSine(frequency: 440, amplitude: 8000, count: 8000)
        let frames = encodeTestG729(encoder, input)
        #expect(frames.count == 100)
        #expect(frames.allSatisfy { $0.count == G729Frame.voiceBytes })
        let output = frames.flatMap { decodeTestG729(decoder, $0) }
        // Skip the first 100 ms while the predictors settle.
        let settled = output[800...]
        let tone = testTonePower(settled, frequency: 440)
        for other in [300.0, 600.0, 1000.0, 2000.0] {
            #expect(tone > 20 * testTonePower(settled, frequency: other), "440 Hz against \(other) Hz")
        }
        let level = rms(settled) / rms(input[800...])
        #expect(level > 0.5 && level < 1.5)
    }

    @Test func annexBStopsSendingVoiceInSilence() throws {
        let encoder = try G729Encoder(annexB: true)
        #expect(encoder.annexB)
        let speech = makeTestSine(frequency: 700, amplitude: 6000, count: 1600)
        let silence = [Int16](repeating: 0, count: 8000)
        let frames = encodeTestG729(encoder, speech + silence)
        #expect(frames.allSatisfy { [0, G729Frame.sidBytes, G729Frame.voiceBytes].contains($0.count) })
        #expect(frames.prefix(10).allSatisfy { $0.count == G729Frame.voiceBytes })
        // Silence starts at frame 20: annex B describes the noise (SID) once, then sends nothing.
        let quiet = frames.dropFirst(20)
        #expect(quiet.contains { $0.count == G729Frame.sidBytes }, "\(frames.map(\.count))")
        #expect(quiet.suffix(50).allSatisfy { $0.count < G729Frame.voiceBytes })
        #expect(quiet.filter { $0.isEmpty }.count > 50)
    }

    @Test func withoutAnnexBEveryFrameIsVoice() throws {
        let encoder = try G729Encoder(annexB: false)
        let frames = encodeTestG729(encoder, [Int16](repeating: 0, count: 4000))
        #expect(frames.count == 50)
        #expect(frames.allSatisfy { $0.count == G729Frame.voiceBytes })
    }

    @Test func decoderHandlesSIDErasureAndBadLengths() throws {
        let encoder = try G729Encoder(annexB: true)
        let decoder = try G729Decoder()
        let frames = encodeTestG729(encoder, makeTestSine(frequency: 500, amplitude: 8000, count: 1600) + [Int16](repeating: 0, count: 4000))
        for frame in frames where !frame.isEmpty { _ = decodeTestG729(decoder, frame) }
        let sid = try #require(frames.last(where: { $0.count == G729Frame.sidBytes }))
        let noise = decodeTestG729(decoder, sid)
        #expect(noise.count == G729Frame.samples)

        // Concealment after voice continues the signal, then fades.
        let voiceDecoder = try G729Decoder()
        let voice = encodeTestG729(try G729Encoder(), makeTestSine(frequency: 500, amplitude: 8000, count: 1600))
        for frame in voice { _ = decodeTestG729(voiceDecoder, frame) }
        var concealed: [Int16] = []
        for _ in 0..<30 {
            var samples = [Int16](repeating: 0, count: G729Frame.samples)
            samples.withUnsafeMutableBufferPointer { voiceDecoder.conceal(into: $0.baseAddress!) }
            concealed += samples
        }
        #expect(rms(concealed.prefix(80)) > 500)
        #expect(rms(concealed.suffix(80)) < rms(concealed.prefix(80)) / 4)

        var out = [Int16](repeating: 0, count: G729Frame.samples)
        for length in [0, 1, 3, 9, 11] {
            let bytes = [UInt8](repeating: 0x55, count: length)
            let accepted = bytes.withUnsafeBytes { raw in out.withUnsafeMutableBufferPointer { decoder.decode(raw, into: $0.baseAddress!) } }
            #expect(!accepted, "length \(length)")
        }
    }
}
