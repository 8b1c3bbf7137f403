/// Line echo cancellation for a decoded leg: an NLMS adaptive filter with Geigel double-talk
/// detection, on 8 kHz 16-bit PCM.
///
/// Why not spandsp's `echo_can_update`: the Debian libspandsp 0.0.6 build prints debug lines to
/// stdout for every sample ("echo is …", "Narrowband score …"), and with a 256 ms tail at
/// ordinary speech levels it diverges (measured: echo made 25-34 dB louder). Neither is
/// acceptable on the relay thread, so the canceller is implemented here.
///
/// Orientation, seen from the relay: `reference` is the audio we sent towards the leg that
/// echoes (the far end's speech), `received` is what came back from that leg (its own speech
/// plus an echo of `reference`). The echo estimate is subtracted from `received` in place. Both
/// streams must be sample-aligned as sent and received; the echo delay must fit in the tail.
///
/// Algorithm:
/// - NLMS, step 0.5: w += μ·e·x / (‖x‖² + δ). Fast enough to converge on speech in about a
///   second, and stable for any μ below 2.
/// - Adaption only while the reference carries signal (‖x‖² above a floor) and no double talk:
///   Geigel detector, |received| ≥ ½·max|reference| over the tail means the near end is
///   talking (G.168 assumes at least 6 dB echo return loss), and freezes adaption for 30 ms.
/// - Robust (clipped-error) update: before the detector reacts, a near-end onset could kick
///   the model with errors far larger than the converged residual; clipping the error at three
///   times its running mean keeps those kicks small (Gänsler-style robust NLMS).
/// - No non-linear processor: residual echo after linear cancellation is left as is.
///
/// Tail: SS_ECHOCANCELTAIL in ms (VOS3000 offers 64/128/256), 8...256 accepted, ×8 samples.
/// All memory is allocated in `init`; `process` does not allocate. Not thread-safe: one owning
/// thread at a time (`@unchecked Sendable` only allows the hand-over).
public final class EchoCanceller: @unchecked Sendable {
    /// Accepted SS_ECHOCANCELTAIL range in ms.
    public static let tailRange = 8...256
    public static let sampleRate = 8000

    static let stepSize: Float = 0.5
    /// Keeps the NLMS division finite on a silent reference.
    static let regularization: Float = 1e4
    /// Mean reference power below this (≈ -60 dBFS) is too weak to learn the echo path from.
    static let minimumReferencePower: Float = 40
    static let doubleTalkHangoverSamples = 240
    /// Errors beyond this many times their running mean magnitude are clipped before adapting.
    static let errorClip: Float = 3
    /// The running mean follows in about 64 samples, so a real echo path change (where the
    /// error legitimately grows) lifts the clip within a few milliseconds.
    static let errorScaleRate: Float = 1.0 / 64
    static let initialErrorScale: Float = 4096
    static let maximaBlock = 64

    public let tailSamples: Int

    private let weights: UnsafeMutablePointer<Float>
    /// Reference history, written twice (at i and i + tail) so the newest-first window
    /// `history[position ..< position + tail]` is always contiguous.
    private let history: UnsafeMutablePointer<Float>
    private var position = 0
    private var energy: Double = 0
    private var samplesSinceRecompute = 0

    /// Per-block maxima of |reference|, for the Geigel detector's max over the tail.
    private let blockMaxima: UnsafeMutablePointer<Float>
    private let blockCount: Int
    private var blockIndex = 0
    private var blockFill = 0
    private var currentBlockMaximum: Float = 0
    private var tailMaximum: Float = 0
    private var hangover = 0
    private var errorScale: Float = EchoCanceller.initialErrorScale
    /// The received block as it came, restored when cancelling it would add energy.
    private let original: UnsafeMutablePointer<Int16>
    /// Blocks of 10 ms: the unit the never-louder guard judges.
    static let guardBlock = 80
    /// Energy of the blocks as received and as cancelled, smoothed over about 100 ms.
    private var receivedEnergy: Double = 0
    private var cancelledEnergy: Double = 0
    static let energySmoothing = 0.1
    /// Blocks in which the output was restored because the model would have added energy.
    public private(set) var bypassedBlocks: UInt64 = 0

    /// Samples the canceller needs for `milliseconds` of tail at 8 kHz.
    public static func tailSamples(forMilliseconds milliseconds: Int) -> Int {
        milliseconds * sampleRate / 1000
    }

    public init(tailMilliseconds: Int) throws(MediaDSPError) {
        guard Self.tailRange.contains(tailMilliseconds) else {
            throw .invalidParameter(name: "SS_ECHOCANCELTAIL", value: "\(tailMilliseconds) ms",
                                    reason: "outside \(Self.tailRange.lowerBound)...\(Self.tailRange.upperBound) ms")
        }
        let tail = Self.tailSamples(forMilliseconds: tailMilliseconds)
        tailSamples = tail
        weights = .allocate(capacity: tail)
        weights.initialize(repeating: 0, count: tail)
        history = .allocate(capacity: 2 * tail)
        history.initialize(repeating: 0, count: 2 * tail)
        blockCount = (tail + Self.maximaBlock - 1) / Self.maximaBlock
        blockMaxima = .allocate(capacity: blockCount)
        blockMaxima.initialize(repeating: 0, count: blockCount)
        original = .allocate(capacity: Self.guardBlock)
        original.initialize(repeating: 0, count: Self.guardBlock)
    }

    deinit {
        weights.deallocate()
        history.deallocate()
        blockMaxima.deallocate()
        original.deallocate()
    }

