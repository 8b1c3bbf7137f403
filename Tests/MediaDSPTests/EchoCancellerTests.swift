#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import MediaDSP

/// Deterministic speech-band noise: a linear congruential generator through a gentle low-pass,
/// so every run sees the same signal.
private func farEndSignal(count: Int, seed: UInt32 = 12345, amplitude: Double = 6000) -> [Int16] {
    var state = seed
    var smoothed = 0.0
    var output: [Int16] = []
    output.reserveCapacity(count)
    for _ in 0..<count {
        state = state &* 1_664_525 &+ 1_013_904_223
        let white = Double(Int32(bitPattern: state) >> 16) / 32768
        smoothed = 0.6 * smoothed + 0.4 * white
        output.append(Int16(max(-32767, min(32767, smoothed * amplitude * 2))))
    }
    return output
}

/// The echo path: `reference` delayed by `delay` samples and scaled by `gain`.
private func echo(of reference: [Int16], delay: Int, gain: Double) -> [Int16] {
    (0..<reference.count).map { $0 >= delay ? Int16(Double(reference[$0 - delay]) * gain) : 0 }
}

private func power(_ samples: ArraySlice<Int16>) -> Double {
    Array(samples).withUnsafeBufferPointer { ToneAnalysis.meanPower(of: $0) }
}

private func decibels(_ ratio: Double) -> Double { 10 * log10(ratio) }

@Suite struct EchoCancellerTests {
    @Test(arguments: [(64, 200), (128, 600), (256, 1500)])
    func reducesEchoAfterConvergence(tailMilliseconds: Int, delaySamples: Int) throws {
        let canceller = try EchoCanceller(tailMilliseconds: tailMilliseconds)
        let count = 8000 * 6
        let reference = farEndSignal(count: count)
        let received = echo(of: reference, delay: delaySamples, gain: 0.3)
        var cleaned = received
        cleaned.withUnsafeMutableBufferPointer { cleanedBuffer in
            reference.withUnsafeBufferPointer { referenceBuffer in
                var start = 0
                while start < count {
                    let frame = min(160, count - start)
                    canceller.process(cleanedBuffer.baseAddress! + start,
                                      reference: referenceBuffer.baseAddress! + start, count: frame)
                    start += frame
                }
            }
        }
        // Judge the last two seconds, well after convergence.
        let window = (count - 16000)..<count
        let reduction = decibels(power(received[window]) / max(power(cleaned[window]), 1))
        #expect(reduction >= 20, "echo reduced by only \(reduction) dB")
    }

    @Test func keepsTheModelThroughDoubleTalk() throws {
        let canceller = try EchoCanceller(tailMilliseconds: 64)
        let count = 8000 * 4
        let reference = farEndSignal(count: count)
        let echoOnly = echo(of: reference, delay: 240, gain: 0.3)
        // The near end talks loudly during the last second, over the far end.
        let near = farEndSignal(count: count, seed: 777, amplitude: 5000)
        let talkStart = 8000 * 3
        let received = (0..<count).map { $0 >= talkStart ? echoOnly[$0] &+ near[$0] : echoOnly[$0] }
        var cleaned = received
        cleaned.withUnsafeMutableBufferPointer { cleanedBuffer in
            reference.withUnsafeBufferPointer { canceller.process(cleanedBuffer, reference: $0) }
        }
        // What is left besides the near-end speech is residual echo: it stays far below the echo.
        let window = talkStart..<count
        let residual = window.map { cleaned[$0] &- near[$0] }
        let reduction = decibels(power(echoOnly[window]) / max(power(residual[...]), 1))
        #expect(reduction >= 20, "residual echo during double talk only \(reduction) dB down")
        // And the near-end speech itself comes through at its own level.
        let speechRatio = decibels(power(cleaned[window]) / power(near[window]))
        #expect(abs(speechRatio) < 1, "near-end level changed by \(speechRatio) dB")
    }

    @Test func reconvergesAfterEchoPathChange() throws {
        let canceller = try EchoCanceller(tailMilliseconds: 64)
        let count = 8000 * 6
        let reference = farEndSignal(count: count)
        let before = echo(of: reference, delay: 120, gain: 0.3)
        let after = echo(of: reference, delay: 360, gain: 0.2)
        let change = 8000 * 3
        let received = (0..<count).map { $0 < change ? before[$0] : after[$0] }
        var cleaned = received
        cleaned.withUnsafeMutableBufferPointer { cleanedBuffer in
            reference.withUnsafeBufferPointer { canceller.process(cleanedBuffer, reference: $0) }
        }
        let window = (count - 8000)..<count
        let reduction = decibels(power(received[window]) / max(power(cleaned[window]), 1))
        #expect(reduction >= 20, "after the path change echo reduced by only \(reduction) dB")
    }

    @Test func leavesNearEndSpeechWithoutEcho() throws {
        let canceller = try EchoCanceller(tailMilliseconds: 128)
        let near = farEndSignal(count: 8000, seed: 99, amplitude: 3000)
        let silence = [Int16](repeating: 0, count: near.count)
        var cleaned = near
        cleaned.withUnsafeMutableBufferPointer { cleanedBuffer in
            silence.withUnsafeBufferPointer { canceller.process(cleanedBuffer, reference: $0) }
        }
        #expect(cleaned == near)
    }

    @Test func tailSamplesAreEightPerMillisecond() {
        #expect(EchoCanceller.tailSamples(forMilliseconds: 64) == 512)
        #expect(EchoCanceller.tailSamples(forMilliseconds: 128) == 1024)
        #expect(EchoCanceller.tailSamples(forMilliseconds: 256) == 2048)
        #expect(EchoCanceller.tailSamples(forMilliseconds: 100) == 800)
    }

    @Test func refusesTailOutsideRange() throws {
        #expect(throws: MediaDSPError.self) { try EchoCanceller(tailMilliseconds: 0) }
        #expect(throws: MediaDSPError.self) { try EchoCanceller(tailMilliseconds: 512) }
        #expect(try EchoCanceller(tailMilliseconds: 64).tailSamples == 512)
    }

    @Test func resetForgetsTheModel() throws {
        let canceller = try EchoCanceller(tailMilliseconds: 64)
        let reference = farEndSignal(count: 8000 * 4)
        let received = echo(of: reference, delay: 100, gain: 0.3)
        func run(_ range: Range<Int>) -> Double {
            var cleaned = Array(received[range])
            cleaned.withUnsafeMutableBufferPointer { cleanedBuffer in
                Array(reference[range]).withUnsafeBufferPointer { canceller.process(cleanedBuffer, reference: $0) }
            }
            return decibels(power(received[range]) / max(power(cleaned[...]), 1))
        }
        _ = run(0..<24000)
        let converged = run(24000..<24400)
        canceller.reset()
        // The reference history is gone too, so replay from where the echo path restarts.
        let afterReset = run(24400..<24800)
        #expect(converged >= 20)
        #expect(afterReset < converged - 10, "after reset \(afterReset) dB, converged \(converged) dB")
    }
}
