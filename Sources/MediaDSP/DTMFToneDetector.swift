import CSpanDSP

/// In-band DTMF detection on 8 kHz 16-bit linear PCM (spandsp `dtmf_rx`).
///
/// Digits are reported once each, at tone onset. spandsp analyses 102-sample blocks (12.75 ms)
/// and declares a digit after two consecutive blocks agree, so a digit is reported 25.5 to
/// 38.25 ms after the tone starts (depending on block alignment), and a repeat of the same key
/// needs two tone-free blocks in between. Minimum detectable tone is therefore about 26 ms; the
/// ITU-T Q.24 minimum of 40 ms is comfortably detected.
///
/// Detected digits are kept in spandsp's own fixed 128-digit buffer (no callback is installed,
/// so no Swift closure or retained self crosses into C); `takeDigit()` pops them in order through
/// a preallocated 2-byte scratch buffer. Nothing allocates per frame.
///
/// Not thread-safe: hand the detector to one thread (the relay worker owning the leg) and use it
/// only there. `@unchecked Sendable` exists only to allow that hand-over.
public final class DTMFToneDetector: @unchecked Sendable {
    private let state: OpaquePointer
    private let scratch: UnsafeMutablePointer<CChar>

    /// Samples per second the detector expects; spandsp's filters are tuned for 8 kHz only.
    public static let sampleRate = 8000

    public init() throws(DTMFToneError) {
        guard let state = dtmf_rx_init(nil, nil, nil) else {
            throw .initializationFailed("dtmf_rx_init returned NULL (out of memory)")
        }
        self.state = state
        // dtmf_rx_get writes the digits plus a terminating NUL.
        scratch = UnsafeMutablePointer<CChar>.allocate(capacity: 2)
        scratch.initialize(repeating: 0, count: 2)
    }

    deinit {
        dtmf_rx_free(state)
        scratch.deallocate()
    }

    /// Feeds `count` samples. Call with the audio in order; block boundaries need not align.
    public func process(_ samples: UnsafePointer<Int16>, count: Int) {
        guard count > 0 else { return }
        // spandsp takes an Int32 length; split absurdly large inputs rather than truncate.
        var offset = 0
        while offset < count {
            let chunk = min(count - offset, Int(Int32.max))
            _ = dtmf_rx(state, samples + offset, Int32(chunk))
            offset += chunk
        }
    }

    /// Buffer-pointer convenience over `process(_:count:)`.
    public func process(_ samples: UnsafeBufferPointer<Int16>) {
        guard let base = samples.baseAddress else { return }
        process(base, count: samples.count)
    }

    /// Tells the detector that `count` samples were lost (packet loss) so a gap does not splice
    /// two halves of different signals into one analysis block.
    public func skip(count: Int) {
        guard count > 0 else { return }
        _ = dtmf_rx_fillin(state, Int32(clamping: count))
    }

    /// The oldest detected digit not yet taken, or nil.
    public func takeDigit() -> Character? {
        guard let ascii = takeDigitASCII() else { return nil }
        return Character(Unicode.Scalar(ascii))
    }

    /// `takeDigit()` as an ASCII byte ("0"-"9", "*", "#", "A"-"D").
    public func takeDigitASCII() -> UInt8? {
        guard dtmf_rx_get(state, scratch, 1) == 1 else { return nil }
        return UInt8(bitPattern: scratch[0])
    }

    /// The digit whose tone is present right now, if any: lets the relay mute in-band audio
    /// while a converted digit is being signalled out of band.
    public var toneInProgress: Character? {
        let status = dtmf_rx_status(state)
        guard status > 0, status != Int32(UInt8(ascii: "x")),
              let ascii = UInt8(exactly: status) else { return nil }
        return Character(Unicode.Scalar(ascii))
    }
}

/// Why the spandsp DTMF detector or generator could not be built, or refused digits.
public enum DTMFToneError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The spandsp constructor failed (value: which call and why).
    case initializationFailed(String)
    /// A digit string contained a character that is not a DTMF digit.
    case invalidDigit(Character)
    /// spandsp's 128-digit transmit queue cannot take the whole string (value: digits offered).
    case queueFull(offered: Int)
    /// A parameter was outside its supported range (value: what and why).
    case invalidParameter(String)

    public var description: String {
        switch self {
        case .initializationFailed(let detail): return "spandsp initialisation failed: \(detail)"
        case .invalidDigit(let digit): return "'\(digit)' is not a DTMF digit (expected 0-9, *, #, A-D)"
        case .queueFull(let offered):
            return "DTMF generator queue cannot take \(offered) more digit(s); the digits were not queued"
        case .invalidParameter(let detail): return "invalid parameter: \(detail)"
        }
    }
}
