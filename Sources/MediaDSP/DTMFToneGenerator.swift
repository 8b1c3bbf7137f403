import CSpanDSP

/// In-band DTMF generation into 8 kHz 16-bit linear PCM (spandsp `dtmf_tx`).
///
/// Every digit plays for the same on time followed by the same off (silent) time; spandsp reads
/// the timing when a digit starts, so per-digit durations are not possible. Defaults are 100 ms
/// on / 50 ms off at -10 dBm0 per tone: long enough for any receiver after a lossy codec, short
/// enough to keep up with a user dialling. Queued digits live in spandsp's fixed 128-byte queue.
///
/// `generate(into:count:)` and `queue(digit:)` never allocate, so the relay thread can call them
/// per frame and per received RFC 4733 event; `queue(digits:)` converts a `String` and is meant
/// for the SIP control path.
///
/// Not thread-safe: one owning thread at a time (`@unchecked Sendable` allows the hand-over).
public final class DTMFToneGenerator: @unchecked Sendable {
    private let state: OpaquePointer
    private var active = false

    public let onMilliseconds: Int
    public let offMilliseconds: Int

    /// Digits spandsp's queue can hold (MAX_DTMF_DIGITS).
    public static let queueCapacity = 128

    /// - Parameters:
    ///   - onMilliseconds: tone time per digit (40...2000 ms).
    ///   - offMilliseconds: silence after each digit (40...2000 ms); Q.24 wants at least 40 ms
    ///     so repeated keys are heard as separate digits.
    ///   - levelDBm0: level of the low-group tone (-50...0 dBm0); `twistDB` raises the
    ///     high-group tone above it (0...6 dB; 0 means equal levels).
    public init(onMilliseconds: Int = 100, offMilliseconds: Int = 50, levelDBm0: Int = -10,
                twistDB: Int = 0) throws(DTMFToneError) {
        guard (40...2000).contains(onMilliseconds) else {
            throw .invalidParameter("DTMF on time \(onMilliseconds) ms is outside 40...2000 ms")
        }
        guard (40...2000).contains(offMilliseconds) else {
            throw .invalidParameter("DTMF off time \(offMilliseconds) ms is outside 40...2000 ms")
        }
        guard (-50...0).contains(levelDBm0) else {
            throw .invalidParameter("DTMF level \(levelDBm0) dBm0 is outside -50...0 dBm0")
        }
        guard (0...6).contains(twistDB) else {
            throw .invalidParameter("DTMF twist \(twistDB) dB is outside 0...6 dB")
        }
        guard let state = dtmf_tx_init(nil) else {
            throw .initializationFailed("dtmf_tx_init returned NULL (out of memory)")
        }
        self.state = state
        self.onMilliseconds = onMilliseconds
        self.offMilliseconds = offMilliseconds
        dtmf_tx_set_timing(state, Int32(onMilliseconds), Int32(offMilliseconds))
        dtmf_tx_set_level(state, Int32(levelDBm0), Int32(twistDB))
    }

    deinit {
        dtmf_tx_free(state)
    }

    /// Queues one digit without allocating (0-9 * # A-D; lowercase a-d accepted).
    public func queue(digit: Character) throws(DTMFToneError) {
        guard let ascii = digit.asciiValue, let normalized = Self.spandspDigit(ascii) else {
            throw .invalidDigit(digit)
        }
        var byte = CChar(bitPattern: normalized)
        guard dtmf_tx_put(state, &byte, 1) == 0 else { throw .queueFull(offered: 1) }
        active = true
    }

    /// Queues a digit string, all or nothing: nothing is queued if any character is invalid or
    /// the queue cannot take them all.
    public func queue(digits: String) throws(DTMFToneError) {
        var bytes: [CChar] = []
        bytes.reserveCapacity(digits.utf8.count)
        for character in digits {
            guard let ascii = character.asciiValue, let normalized = Self.spandspDigit(ascii) else {
                throw .invalidDigit(character)
            }
            bytes.append(CChar(bitPattern: normalized))
        }
        guard !bytes.isEmpty else { return }
        // dtmf_tx_put loads the whole string or nothing, returning how many would not fit.
        guard dtmf_tx_put(state, bytes, Int32(bytes.count)) == 0 else {
            throw .queueFull(offered: bytes.count)
        }
        active = true
    }

    /// Writes `count` samples: tone and inter-digit silence while digits play, zeros after.
    /// Returns how many samples carry generator output; fewer than `count` means the generator
    /// ran dry during this frame (the rest is zero-filled) and is now idle.
    @discardableResult
    public func generate(into samples: UnsafeMutablePointer<Int16>, count: Int) -> Int {
        guard count > 0 else { return 0 }
        let request = Int32(clamping: count)
        let produced = active ? Int(max(dtmf_tx(state, samples, request), 0)) : 0
        if produced < count {
            active = false
            (samples + produced).update(repeating: 0, count: count - produced)
        }
        return produced
    }

    /// Buffer-pointer convenience over `generate(into:count:)`.
    @discardableResult
    public func generate(into samples: UnsafeMutableBufferPointer<Int16>) -> Int {
        guard let base = samples.baseAddress else { return 0 }
        return generate(into: base, count: samples.count)
    }

    /// No digit playing or queued: the caller can send the leg's own audio again.
    public var isIdle: Bool { !active }

    /// spandsp only knows uppercase A-D.
    private static func spandspDigit(_ ascii: UInt8) -> UInt8? {
        switch ascii {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "*"), UInt8(ascii: "#"),
             UInt8(ascii: "A")...UInt8(ascii: "D"):
            return ascii
        case UInt8(ascii: "a")...UInt8(ascii: "d"):
            return ascii - 0x20
        default:
            return nil
        }
    }
}
