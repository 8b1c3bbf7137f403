/// DTMF handling of one direction (packets from the `from` leg, relayed to the `to` leg).
///
/// `detectInband` and `receive` describe the `from` leg (what it sends and which of its methods
/// count); `sendInband` describes the `to` leg (it wants digits as tones). See
/// `MediaDirectionProcessor` for how digits are routed.
public struct DTMFOptions: Sendable, Equatable {
    /// Detect DTMF tones in the `from` leg's decoded audio (spandsp). Only for a G.711 `from`
    /// leg; ignored for G.729, whose coding distorts tones too much to trust the detector.
    public var detectInband: Bool
    /// Digits towards the `to` leg that it cannot take as RFC 4733 events are played as tones
    /// (replacing its audio while they play).
    public var sendInband: Bool
    /// The `from` leg's accepted methods; digits by any other method are dropped (counted).
    public var receive: DTMFReceiveFilter
    /// Duration given to RFC 4733 events generated for, and reports of, digits detected in-band
    /// (the detector reports a tone at its onset, before its length is known). 40...8000 ms.
    public var detectedDigitMilliseconds: Int
    /// Tone and silence time of each generated digit (40...2000 ms each); spandsp times every
    /// digit alike, so `play`'s duration applies only to events.
    public var toneOnMilliseconds: Int
    public var toneOffMilliseconds: Int
    /// Level of the low tone of generated digits, -50...0 dBm0.
    public var toneLevelDBm0: Int

    public static let detectedDigitRange = 40...8000

    public init(
        detectInband: Bool = false, sendInband: Bool = false, receive: DTMFReceiveFilter = .all,
        detectedDigitMilliseconds: Int = 100, toneOnMilliseconds: Int = 100, toneOffMilliseconds: Int = 50,
        toneLevelDBm0: Int = -10
    ) {
        self.detectInband = detectInband
        self.sendInband = sendInband
        self.receive = receive
        self.detectedDigitMilliseconds = detectedDigitMilliseconds
        self.toneOnMilliseconds = toneOnMilliseconds
        self.toneOffMilliseconds = toneOffMilliseconds
        self.toneLevelDBm0 = toneLevelDBm0
    }
}

/// What `MediaDirectionProcessor.playDigits` did with digits received by SIP INFO.
public enum DTMFPlayOutcome: Sendable, Equatable {
    /// Queued as RFC 4733 events towards the `to` leg.
    case events
    /// Queued as in-band tones towards the `to` leg.
    case tones
    /// The direction is locked to another DTMF method: the digits are dropped (not forwarded
    /// either; the key press already went through by the other method).
    case droppedByLock
    /// The `from` leg's receive setting excludes SIP INFO: dropped.
    case refusedByFilter
    /// The `to` leg takes neither events nor tones here: the controller should forward the
    /// INFO itself. The direction is locked to INFO all the same.
    case noMediaRoute
    /// Empty, or a character that is not a DTMF digit (0-9 * # A-D); nothing queued.
    case invalidDigits
    /// The event or tone queue cannot take the digits; nothing queued (events) or the digits
    /// before the full queue were queued (tones).
    case queueFull

    /// True when the processor took the digits into media.
    public var isDelivered: Bool { self == .events || self == .tones }
}
