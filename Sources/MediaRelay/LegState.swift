import Sockets
#if canImport(Glibc)
import Glibc
#endif

/// Everything the packet path keeps about one leg. Plain value in a preallocated array, written
/// only by the leg's I/O thread; the control path sees it through `LegCounters` snapshots.
struct LegState {
    var rtpLatched = false
    var rtcpLatched = false
    /// Length of the address packets *to* this leg go to (0 = none known yet: drop).
    var rtpTargetLength: socklen_t = 0
    var rtcpTargetLength: socklen_t = 0
    /// From this leg's far end, RTP and RTCP.
    var receivedPackets: UInt64 = 0
    var receivedBytes: UInt64 = 0
    /// Relayed to this leg's far end.
    var sentPackets: UInt64 = 0
    var sentBytes: UInt64 = 0
    /// From a source other than the latched one.
    var dropped: UInt64 = 0
    /// Arrived while the other leg had no address to forward to, or the send failed.
    var unroutable: UInt64 = 0
    var lastRTPNanoseconds: UInt64 = 0
    var reception = RTPReceptionStatistics()
    /// RTCP reports from this leg's far end (on the RTCP port, or multiplexed on the RTP port).
    var rtcp = RTCPLegState()
    /// Decoded sessions: when the relay sends this leg its next own sender report, and the
    /// packets expected and received at the last one (the interval's fraction lost).
    var nextOwnReport: UInt64 = 0
    var reportedExpected: UInt64 = 0
    var reportedReceived: UInt64 = 0
    /// This leg's far end went `MediaQuality.oneWayAudioSeconds` without RTP while the other leg's
    /// sent, after having sent before (sticky; early media one way only does not count).
    var oneWaySeen = false
}

/// Per-session bookkeeping of the I/O thread.
struct SessionSlotState {
    var active = false
    var sessionID: UInt64 = 0
    var timeoutNanoseconds: UInt64 = 0
    var createdNanoseconds: UInt64 = 0
    /// When the timeout event went out (0 = not timed out); media after it re-arms the timer.
    var timedOutAt: UInt64 = 0
    /// TOS byte (DSCP << 2) of the session's sockets, written into packets sent through the raw socket.
    var tos: UInt8 = 0
    /// The session goes through its `SessionMediaPipeline` (the worker's `pipelines[slot]`).
    var decoded = false
}

/// A copy of one leg's counters, taken on the I/O thread for the control path.
struct LegCounters: Sendable {
    var latched: SocketAddress?
    var receivedPackets: UInt64
    var receivedBytes: UInt64
    var sentPackets: UInt64
    var sentBytes: UInt64
    var dropped: UInt64
    var unroutable: UInt64
    var expected: UInt64
    var lost: Int64
    /// In RTP timestamp units (8000 Hz).
    var jitter: Double
    var lastRTPNanoseconds: UInt64
    /// Decoded path only: packets from this leg's far end its processor refused.
    var malformed: UInt64? = nil
    /// Decoded path with a jitter buffer: the delay it adds to this leg's far end's audio (ms).
    var jitterBufferMilliseconds: Int? = nil
    var rtcp = RTCPLegState()
    var oneWaySeen = false

    static let empty = LegCounters(latched: nil, receivedPackets: 0, receivedBytes: 0, sentPackets: 0, sentBytes: 0, dropped: 0,
                                   unroutable: 0, expected: 0, lost: 0, jitter: 0, lastRTPNanoseconds: 0)
}
