import MediaControl
import VOSModel

/// What the relay's deleted sessions carried, summed since vos-mediad started: with the live
/// sessions' counters it makes cumulative totals that do not fall when a call ends (vos-mediad's
/// Prometheus counters). Kept by `RelayEngine` under its control-path lock, added once per
/// delete, never touched on the packet path.
public struct RelayTotals: Sendable, Equatable {
    public var sessions: UInt64 = 0
    /// What arrived from the legs' far ends (`LegInfo.received`).
    public var received = TrafficCounters()
    /// What the relay sent to the legs' far ends (`LegInfo.sent`).
    public var sent = TrafficCounters()
    /// Packets from a source other than the latched one.
    public var dropped: UInt64 = 0
    /// Legs by the quality band they ended in; legs never measured are under nil.
    public var legsByQuality: [QualityBand?: UInt64] = [:]

    public init() {}

    mutating func add(_ session: SessionInfo) {
        sessions += 1
        for leg in session.legs {
            received.packets &+= leg.received.packets
            received.bytes &+= leg.received.bytes
            sent.packets &+= leg.sent.packets
            sent.bytes &+= leg.sent.bytes
            dropped &+= leg.dropped
            legsByQuality[leg.quality, default: 0] += 1
        }
    }
}
