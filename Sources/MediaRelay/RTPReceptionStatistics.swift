/// Loss and jitter of one RTP stream, kept the way RFC 3550 appendix A.1 and A.8 describe:
/// an extended highest sequence number with wrap-around cycles, received vs expected counts,
/// and the interarrival jitter estimate. Plain value, updated only by the leg's I/O thread.
struct RTPReceptionStatistics {
    private static let sequenceModulus: UInt32 = 1 << 16
    /// Jumps forward up to this many are treated as loss, not a restarted stream (RFC 3550 A.1).
    private static let maximumDropout: UInt16 = 3000
    /// Jumps back up to this many are late or duplicate packets.
    private static let maximumMisorder: UInt32 = 100

    private(set) var initialized = false
    private var maximumSequence: UInt16 = 0
    private var cycles: UInt32 = 0
    private var baseSequence: UInt32 = 0
    private var badSequence: UInt32 = 0
    private(set) var received: UInt64 = 0
    private var lastTransit: Int32 = 0
    /// In RTP timestamp units.
    private(set) var jitter: Double = 0

    /// `arrival` is the arrival time in the same clock units as `timestamp` (8000 Hz here).
    mutating func record(sequence: UInt16, timestamp: UInt32, arrival: UInt32) {
        let transit = Int32(bitPattern: arrival &- timestamp)
        guard initialized else {
            start(at: sequence)
            received = 1
            lastTransit = transit
            return
        }
        let delta = sequence &- maximumSequence
        if delta < Self.maximumDropout {
            if sequence < maximumSequence { cycles &+= Self.sequenceModulus }
            maximumSequence = sequence
        } else if UInt32(delta) <= Self.sequenceModulus - Self.maximumMisorder {
            // A big jump: the sender restarted (two packets in a row agree) or a stray packet.
            guard UInt32(sequence) == badSequence else {
                badSequence = (UInt32(sequence) + 1) & (Self.sequenceModulus - 1)
                return
            }
            start(at: sequence)
        }
        received &+= 1
        let difference = transit &- lastTransit
        lastTransit = transit
        jitter += (Double(difference.magnitude) - jitter) / 16
    }

    private mutating func start(at sequence: UInt16) {
        initialized = true
        baseSequence = UInt32(sequence)
        maximumSequence = sequence
        badSequence = Self.sequenceModulus + 1
        cycles = 0
        received = 0
    }

    /// RFC 3550's extended highest sequence number received (cycles in the high 16 bits).
    var extendedHighestSequence: UInt32 { initialized ? cycles &+ UInt32(maximumSequence) : 0 }

    var expected: UInt64 {
        initialized ? UInt64(cycles) + UInt64(maximumSequence) - UInt64(baseSequence) + 1 : 0
    }

    /// Negative when duplicates outnumber losses, as RFC 3550 allows.
    var lost: Int64 { Int64(bitPattern: expected) - Int64(bitPattern: received) }
}
