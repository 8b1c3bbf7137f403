/// Playout (jitter) buffer for a decoded leg: 10 ms frames of 8 kHz PCM keyed by RTP timestamp,
/// released on the caller's clock with VOS3000 SS_JITTERBUFFER_* semantics.
///
/// Model. The first frame received anchors the timeline: frame n (n frames of 80 samples after
/// the anchor timestamp) is nominally due to arrive at anchorTime + n·10 ms and is played at
/// anchorTime + n·10 ms + offset. Each packet's lateness L = arrival − nominal arrival is
/// measured; `floor` is the smallest recent lateness (the least-delayed packets), and
/// offset − floor is the delay the buffer adds — what `currentDelayMilliseconds` reports.
///
/// Target delay:
/// - fixed (SS_JITTERBUFFER_MODE 0): DEFAULT ms.
/// - adaptive (1): DEFAULT for the first 50 packets, then clamp(10 ms + 4·J, MIN, MAX), J being
///   the RFC 3550 §A.8 interarrival jitter. 4·J covers most of the delay spread of typical
///   (roughly uniform or exponential) jitter; the 10 ms is one frame of reordering slack.
///
/// The buffer moves offset toward floor + target in whole frames, so audio never jumps in time:
/// growing inserts one concealment frame (`.inserted`), shrinking discards one frame. The added
/// delay therefore settles within half a frame of the target (up to one frame above MIN, never
/// below it, never grown past MAX). Growth may happen every 20 ms, shrinking every 200 ms:
/// losses hurt more than latency. The floor follows the least-delayed packets instantly
/// downwards and creeps up at 2 ms/s, so clock drift between sender and us is absorbed in fixed
/// mode too.
///
/// Frames behind the playout point are dropped as late (counted). A frame too far ahead or
/// behind to fit the ring means the sender's timeline jumped (new SSRC, restart); the second
/// such packet in a row re-anchors the buffer (a single stray packet is just dropped). Call
/// `get` on a steady tick (10 or 20 ms): the playout point only advances through `get`, so a
/// caller that stops pulling during silence makes the next talkspurt look like a jump.
///
/// Storage is one ring allocated in `init`; `put` and `get` never allocate. Time is whatever
/// monotonic nanosecond clock the caller passes (virtual time in tests). Not thread-safe: one
/// owning thread (`@unchecked Sendable` only allows the hand-over).
public final class JitterBuffer: @unchecked Sendable {
    public static let frameSamples = 80
    public static let frameNanoseconds: Int64 = 10_000_000
    /// Adaptive mode keeps DEFAULT until this many packets have measured the jitter.
    public static let warmUpPackets = 50
    static let growIntervalFrames: Int64 = 2
    static let shrinkIntervalFrames: Int64 = 20
    /// The floor creeps up by arrival-time elapsed / 500, i.e. 2 ms per second.
    static let floorCreepDivisor: Int64 = 500
    /// A caller more than this behind the schedule has stalled: playout jumps to now.
    static let stallNanoseconds: Int64 = 500_000_000

    public let configuration: JitterBufferConfiguration
    /// Frames the ring holds: MAX delay plus 320 ms of slack, rounded up to a power of two.
    public let capacityFrames: Int
    public private(set) var statistics = JitterBufferStatistics()

    private let samples: UnsafeMutablePointer<Int16>
    /// Frame number held by each slot, or `Int64.min` when empty.
    private let slotFrames: UnsafeMutablePointer<Int64>
    private let mask: Int64

    private var anchored = false
    private var hasPlayed = false
    private var anchorTime: UInt64 = 0
    private var anchorTimestamp: UInt32 = 0
    private var playoutFrame: Int64 = 0
    private var offset: Int64 = 0
    private var floor: Int64 = 0
    private var jitter: Int64 = 0
    private var lastLateness: Int64 = 0
    private var lastArrival: Int64 = 0
    private var packetsMeasured = 0
    private var lastAdjustFrame: Int64 = 0
    private var outOfRangeStreak = 0

    public init(configuration: JitterBufferConfiguration) {
        self.configuration = configuration
        var frames = 1
        while frames < configuration.maximumMilliseconds / 10 + 32 { frames <<= 1 }
        capacityFrames = frames
        mask = Int64(frames - 1)
        samples = .allocate(capacity: frames * Self.frameSamples)
        samples.initialize(repeating: 0, count: frames * Self.frameSamples)
        slotFrames = .allocate(capacity: frames)
        slotFrames.initialize(repeating: .min, count: frames)
    }

    deinit {
        samples.deallocate()
        slotFrames.deallocate()
    }

