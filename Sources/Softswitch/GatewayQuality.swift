import VOSModel

/// Each routing gateway's recent quality: attempts, answers and talk time over a sliding window
/// (`SS_GATEWAY_QUALITY_RESERVE_TIME`) cut into slices (`SS_GATEWAY_QUALITY_RESERVE_SEPARATE`),
/// for quality and mix sorting, the ASR floor and `vosctl route explain`.
///
/// Owned by the SIP event loop and mutated only there: a class without locks, so the planner can
/// ask for scores through a closure while the loop records call ends. The window is the current
/// slice and the slices before it, `ceil(reserve time / slice)` in all; when time enters a new
/// slice the oldest one leaves whole, so the window covers between `reserve time - slice` and
/// `reserve time` seconds. Each gateway keeps running totals and a ring of slices allocated at
/// its first record: recording and scoring allocate nothing after that, and scoring costs one
/// hash lookup plus the slices that expired since the gateway was last touched.
/// Gateways are keyed by name; one removed from the configuration keeps its ring (a few
/// hundred bytes) until `reset`, which costs nothing but memory.
public final class GatewayQuality {
    public struct Settings: Sendable, Equatable {
        public var windowSeconds: Int
        public var sliceSeconds: Int
        /// Attempts in the window before a gateway's score counts.
        public var minimumCalls: Int

        public init(windowSeconds: Int = 3600, sliceSeconds: Int = 300, minimumCalls: Int = 20) {
            self.windowSeconds = max(1, windowSeconds)
            self.sliceSeconds = max(1, sliceSeconds)
            self.minimumCalls = max(1, minimumCalls)
        }

        /// `SS_GATEWAY_QUALITY_RESERVE_TIME`, `_RESERVE_SEPARATE` and `_MIN_CALLS`.
        public init(parameters: ParameterSet) {
            self.init(windowSeconds: parameters.int(.gatewayQualityReserveTime),
                      sliceSeconds: parameters.int(.gatewayQualityReserveSeparate),
                      minimumCalls: parameters.int(.gatewayQualityMinCalls))
        }

        /// Slices in the window, the current one included.
        var sliceCount: Int { (windowSeconds + sliceSeconds - 1) / sliceSeconds }
        var sliceNanoseconds: UInt64 { UInt64(sliceSeconds) * 1_000_000_000 }
    }

    private struct Slice {
        var attempts: UInt32 = 0
        var answered: UInt32 = 0
        var talkSeconds: UInt64 = 0
    }

    private struct Ring {
        var slices: [Slice]
        /// The slice number (monotonic time / slice length) the ring's totals are current for.
        var current: UInt64
        var attempts = 0
        var answered = 0
        var talkSeconds = 0

        init(count: Int, current: UInt64) {
            slices = Array(repeating: Slice(), count: count)
            self.current = current
        }

        /// Moves the window to slice `now`: the slices that left it are taken off the totals and
        /// emptied for reuse. Time that goes back (it should not) counts in the current slice.
        mutating func advance(to now: UInt64) {
            guard now > current else { return }
            let count = UInt64(slices.count)
            if now - current >= count {
                for index in slices.indices { slices[index] = Slice() }
                attempts = 0
                answered = 0
                talkSeconds = 0
            } else {
                var number = current + 1
                while number <= now {
                    let slot = Int(number % count)
                    let leaving = slices[slot]
                    attempts -= Int(leaving.attempts)
                    answered -= Int(leaving.answered)
                    talkSeconds -= Int(leaving.talkSeconds)
                    slices[slot] = Slice()
                    number += 1
                }
            }
            current = now
        }
    }

    public private(set) var settings: Settings
    private var slots: [String: Int] = [:]
    private var rings: [Ring] = []

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    /// New settings (a configuration reload). A new window or slice length starts every gateway
    /// afresh (the old slices do not fit it); a new minimum only changes what counts.
    public func configure(_ settings: Settings) {
        if settings.windowSeconds != self.settings.windowSeconds || settings.sliceSeconds != self.settings.sliceSeconds {
            reset()
        }
        self.settings = settings
    }

