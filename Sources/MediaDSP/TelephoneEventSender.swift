/// Plays DTMF digits as RFC 4733 telephone-event packets, driven by the caller's sample clock.
///
/// The caller owns the RTP stream: it calls `next(elapsedSamples:)` on its packet tick, passing
/// how many samples of stream time went by since the previous call, and sends whatever packet
/// comes back with the returned marker bit and timestamp. The sender never looks at a real clock.
///
/// Packet schedule for one event of duration D (timestamp units), interval I (default 160 = 20 ms):
/// - The event starts on the first `next` call that finds the sender idle with a digit queued
///   and the inter-digit gap elapsed; that clock value is the event's RTP timestamp, shared by
///   every packet of the event (RFC 4733 §2.5.1.1).
/// - Packets go out every I samples. Each reports the duration through the end of the interval
///   it covers, like an audio packet would: I, 2I, ... capped at D. Nothing is sent with
///   duration 0, which some receivers discard.
/// - The first packet carries the marker bit (§2.5.1.3). The packet that reaches D has the E bit
///   and is sent three times in all, one per interval (§2.5.1.4).
/// - The next digit starts no sooner than `minimumGap` after the previous one's end (and after
///   its last retransmission), so receivers see distinct digits even for repeated keys.
///
/// Pending digits sit in a fixed 32-entry ring held inline: queuing and playing never allocate.
public struct TelephoneEventSender: Sendable {
    /// Digits that can wait behind the one playing.
    public static let queueCapacity = 32
    /// Copies of the final (E bit) packet, RFC 4733 §2.5.1.4.
    public static let endPacketCount = 3
    /// DTMF shorter than 40 ms is not guaranteed to be recognised (ITU-T Q.24).
    public static let minimumDurationMilliseconds = 40
    /// The duration field is 16 bits: 8000 ms at 8 kHz still fits without segmenting the event.
    public static let maximumDurationMilliseconds = 8000

    public let sampleRate: Int
    public let packetIntervalSamples: Int
    public let minimumGapSamples: Int

    /// Timestamp units elapsed since init (never wraps in practice: 2^64 samples).
    public private(set) var clock: UInt64 = 0
    private let timestampOrigin: UInt32
    private var current: ActiveEvent?
    private var nextEmission: UInt64 = 0
    private var earliestNextStart: UInt64 = 0
    private var ring = PendingRing()

    private struct ActiveEvent: Sendable {
        var event: UInt8
        var volume: UInt8
        var durationSamples: UInt64
        var start: UInt64
        var packetsSent: Int
        var endPacketsSent: Int
    }

    /// - Parameters:
    ///   - initialTimestamp: the RTP timestamp matching clock 0, so packet timestamps can be
    ///     written as returned when the caller advances its stream by the same elapsed samples.
    ///   - packetIntervalSamples: update interval; the audio ptime of the stream (160 = 20 ms).
    ///   - minimumGapMilliseconds: silence between queued digits.
    public init(initialTimestamp: UInt32 = 0, sampleRate: Int = 8000, packetIntervalSamples: Int = 160,
                minimumGapMilliseconds: Int = 40) {
        self.timestampOrigin = initialTimestamp
        self.sampleRate = max(sampleRate, 1)
        self.packetIntervalSamples = max(packetIntervalSamples, 1)
        self.minimumGapSamples = max(minimumGapMilliseconds, 0) * self.sampleRate / 1000
    }

    /// Queues a digit (0-9 * # A-D, lowercase accepted). Durations are clamped to 40...8000 ms.
    public mutating func start(digit: Character, durationMilliseconds: Int = 100,
                               volume: UInt8 = 10) throws(TelephoneEventError) {
        guard let event = TelephoneEvent.event(forDigit: digit) else { throw .invalidDigit(digit) }
        try start(event: event, durationMilliseconds: durationMilliseconds, volume: volume)
    }

    /// Queues any event code (e.g. `TelephoneEvent.flash`).
    public mutating func start(event: UInt8, durationMilliseconds: Int = 100,
                               volume: UInt8 = 10) throws(TelephoneEventError) {
        let clamped = min(max(durationMilliseconds, Self.minimumDurationMilliseconds),
                          Self.maximumDurationMilliseconds)
        let samples = min(clamped * sampleRate / 1000, Int(UInt16.max))
        let entry = PendingRing.Entry(event: event, volume: min(volume, TelephoneEvent.maximumVolume),
                                      durationSamples: UInt16(samples))
        guard ring.push(entry) else { throw .queueFull(capacity: Self.queueCapacity) }
    }