    /// Stores the frames of one packet: `samples` must hold a whole number of 10 ms frames
    /// (80, 160, 240 ... samples); the first starts at `timestamp`.
    @discardableResult
    public func put(timestamp: UInt32, samples input: UnsafeBufferPointer<Int16>, arrival: UInt64) -> JitterBufferPutResult {
        guard let base = input.baseAddress, !input.isEmpty, input.count % Self.frameSamples == 0,
              input.count / Self.frameSamples <= capacityFrames / 2 else {
            statistics.invalidPackets += 1
            return .invalidLength
        }
        if !anchored { anchor(timestamp: timestamp, arrival: arrival) }

        let frameCount = Int64(input.count / Self.frameSamples)
        var first = frameNumber(of: timestamp)
        var result = JitterBufferPutResult.stored
        if first + frameCount <= playoutFrame - Int64(capacityFrames) || first >= playoutFrame + Int64(capacityFrames) {
            outOfRangeStreak += 1
            guard outOfRangeStreak >= 2 else {
                statistics.outOfRangeDrops += Int(frameCount)
                return .outOfRange
            }
            statistics.resynchronizations += 1
            anchor(timestamp: timestamp, arrival: arrival)
            first = frameNumber(of: timestamp)
            result = .resynchronized
        }
        outOfRangeStreak = 0
        measure(frame: first, arrival: arrival)

        // Reordered frames that arrive before playout starts are still in time: play from them.
        if !hasPlayed, first < playoutFrame, playoutFrame - first < Int64(capacityFrames / 2) {
            playoutFrame = first
        }
        var stored = 0
        var late = 0
        var duplicates = 0
        for index in 0..<frameCount {
            let frame = first + index
            if frame < playoutFrame { late += 1; continue }
            if frame >= playoutFrame + Int64(capacityFrames) { statistics.outOfRangeDrops += 1; continue }
            let slot = Int(frame & mask)
            if slotFrames[slot] == frame { duplicates += 1; continue }
            slotFrames[slot] = frame
            (samples + slot * Self.frameSamples).update(from: base + Int(index) * Self.frameSamples,
                                                       count: Self.frameSamples)
            stored += 1
        }
        statistics.storedFrames += stored
        statistics.lateDrops += late
        statistics.duplicateFrames += duplicates
        if stored > 0 { return result }
        return late > 0 ? .late : (duplicates > 0 ? .duplicate : .outOfRange)
    }

    /// Array convenience over `put(timestamp:samples:arrival:)` (tests, control path).
    @discardableResult
    public func put(timestamp: UInt32, samples input: [Int16], arrival: UInt64) -> JitterBufferPutResult {
        input.withUnsafeBufferPointer { put(timestamp: timestamp, samples: $0, arrival: arrival) }
    }

    /// The next 10 ms of playout if it is due at `now`. On `.frame` the 80 samples are written
    /// to `output`; on `.missing` and `.inserted` `output` is untouched and the caller conceals
    /// (G.729 frame erasure, PLC, silence or comfort noise). Call until `.notDue` to catch up
    /// after a late tick; one call never returns more than one frame.
    public func get(now: UInt64, into output: UnsafeMutablePointer<Int16>) -> JitterBufferOutput {
        guard anchored else { return .notDue }
        let elapsed = Int64(bitPattern: now &- anchorTime)
        let due = playoutFrame * Self.frameNanoseconds + offset
        guard elapsed >= due else { return .notDue }
        if elapsed - due > Self.stallNanoseconds {
            let behind = (elapsed - due) / Self.frameNanoseconds
            discard(from: playoutFrame, count: behind)
            playoutFrame += behind
            statistics.stallSkips += Int(behind)
        }
        hasPlayed = true

        // Steer in whole frames towards the target, rounding to the nearest frame, and never
        // step outside MIN...MAX of added delay.
        let added = offset - floor
        let surplus = added - targetDelayNanoseconds
        let half = Self.frameNanoseconds / 2
        let minimum = Int64(configuration.minimumMilliseconds) * 1_000_000
        let maximum = Int64(configuration.maximumMilliseconds) * 1_000_000
        let wantsGrow = surplus < -half || added < minimum
        let wantsShrink = surplus > half || added > maximum
        if wantsGrow, added + Self.frameNanoseconds <= maximum,
           playoutFrame - lastAdjustFrame >= Self.growIntervalFrames {
            offset += Self.frameNanoseconds
            lastAdjustFrame = playoutFrame
            statistics.insertedFrames += 1
            return .inserted
        }
        if wantsShrink, !wantsGrow, added - Self.frameNanoseconds >= minimum,
           playoutFrame - lastAdjustFrame >= Self.shrinkIntervalFrames {
            // Dropping the frame due now keeps the schedule: the next frame becomes due at once.
            discard(from: playoutFrame, count: 1)
            playoutFrame += 1
            offset -= Self.frameNanoseconds
            lastAdjustFrame = playoutFrame
            statistics.skippedFrames += 1
        }

        let frame = playoutFrame
        let timestamp = timestamp(ofFrame: frame)
        playoutFrame += 1
        let slot = Int(frame & mask)
        guard slotFrames[slot] == frame else {
            statistics.missingFrames += 1
            return .missing(timestamp: timestamp)
        }
        slotFrames[slot] = .min
        output.update(from: samples + slot * Self.frameSamples, count: Self.frameSamples)
        statistics.playedFrames += 1
        return .frame(timestamp: timestamp)
    }