    /// Removes the echo of `reference` from `received`, in place. A canceller never makes a leg
    /// louder: while the cancelled audio carries more energy than it came with (over about
    /// 100 ms, so one block of double talk does not decide it) blocks pass as they came. Without
    /// that, a model adapted to a reference the leg does not echo subtracts a copy of the far
    /// end's audio, which the listener then hears; the call tests through G.729 heard exactly
    /// that. The model itself keeps learning.
    public func process(_ received: UnsafeMutablePointer<Int16>, reference: UnsafePointer<Int16>, count: Int) {
        var offset = 0
        while offset < count {
            let block = received + offset
            let length = min(count - offset, Self.guardBlock)
            original.update(from: block, count: length)
            var before: Int64 = 0
            var after: Int64 = 0
            for index in 0..<length {
                let input = Int64(block[index])
                before += input * input
                let output = cancel(received: block[index], reference: reference[offset + index])
                block[index] = output
                after += Int64(output) * Int64(output)
            }
            receivedEnergy += (Double(before) - receivedEnergy) * Self.energySmoothing
            cancelledEnergy += (Double(after) - cancelledEnergy) * Self.energySmoothing
            if cancelledEnergy > receivedEnergy {
                block.update(from: original, count: length)
                bypassedBlocks &+= 1
            }
            offset += length
        }
    }


    /// Buffer-pointer convenience: processes `min(received.count, reference.count)` samples.
    public func process(_ received: UnsafeMutableBufferPointer<Int16>, reference: UnsafeBufferPointer<Int16>) {
        guard let receivedBase = received.baseAddress, let referenceBase = reference.baseAddress else { return }
        process(receivedBase, reference: referenceBase, count: min(received.count, reference.count))
    }

    /// Forgets the echo model and the reference history, e.g. when the leg's media path changes.
    public func reset() {
        weights.update(repeating: 0, count: tailSamples)
        history.update(repeating: 0, count: 2 * tailSamples)
        blockMaxima.update(repeating: 0, count: blockCount)
        position = 0
        energy = 0
        samplesSinceRecompute = 0
        blockIndex = 0
        blockFill = 0
        currentBlockMaximum = 0
        tailMaximum = 0
        hangover = 0
        errorScale = Self.initialErrorScale
        receivedEnergy = 0
        cancelledEnergy = 0
    }

    private func cancel(received: Int16, reference: Int16) -> Int16 {
        let tail = tailSamples
        let x = Float(reference)
        let d = Float(received)

        position = position == 0 ? tail - 1 : position - 1
        let oldest = history[position]
        history[position] = x
        history[position + tail] = x
        energy += Double(x * x) - Double(oldest * oldest)
        samplesSinceRecompute += 1
        if samplesSinceRecompute >= tail { recomputeEnergy() }
        trackMaximum(abs(x))

        let window = history + position
        let error = d - Self.dot(weights, window, count: tail)

        if abs(d) >= 0.5 * tailMaximum { hangover = Self.doubleTalkHangoverSamples }
        if hangover > 0 {
            hangover -= 1
        } else if Float(energy) > Self.minimumReferencePower * Float(tail) {
            // Robust update: an error far above its recent size is near-end speech that the
            // detector has not caught yet, and must not be learnt as echo.
            let limit = Self.errorClip * errorScale + 1
            let clipped = min(max(error, -limit), limit)
            errorScale += (abs(clipped) - errorScale) * Self.errorScaleRate
            let gain = Self.stepSize * clipped / (Float(energy) + Self.regularization)
            Self.addScaled(window, by: gain, to: weights, count: tail)
        }
        return Int16(clamping: Int(error.rounded()))
    }

    // The filter runs over the whole tail twice per sample (1024 taps at 128 ms): eight lanes at a
    // time, as a scalar loop over Floats is not vectorised by the compiler (it may not reorder the
    // additions). Tails are whole milliseconds, 8 samples each, so the remainder loops are a guard.

    @inline(__always)
    private static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var lanes = SIMD8<Float>()
        var index = 0
        while index + 8 <= count {
            lanes += UnsafeRawPointer(a + index).loadUnaligned(as: SIMD8<Float>.self)
                * UnsafeRawPointer(b + index).loadUnaligned(as: SIMD8<Float>.self)
            index += 8
        }
        var sum = lanes.sum()
        while index < count {
            sum += a[index] * b[index]
            index += 1
        }
        return sum
    }

    @inline(__always)
    private static func addScaled(_ source: UnsafePointer<Float>, by factor: Float, to target: UnsafeMutablePointer<Float>, count: Int) {
        let factors = SIMD8<Float>(repeating: factor)
        var index = 0
        while index + 8 <= count {
            let raw = UnsafeMutableRawPointer(target + index)
            let updated = raw.loadUnaligned(as: SIMD8<Float>.self) + factors * UnsafeRawPointer(source + index).loadUnaligned(as: SIMD8<Float>.self)
            raw.storeBytes(of: updated, as: SIMD8<Float>.self)
            index += 8
        }
        while index < count {
            target[index] += factor * source[index]
            index += 1
        }
    }

    /// The running sum drifts with rounding; redo it exactly once per tail length.
    private func recomputeEnergy() {
        var sum: Double = 0
        let window = history + position
        for k in 0..<tailSamples { sum += Double(window[k] * window[k]) }
        energy = sum
        samplesSinceRecompute = 0
    }

    private func trackMaximum(_ magnitude: Float) {
        currentBlockMaximum = max(currentBlockMaximum, magnitude)
        tailMaximum = max(tailMaximum, magnitude)
        blockFill += 1
        guard blockFill == Self.maximaBlock else { return }
        blockMaxima[blockIndex] = currentBlockMaximum
        blockIndex = (blockIndex + 1) % blockCount
        blockFill = 0
        currentBlockMaximum = 0
        var maximum: Float = 0
        for block in 0..<blockCount { maximum = max(maximum, blockMaxima[block]) }
        tailMaximum = maximum
    }
}