    /// Advances the clock by `elapsedSamples` and returns the packet due now, if any.
    /// At most one packet per call, so a late tick never produces a burst.
    public mutating func next(elapsedSamples: Int) -> TelephoneEventPacket? {
        clock &+= UInt64(max(elapsedSamples, 0))
        if current == nil {
            guard clock >= earliestNextStart, let entry = ring.pop() else { return nil }
            current = ActiveEvent(event: entry.event, volume: entry.volume,
                                  durationSamples: UInt64(entry.durationSamples), start: clock,
                                  packetsSent: 0, endPacketsSent: 0)
            nextEmission = clock
        }
        guard var active = current, clock >= nextEmission else { return nil }

        let interval = UInt64(packetIntervalSamples)
        let covered = min(clock - active.start + interval, active.durationSamples)
        let isEnd = active.endPacketsSent > 0 || covered >= active.durationSamples
        let duration = isEnd ? active.durationSamples : covered
        let packet = TelephoneEventPacket(
            payload: TelephoneEvent(event: active.event, end: isEnd, volume: active.volume,
                                    duration: UInt16(truncatingIfNeeded: duration)),
            marker: active.packetsSent == 0, isEnd: isEnd,
            timestamp: timestampOrigin &+ UInt32(truncatingIfNeeded: active.start))

        active.packetsSent += 1
        if isEnd { active.endPacketsSent += 1 }
        // More than one interval behind (a stalled caller): resume the cadence from now.
        nextEmission = nextEmission + interval <= clock ? clock + interval : nextEmission + interval
        if active.endPacketsSent >= Self.endPacketCount {
            earliestNextStart = max(active.start + active.durationSamples + UInt64(minimumGapSamples),
                                    clock + interval)
            current = nil
        } else {
            current = active
        }
        return packet
    }

    /// An event is being sent; callers usually hold back audio on the stream meanwhile.
    public var isSendingEvent: Bool { current != nil }
    /// Nothing playing and nothing queued.
    public var isIdle: Bool { current == nil && ring.count == 0 }
    /// Digits waiting behind the one playing.
    public var pendingCount: Int { ring.count }

    /// Drops the playing event and every queued digit (e.g. on re-INVITE or SSRC change).
    public mutating func reset() {
        current = nil
        ring = PendingRing()
        earliestNextStart = clock
    }
}

/// One RTP packet to send: payload, marker bit and the event's RTP timestamp.
public struct TelephoneEventPacket: Equatable, Sendable {
    public var payload: TelephoneEvent
    public var marker: Bool
    /// E bit set (this and the following end retransmissions).
    public var isEnd: Bool
    /// RTP timestamp of the event start: the same for every packet of one event.
    public var timestamp: UInt32

    public init(payload: TelephoneEvent, marker: Bool, isEnd: Bool, timestamp: UInt32) {
        self.payload = payload
        self.marker = marker
        self.isEnd = isEnd
        self.timestamp = timestamp
    }
}

/// Fixed-capacity FIFO of queued digits, stored inline as a tuple so it lives inside the sender
/// value and copying or mutating it never touches the heap.
private struct PendingRing: Sendable {
    struct Entry: Sendable {
        var event: UInt8
        var volume: UInt8
        var durationSamples: UInt16

        var packed: UInt32 { UInt32(event) << 24 | UInt32(volume) << 16 | UInt32(durationSamples) }

        init(event: UInt8, volume: UInt8, durationSamples: UInt16) {
            self.event = event
            self.volume = volume
            self.durationSamples = durationSamples
        }

        init(packed: UInt32) {
            event = UInt8(truncatingIfNeeded: packed >> 24)
            volume = UInt8(truncatingIfNeeded: packed >> 16)
            durationSamples = UInt16(truncatingIfNeeded: packed)
        }
    }

    private var slots: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32,
                        UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32,
                        UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32,
                        UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)
        = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
           0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    private var head = 0
    private(set) var count = 0

    private static let capacity = TelephoneEventSender.queueCapacity

    mutating func push(_ entry: Entry) -> Bool {
        guard count < Self.capacity else { return false }
        let index = (head + count) % Self.capacity
        withUnsafeMutableBytes(of: &slots) { raw in
            raw.storeBytes(of: entry.packed, toByteOffset: index * MemoryLayout<UInt32>.stride, as: UInt32.self)
        }
        count += 1
        return true
    }

    mutating func pop() -> Entry? {
        guard count > 0 else { return nil }
        let packed = withUnsafeBytes(of: &slots) { raw in
            raw.load(fromByteOffset: head * MemoryLayout<UInt32>.stride, as: UInt32.self)
        }
        head = (head + 1) % Self.capacity
        count -= 1
        return Entry(packed: packed)
    }
}
