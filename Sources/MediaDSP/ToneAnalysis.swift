/// Goertzel single-frequency power measurement, for checking which tone dominates decoded audio
/// (tests, end-to-end checks, diagnostics). Not used on the per-packet path.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum ToneAnalysis {
    /// Mean power of `frequency` in `samples`, scaled so a pure sine of amplitude A at that
    /// frequency reads A²/2 — the same scale as `meanPower(of:)`, so the two can be compared
    /// (a ratio near 1 means the tone is essentially all of the signal).
    ///
    /// The generalised Goertzel form is used (frequency need not fall on a DFT bin); resolution
    /// is about sampleRate / count Hz, so use at least 200 samples (25 ms at 8 kHz) to separate
    /// neighbouring DTMF tones.
    public static func power(of frequency: Double, in samples: UnsafeBufferPointer<Int16>,
                             sampleRate: Double = 8000) -> Double {
        let count = samples.count
        guard count > 0, sampleRate > 0 else { return 0 }
        let omega = 2 * Double.pi * frequency / sampleRate
        let coefficient = 2 * cos(omega)
        var previous = 0.0
        var beforePrevious = 0.0
        for sample in samples {
            let current = Double(sample) + coefficient * previous - beforePrevious
            beforePrevious = previous
            previous = current
        }
        let real = previous - beforePrevious * cos(omega)
        let imaginary = beforePrevious * sin(omega)
        let n = Double(count)
        return 2 * (real * real + imaginary * imaginary) / (n * n)
    }

    /// Array convenience over the buffer form.
    public static func power(of frequency: Double, in samples: [Int16], sampleRate: Double = 8000) -> Double {
        samples.withUnsafeBufferPointer { power(of: frequency, in: $0, sampleRate: sampleRate) }
    }

    /// The candidate with the most power in `samples`, or nil when `candidates` is empty.
    public static func dominantFrequency(among candidates: [Double], in samples: UnsafeBufferPointer<Int16>,
                                         sampleRate: Double = 8000) -> Double? {
        var best: (frequency: Double, power: Double)?
        for frequency in candidates {
            let measured = power(of: frequency, in: samples, sampleRate: sampleRate)
            if best == nil || measured > best?.power ?? 0 { best = (frequency, measured) }
        }
        return best?.frequency
    }

    /// Array convenience over the buffer form.
    public static func dominantFrequency(among candidates: [Double], in samples: [Int16],
                                         sampleRate: Double = 8000) -> Double? {
        samples.withUnsafeBufferPointer { dominantFrequency(among: candidates, in: $0, sampleRate: sampleRate) }
    }

    /// Mean square of the samples (total power on the same scale as `power(of:in:)`).
    public static func meanPower(of samples: UnsafeBufferPointer<Int16>) -> Double {
        guard !samples.isEmpty else { return 0 }
        var sum = 0.0
        for sample in samples { sum += Double(sample) * Double(sample) }
        return sum / Double(samples.count)
    }

    /// Array convenience over the buffer form.
    public static func meanPower(of samples: [Int16]) -> Double {
        samples.withUnsafeBufferPointer { meanPower(of: $0) }
    }

    /// Power in dB relative to a full-scale sine (32767 peak): 0 dBFS sine, -inf for silence.
    public static func decibelsFullScale(_ power: Double) -> Double {
        let fullScale = 32767.0 * 32767.0 / 2
        return 10 * log10(power / fullScale)
    }
}
