import Testing
@testable import MediaRelay

@Suite struct RTPReceptionStatisticsTests {
    @Test func countsSkippedSequenceNumbersAsLoss() {
        var statistics = RTPReceptionStatistics()
        // 100 packets, one sequence number skipped after every 9: 11 missing out of 111 expected.
        for index in 0..<100 {
            let sequence = UInt16(1000 + index + index / 9)
            statistics.record(sequence: sequence, timestamp: UInt32(index * 160), arrival: UInt32(index * 160))
        }
        #expect(statistics.received == 100)
        #expect(statistics.expected == 111)
        #expect(statistics.lost == 11)
        #expect(statistics.jitter == 0)
    }

    @Test func followsSequenceWrapAround() {
        var statistics = RTPReceptionStatistics()
        for index in 0..<20 {
            statistics.record(sequence: UInt16(truncatingIfNeeded: 65530 + index), timestamp: 0, arrival: 0)
        }
        #expect(statistics.expected == 20)
        #expect(statistics.lost == 0)
    }

    @Test func jitterConvergesToTheTransitVariation() {
        var statistics = RTPReceptionStatistics()
        // Arrivals every 160 units, timestamps alternately 80 and 240 apart: |D| is always 80.
        var timestamp: UInt32 = 7
        for index in 0..<400 {
            if index > 0 { timestamp &+= index % 2 == 0 ? 80 : 240 }
            statistics.record(sequence: UInt16(index), timestamp: timestamp, arrival: UInt32(index * 160))
        }
        #expect(abs(statistics.jitter - 80) < 1)
    }

    @Test func ignoresAStrayJumpButFollowsARestartedStream() {
        var statistics = RTPReceptionStatistics()
        for index in 0..<10 { statistics.record(sequence: UInt16(index), timestamp: 0, arrival: 0) }
        statistics.record(sequence: 40000, timestamp: 0, arrival: 0)
        #expect(statistics.received == 10)
        statistics.record(sequence: 40001, timestamp: 0, arrival: 0)
        statistics.record(sequence: 40002, timestamp: 0, arrival: 0)
        #expect(statistics.expected == 2)
        #expect(statistics.lost == 0)
    }
}
