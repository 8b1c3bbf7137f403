/// The PCM one direction of a session last sent towards its `to` leg, kept for the opposite
/// direction's echo canceller (whose `from` leg is that same leg). Indexed by the writing
/// direction's output RTP timestamp, so gaps in what was sent (silence, DTX) read back as
/// zeros and the reader's alignment survives them.
///
/// Shared by the two processors of a session (one writes, the other reads) on the one I/O
/// thread that owns the session: no locks. Allocated once; `write` and `read` never allocate.
final class EchoReference {
    /// 512 ms at 8 kHz: room for packet-size and arrival jitter between the two directions.
    static let capacity = 4096
    private static let mask = UInt32(capacity - 1)

    private let samples: UnsafeMutablePointer<Int16>
    /// Output timestamp just past the newest sample written.
    private(set) var writtenEnd: UInt32 = 0
    private(set) var hasData = false
    /// Bumped by every write: lets the reader tell a silent writer from a re-based one.
    private(set) var generation: UInt64 = 0

    init() {
        samples = .allocate(capacity: Self.capacity)
        samples.initialize(repeating: 0, count: Self.capacity)
    }

    deinit { samples.deallocate() }

    /// Records `count` samples sent at output timestamp `timestamp`.
    func write(_ source: UnsafePointer<Int16>, count: Int, at timestamp: UInt32) {
        guard count > 0 else { return }
        if !hasData {
            hasData = true
            writtenEnd = timestamp
        }
        let gap = Int(Int32(bitPattern: timestamp &- writtenEnd))
        let end = timestamp &+ UInt32(truncatingIfNeeded: count)
        if gap > 0 {
            // Nothing was sent in between: silence.
            for index in 0..<min(gap, Self.capacity) {
                samples[Int((writtenEnd &+ UInt32(index)) & Self.mask)] = 0
            }
        }
        let first = max(0, count - Self.capacity)
        for index in first..<count {
            samples[Int((timestamp &+ UInt32(index)) & Self.mask)] = source[index]
        }
        if gap >= 0 || gap < -Self.capacity || Int32(bitPattern: end &- writtenEnd) > 0 {
            writtenEnd = end
        }
        generation &+= 1
    }

    /// Copies the samples at `position ..< position + count` into `destination`; samples not
    /// written yet, or already overwritten, read as zero.
    func read(into destination: UnsafeMutablePointer<Int16>, count: Int, at position: UInt32) {
        for index in 0..<max(count, 0) {
            let sample = position &+ UInt32(index)
            let age = Int(Int32(bitPattern: writtenEnd &- sample))
            destination[index] = age > 0 && age <= Self.capacity ? samples[Int(sample & Self.mask)] : 0
        }
    }
}