    /// Forgets everything buffered and the timeline; the next packet re-anchors.
    public func reset() {
        slotFrames.update(repeating: .min, count: capacityFrames)
        anchored = false
        hasPlayed = false
        outOfRangeStreak = 0
    }

    /// The delay the buffer currently adds for the least-delayed packets, in ms (0 before the
    /// first packet): the per-leg "jitter buffer delay" to report.
    public var currentDelayMilliseconds: Int {
        guard anchored else { return 0 }
        return Int(((offset - floor) + 500_000) / 1_000_000)
    }

    /// The delay the buffer is steering towards, in ms.
    public var targetDelayMilliseconds: Int { Int(targetDelayNanoseconds / 1_000_000) }

    /// RFC 3550 interarrival jitter, in ms.
    public var jitterMilliseconds: Double { Double(jitter) / 1_000_000 }

    /// Frames waiting to be played.
    public var bufferedFrames: Int {
        var count = 0
        for slot in 0..<capacityFrames where slotFrames[slot] >= playoutFrame { count += 1 }
        return count
    }

    private var targetDelayNanoseconds: Int64 {
        let configured = configuration
        let defaultDelay = Int64(configured.defaultMilliseconds) * 1_000_000
        guard configured.mode == .adaptive, packetsMeasured >= Self.warmUpPackets else { return defaultDelay }
        let wanted = Self.frameNanoseconds + 4 * jitter
        return min(max(wanted, Int64(configured.minimumMilliseconds) * 1_000_000),
                   Int64(configured.maximumMilliseconds) * 1_000_000)
    }

    private func anchor(timestamp: UInt32, arrival: UInt64) {
        slotFrames.update(repeating: .min, count: capacityFrames)
        anchored = true
        hasPlayed = false
        anchorTime = arrival
        anchorTimestamp = timestamp
        playoutFrame = 0
        lastAdjustFrame = 0
        offset = Int64(configuration.defaultMilliseconds) * 1_000_000
        floor = 0
        lastLateness = 0
        lastArrival = 0
        // Jitter and the warm-up count survive a re-anchor: the network did not change.
    }

    /// Frame number of `timestamp`, relative to the anchor, snapped down to a frame boundary.
    private func frameNumber(of timestamp: UInt32) -> Int64 {
        let delta = Int64(Int32(bitPattern: timestamp &- self.timestamp(ofFrame: playoutFrame)))
        let frames = delta >= 0 ? delta / Int64(Self.frameSamples)
                                : -((-delta + Int64(Self.frameSamples) - 1) / Int64(Self.frameSamples))
        return playoutFrame + frames
    }

    private func timestamp(ofFrame frame: Int64) -> UInt32 {
        anchorTimestamp &+ UInt32(truncatingIfNeeded: frame &* Int64(Self.frameSamples))
    }

    /// Updates jitter (RFC 3550 §A.8, in ns) and the lateness floor from one packet.
    private func measure(frame: Int64, arrival: UInt64) {
        let arrivalOffset = Int64(bitPattern: arrival &- anchorTime)
        let lateness = arrivalOffset - frame * Self.frameNanoseconds
        if packetsMeasured > 0 {
            let difference = abs(lateness - lastLateness)
            jitter += (difference - jitter) / 16
            let sinceLast = max(arrivalOffset - lastArrival, 0)
            floor = min(lateness, floor + sinceLast / Self.floorCreepDivisor)
        } else {
            floor = lateness
        }
        lastLateness = lateness
        lastArrival = arrivalOffset
        packetsMeasured += 1
    }

    private func discard(from frame: Int64, count: Int64) {
        for index in 0..<min(count, Int64(capacityFrames)) {
            let slot = Int((frame + index) & mask)
            if slotFrames[slot] == frame + index { slotFrames[slot] = .min }
        }
    }
}