    /// Forgets every gateway.
    public func reset() {
        slots.removeAll()
        rings.removeAll()
    }

    /// One vendor attempt that ended at `now` (monotonic nanoseconds): answered or not, and its
    /// talk time (0 unanswered).
    public func record(_ gateway: String, answered: Bool, talkSeconds: Int, now: UInt64) {
        let sliceNumber = now / settings.sliceNanoseconds
        let slot: Int
        if let known = slots[gateway] {
            slot = known
        } else {
            slot = rings.count
            slots[gateway] = slot
            rings.append(Ring(count: settings.sliceCount, current: sliceNumber))
        }
        let talk = max(0, talkSeconds)
        // One access to the rings for the whole update (each `rings[slot]` would be checked apart).
        rings.withUnsafeMutableBufferPointer { rings in
            rings[slot].advance(to: sliceNumber)
            let index = Int(rings[slot].current % UInt64(rings[slot].slices.count))
            rings[slot].slices[index].attempts &+= 1
            rings[slot].attempts += 1
            if answered {
                rings[slot].slices[index].answered &+= 1
                rings[slot].answered += 1
            }
            rings[slot].slices[index].talkSeconds &+= UInt64(talk)
            rings[slot].talkSeconds += talk
        }
    }

    /// The gateway's numbers over the window ending at `now`; a gateway never recorded has none
    /// (zero attempts, not counting).
    public func score(_ gateway: String, now: UInt64) -> GatewayScore {
        guard let slot = slots[gateway] else { return GatewayScore(attempts: 0, answered: 0, talkSeconds: 0, minimumCalls: settings.minimumCalls) }
        let sliceNumber = now / settings.sliceNanoseconds, minimum = settings.minimumCalls
        return rings.withUnsafeMutableBufferPointer { rings in
            rings[slot].advance(to: sliceNumber)
            return GatewayScore(attempts: rings[slot].attempts, answered: rings[slot].answered, talkSeconds: rings[slot].talkSeconds,
                                minimumCalls: minimum)
        }
    }

    /// Gateways recorded so far (those removed from the configuration included), by name.
    public var gateways: [String] { slots.keys.sorted() }
}

/// A routing gateway's quality over the window.
public struct GatewayScore: Sendable, Hashable, Codable {
    public var attempts: Int
    public var answered: Int
    public var talkSeconds: Int
    /// Whether there were enough attempts (`SS_GATEWAY_QUALITY_MIN_CALLS`) for the score to be
    /// used: below that, quality sorting tries the gateway first to learn it, mix sorting takes its
    /// ASR as 1, and the ASR floor leaves it alone.
    public var counts: Bool

    public init(attempts: Int, answered: Int, talkSeconds: Int, minimumCalls: Int) {
        self.attempts = attempts
        self.answered = answered
        self.talkSeconds = talkSeconds
        self.counts = attempts >= max(1, minimumCalls)
    }

    /// Answered / attempts, 0 with no attempt.
    public var asr: Double { attempts > 0 ? Double(answered) / Double(attempts) : 0 }
    /// Talk seconds per answered call; nil with no answer.
    public var acd: Double? { answered > 0 ? Double(talkSeconds) / Double(answered) : nil }
    /// Talk seconds per attempt (ASR x ACD): the score with `SS_GATEWAY_QUALITY_USE_ACD` 1.
    public var talkSecondsPerAttempt: Double { attempts > 0 ? Double(talkSeconds) / Double(attempts) : 0 }

    /// Whether the ASR is under `floorPercent` (integer arithmetic, so 20 of 100 is not under 20 %).
    public func isUnder(floorPercent: Int) -> Bool {
        counts && floorPercent > 0 && answered * 100 < floorPercent * attempts
    }

    /// The quality sort's value: higher is better.
    func value(useACD: Bool) -> Double { useACD ? talkSecondsPerAttempt : asr }
}
