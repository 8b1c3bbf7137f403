import Foundation
import Testing
@testable import VOSModel

@Suite struct MediaQualityTests {
    // Requirements §5: loss good < 0.5 % / warning 0.5-2 % / critical > 2 %; jitter 20 / 50 ms;
    // latency 150 / 300 ms.
    @Test(arguments: [(0.0, QualityBand.good), (0.49, .good), (0.5, .warning), (1.2, .warning), (2.0, .warning),
                      (2.01, .critical), (40, .critical)])
    func lossBands(percent: Double, band: QualityBand) {
        #expect(MediaQuality.lossBand(percent: percent) == band)
    }

    @Test(arguments: [(0.0, QualityBand.good), (19.9, .good), (20, .warning), (50, .warning), (50.1, .critical)])
    func jitterBands(milliseconds: Double, band: QualityBand) {
        #expect(MediaQuality.jitterBand(milliseconds: milliseconds) == band)
    }

    @Test(arguments: [(12.0, QualityBand.good), (149.9, .good), (150, .warning), (300, .warning), (300.5, .critical)])
    func latencyBands(milliseconds: Double, band: QualityBand) {
        #expect(MediaQuality.latencyBand(roundTripMilliseconds: milliseconds) == band)
    }

    @Test func aLegIsAsBadAsItsWorstMetric() {
        #expect(MediaQuality.classify(lossPercent: 0.1, jitterMs: 3, roundTripMs: 40) == .good)
        #expect(MediaQuality.classify(lossPercent: 0.1, jitterMs: 25, roundTripMs: 40) == .warning)
        #expect(MediaQuality.classify(lossPercent: 3, jitterMs: 25, roundTripMs: 40) == .critical)
        #expect(MediaQuality.classify(lossPercent: 0, jitterMs: 0, roundTripMs: 301) == .critical)
        #expect(MediaQuality.classify(lossPercent: 1, jitterMs: 60, roundTripMs: 200) == .critical)
    }

    @Test func unknownMetricsAreLeftOutAndNothingKnownIsNoBand() {
        #expect(MediaQuality.classify(lossPercent: nil, jitterMs: nil, roundTripMs: nil) == nil)
        #expect(MediaQuality.classify(lossPercent: nil, jitterMs: 30, roundTripMs: nil) == .warning)
        #expect(MediaQuality.classify(lossPercent: 0.2, jitterMs: nil, roundTripMs: nil) == .good)
        #expect(MediaQuality.classify(lossPercent: nil, jitterMs: nil, roundTripMs: 160) == .warning)
    }

    @Test func bandsOrderFromGoodToCritical() {
        #expect(QualityBand.good < .warning && QualityBand.warning < .critical)
        #expect([QualityBand.warning, .critical, .good].max() == .critical)
    }

    @Test func oneWayAudioNeedsTheOtherFarEndActiveAndThisOneSilentForTheWindow() {
        let second: UInt64 = 1_000_000_000
        let start = 100 * second
        // This far end last sent 6 s ago, the other 0.5 s ago: one-way.
        #expect(MediaQuality.isOneWay(lastFromFarEnd: start + 4 * second, lastFromOtherFarEnd: start + 19 * second / 2,
                                      since: start, now: start + 10 * second))
        // Both sending: not one-way.
        #expect(!MediaQuality.isOneWay(lastFromFarEnd: start + 9 * second, lastFromOtherFarEnd: start + 10 * second,
                                       since: start, now: start + 10 * second))
        // Both silent (an RTP timeout is coming, not one-way audio).
        #expect(!MediaQuality.isOneWay(lastFromFarEnd: start + 1 * second, lastFromOtherFarEnd: start + 2 * second,
                                       since: start, now: start + 10 * second))
        // Silent for 4.9 s only.
        #expect(!MediaQuality.isOneWay(lastFromFarEnd: start + 51 * second / 10, lastFromOtherFarEnd: start + 10 * second,
                                       since: start, now: start + 10 * second))
        // Never sent, the session is 6 s old and the other sends: one-way; 3 s old: not yet.
        #expect(MediaQuality.isOneWay(lastFromFarEnd: 0, lastFromOtherFarEnd: start + 6 * second, since: start, now: start + 6 * second))
        #expect(!MediaQuality.isOneWay(lastFromFarEnd: 0, lastFromOtherFarEnd: start + 3 * second, since: start, now: start + 3 * second))
        // The other's time a little ahead of `now` (read on another thread) still counts as active.
        #expect(MediaQuality.isOneWay(lastFromFarEnd: start, lastFromOtherFarEnd: start + 10 * second + 1, since: start, now: start + 10 * second))
        // The other never sent: nothing to compare with.
        #expect(!MediaQuality.isOneWay(lastFromFarEnd: 0, lastFromOtherFarEnd: 0, since: start, now: start + 60 * second))
    }

    @Test func cdrMediaStatisticsWithoutQualityFieldsStillDecode() throws {
        // A record written before the quality fields existed.
        let old = Data(#"{"jitterMilliseconds":1.5,"packetsLost":2,"packetsReceived":10,"packetsSent":9}"#.utf8)
        let decoded = try JSONRoundTrip.decode(LegMediaStatistics.self, old)
        #expect(decoded.packetsLost == 2 && decoded.quality == nil && decoded.oneWayAudio == nil && decoded.roundTripMilliseconds == nil)
        var current = decoded
        current.quality = .warning
        current.rtcpLossPercent = 1.17
        current.rtcpPacketsLost = 12
        current.rtcpJitterMilliseconds = 4
        current.roundTripMilliseconds = 38.5
        current.oneWayAudio = true
        let text = String(decoding: try JSONRoundTrip.encode(current), as: UTF8.self)
        #expect(text.contains(#""quality":"warning""#) && text.contains(#""oneWayAudio":true"#), "\(text)")
        #expect(try JSONRoundTrip.decode(LegMediaStatistics.self, JSONRoundTrip.encode(current)) == current)
    }
}