/// SS_JITTERBUFFER_MODE / _MIN / _MAX / _DEFAULT.
public struct JitterBufferConfiguration: Equatable, Sendable {
    public enum Mode: Int, Sendable {
        case fixed = 0
        case adaptive = 1
    }

    /// Largest accepted SS_JITTERBUFFER_MAX, in ms.
    public static let maximumSupportedMilliseconds = 1000

    public let mode: Mode
    public let minimumMilliseconds: Int
    public let maximumMilliseconds: Int
    public let defaultMilliseconds: Int

    /// Defaults are the seed article's example values (20 / 200 / 60 ms).
    public init(mode: Mode = .adaptive, minimumMilliseconds: Int = 20, maximumMilliseconds: Int = 200,
                defaultMilliseconds: Int = 60) throws(MediaDSPError) {
        guard minimumMilliseconds >= 0 else {
            throw .invalidParameter(name: "SS_JITTERBUFFER_MIN", value: "\(minimumMilliseconds) ms",
                                    reason: "a delay cannot be negative")
        }
        guard maximumMilliseconds <= Self.maximumSupportedMilliseconds else {
            throw .invalidParameter(name: "SS_JITTERBUFFER_MAX", value: "\(maximumMilliseconds) ms",
                                    reason: "above the supported \(Self.maximumSupportedMilliseconds) ms")
        }
        guard minimumMilliseconds <= maximumMilliseconds else {
            throw .invalidParameter(name: "SS_JITTERBUFFER_MIN", value: "\(minimumMilliseconds) ms",
                                    reason: "exceeds SS_JITTERBUFFER_MAX \(maximumMilliseconds) ms")
        }
        guard (minimumMilliseconds...maximumMilliseconds).contains(defaultMilliseconds) else {
            throw .invalidParameter(name: "SS_JITTERBUFFER_DEFAULT", value: "\(defaultMilliseconds) ms",
                                    reason: "outside MIN...MAX (\(minimumMilliseconds)...\(maximumMilliseconds) ms)")
        }
        self.mode = mode
        self.minimumMilliseconds = minimumMilliseconds
        self.maximumMilliseconds = maximumMilliseconds
        self.defaultMilliseconds = defaultMilliseconds
    }

    /// From the raw SS_JITTERBUFFER_MODE value (0 fixed, 1 adaptive).
    public init(modeValue: Int, minimumMilliseconds: Int, maximumMilliseconds: Int,
                defaultMilliseconds: Int) throws(MediaDSPError) {
        guard let mode = Mode(rawValue: modeValue) else {
            throw .invalidParameter(name: "SS_JITTERBUFFER_MODE", value: "\(modeValue)",
                                    reason: "neither 0 (fixed) nor 1 (adaptive)")
        }
        try self.init(mode: mode, minimumMilliseconds: minimumMilliseconds,
                      maximumMilliseconds: maximumMilliseconds, defaultMilliseconds: defaultMilliseconds)
    }
}

/// What `JitterBuffer.get(now:into:)` produced.
public enum JitterBufferOutput: Equatable, Sendable {
    /// A received frame (this RTP timestamp) was written to the output.
    case frame(timestamp: UInt32)
    /// The frame with this timestamp was lost or came too late: conceal it.
    case missing(timestamp: UInt32)
    /// An extra 10 ms inserted to grow the delay: conceal it; no timestamp was consumed.
    case inserted
    /// Nothing due yet (or no packet received so far).
    case notDue
}

/// What `JitterBuffer.put` did with a packet (per-frame detail is in the statistics).
public enum JitterBufferPutResult: Equatable, Sendable {
    case stored
    /// Stored after re-anchoring on a timeline jump.
    case resynchronized
    /// Every frame was behind the playout point.
    case late
    /// Every frame was already buffered.
    case duplicate
    /// Too far from the playout point to fit; dropped (a second one in a row re-anchors).
    case outOfRange
    /// Not a whole number of 10 ms frames, or longer than half the ring.
    case invalidLength
}

/// Per-buffer counters, in frames unless named otherwise.
public struct JitterBufferStatistics: Equatable, Sendable {
    public var storedFrames = 0
    public var playedFrames = 0
    /// Played slots with no frame (lost or late): concealed by the caller.
    public var missingFrames = 0
    public var lateDrops = 0
    public var duplicateFrames = 0
    public var outOfRangeDrops = 0
    /// Packets refused for their length.
    public var invalidPackets = 0
    public var resynchronizations = 0
    /// Concealment frames inserted to grow the delay.
    public var insertedFrames = 0
    /// Frames discarded to shrink the delay.
    public var skippedFrames = 0
    /// Frames skipped because the caller stopped calling `get` for too long.
    public var stallSkips = 0

    public init() {}
}
