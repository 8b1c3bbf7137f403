/// The quality bands of requirements §5, per metric and per leg: packet loss good below 0.5 %,
/// warning from 0.5 to 2 %, critical above 2 %; jitter 20 / 50 ms; latency 150 / 300 ms. A value
/// exactly on a limit is in the worse band of the lower one (0.5 % loss is a warning, 2 % still a
/// warning; 2.01 % critical).
public enum QualityBand: String, Sendable, Codable, CaseIterable, Comparable {
    case good
    case warning
    case critical

    private var rank: Int {
        switch self {
        case .good: return 0
        case .warning: return 1
        case .critical: return 2
        }
    }

    public static func < (lhs: QualityBand, rhs: QualityBand) -> Bool { lhs.rank < rhs.rank }
}

public enum MediaQuality {
    /// Good below the first limit, warning up to and including the second, critical above it.
    public struct Limits: Sendable, Equatable {
        public let warning: Double
        public let critical: Double

        public func band(_ value: Double) -> QualityBand {
            if value > critical { return .critical }
            if value >= warning { return .warning }
            return .good
        }
    }

    /// Packet loss in percent.
    public static let loss = Limits(warning: 0.5, critical: 2)
    /// Interarrival jitter in milliseconds.
    public static let jitter = Limits(warning: 20, critical: 50)
    /// Latency in milliseconds. vos-mediad measures a leg's round trip between the relay and that
    /// leg's far end; the call's one-way (mouth-to-ear) delay is about half the sum of both legs'
    /// round trips, which is a leg's round trip when the legs are alike, so the limits apply to
    /// the round trip as it is (on the safe side when one leg is much faster than the other).
    public static let latency = Limits(warning: 150, critical: 300)

    /// A leg's far end counts as one-way audio when it has sent no RTP for this long while the
    /// other leg's far end has.
    public static let oneWayAudioSeconds: Double = 5

    public static func lossBand(percent: Double) -> QualityBand { loss.band(percent) }
    public static func jitterBand(milliseconds: Double) -> QualityBand { jitter.band(milliseconds) }
    public static func latencyBand(roundTripMilliseconds: Double) -> QualityBand { latency.band(roundTripMilliseconds) }

    /// The worst band of the metrics that are known (nil ones are not measured and ignored); nil
    /// when none is.
    public static func classify(lossPercent: Double?, jitterMs: Double?, roundTripMs: Double?) -> QualityBand? {
        let bands = [lossPercent.map(lossBand(percent:)), jitterMs.map(jitterBand(milliseconds:)),
                     roundTripMs.map(latencyBand(roundTripMilliseconds:))].compactMap { $0 }
        return bands.max()
    }

    /// One-way audio on a leg, from the times (monotonic nanoseconds, 0 = never) its far end and
    /// the other leg's far end last sent RTP: the other one did within `oneWayAudioSeconds` and
    /// this one did not for that long (counted from `since`, the session's start, when it never
    /// did).
    public static func isOneWay(lastFromFarEnd: UInt64, lastFromOtherFarEnd: UInt64, since start: UInt64, now: UInt64) -> Bool {
        let window = UInt64(oneWayAudioSeconds * 1e9)
        // A time a little ahead of `now` (another thread's clock read) is simply recent.
        guard lastFromOtherFarEnd != 0, lastFromOtherFarEnd >= now || now - lastFromOtherFarEnd < window else { return false }
        let silentSince = lastFromFarEnd != 0 ? lastFromFarEnd : start
        return now > silentSince && now - silentSince >= window
    }
}
