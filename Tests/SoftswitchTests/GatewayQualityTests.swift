import Testing
import VOSModel
import VOSTestSupport
@testable import Softswitch

@Suite struct GatewayQualityTests {
    static let second: UInt64 = 1_000_000_000

    @Test func theOldestSliceLeavesTheWindowWhole() {
        // 300 s in 60 s slices: the current slice and the four before it.
        let quality = GatewayQuality(settings: .init(windowSeconds: 300, sliceSeconds: 60, minimumCalls: 2))
        let s = Self.second
        quality.record("gw", answered: true, talkSeconds: 30, now: 0)
        quality.record("gw", answered: false, talkSeconds: 0, now: 59 * s)
        quality.record("gw", answered: true, talkSeconds: 90, now: 61 * s)
        #expect(quality.score("gw", now: 299 * s) == GatewayScore(attempts: 3, answered: 2, talkSeconds: 120, minimumCalls: 2))
        // Slice 0 (0-59 s) leaves at 300 s with both its calls.
        #expect(quality.score("gw", now: 300 * s) == GatewayScore(attempts: 1, answered: 1, talkSeconds: 90, minimumCalls: 2))
        #expect(!quality.score("gw", now: 300 * s).counts)
        #expect(quality.score("gw", now: 359 * s).attempts == 1)
        #expect(quality.score("gw", now: 360 * s).attempts == 0)
        // A gateway never recorded has no score, and nothing leaks between gateways.
        #expect(quality.score("other", now: 0) == GatewayScore(attempts: 0, answered: 0, talkSeconds: 0, minimumCalls: 2))
    }

    @Test func numbersOfAScore() {
        let score = GatewayScore(attempts: 40, answered: 10, talkSeconds: 1200, minimumCalls: 20)
        #expect(score.counts && score.asr == 0.25 && score.acd == 120 && score.talkSecondsPerAttempt == 30)
        #expect(score.value(useACD: false) == 0.25 && score.value(useACD: true) == 30)
        #expect(GatewayScore(attempts: 0, answered: 0, talkSeconds: 0, minimumCalls: 1).asr == 0)
        #expect(GatewayScore(attempts: 3, answered: 0, talkSeconds: 0, minimumCalls: 1).acd == nil)
        // The floor in whole percent: 20 of 100 is at 20 %, not under; an unscored gateway never is.
        #expect(!GatewayScore(attempts: 100, answered: 20, talkSeconds: 0, minimumCalls: 20).isUnder(floorPercent: 20))
        #expect(GatewayScore(attempts: 100, answered: 19, talkSeconds: 0, minimumCalls: 20).isUnder(floorPercent: 20))
        #expect(!GatewayScore(attempts: 19, answered: 0, talkSeconds: 0, minimumCalls: 20).isUnder(floorPercent: 20))
        #expect(!GatewayScore(attempts: 100, answered: 0, talkSeconds: 0, minimumCalls: 20).isUnder(floorPercent: 0))
    }

    @Test func settingsFromParametersAndReconfiguration() throws {
        var parameters = ParameterSet()
        try parameters.set(.gatewayQualityReserveTime, to: "600")
        try parameters.set(.gatewayQualityReserveSeparate, to: "120")
        try parameters.set(.gatewayQualityMinCalls, to: "3")
        let settings = GatewayQuality.Settings(parameters: parameters)
        #expect(settings == .init(windowSeconds: 600, sliceSeconds: 120, minimumCalls: 3) && settings.sliceCount == 5)
        #expect(GatewayQuality.Settings(parameters: ParameterSet()) == .init(windowSeconds: 3600, sliceSeconds: 300, minimumCalls: 20))
        // A window that is not whole slices is rounded up to them.
        #expect(GatewayQuality.Settings(windowSeconds: 100, sliceSeconds: 30).sliceCount == 4)

        let quality = GatewayQuality(settings: settings)
        for _ in 0..<3 { quality.record("gw", answered: true, talkSeconds: 10, now: 0) }
        #expect(quality.score("gw", now: 0).counts)
        quality.configure(.init(windowSeconds: 600, sliceSeconds: 120, minimumCalls: 4))
        #expect(quality.score("gw", now: 0).attempts == 3 && !quality.score("gw", now: 0).counts)
        quality.configure(.init(windowSeconds: 900, sliceSeconds: 120, minimumCalls: 4))
        #expect(quality.score("gw", now: 0).attempts == 0 && quality.gateways.isEmpty)
    }

    @Test func longIdleEmptiesTheRingAndItIsReused() {
        let quality = GatewayQuality(settings: .init(windowSeconds: 3600, sliceSeconds: 300, minimumCalls: 1))
        let s = Self.second
        quality.record("gw", answered: true, talkSeconds: 5, now: 10 * s)
        #expect(quality.score("gw", now: 10 * 86_400 * s).attempts == 0)
        quality.record("gw", answered: false, talkSeconds: 0, now: 10 * 86_400 * s + 1)
        #expect(quality.score("gw", now: 10 * 86_400 * s + 2) == GatewayScore(attempts: 1, answered: 0, talkSeconds: 0, minimumCalls: 1))
        // Time that goes back counts in the current slice.
        quality.record("gw", answered: true, talkSeconds: 7, now: 5 * s)
        #expect(quality.score("gw", now: 10 * 86_400 * s + 3).answered == 1)
    }

    /// Random call ends over hours against a brute-force count of the slices in the window.
    @Test func runningTotalsEqualABruteForceWindow() {
        var random = SeededGenerator(seed: 16)
        for round in 0..<20 {
            let slice = Int.random(in: 10...120, using: &random)
            let window = slice * Int.random(in: 1...12, using: &random) + Int.random(in: 0...(slice - 1), using: &random)
            let settings = GatewayQuality.Settings(windowSeconds: window, sliceSeconds: slice, minimumCalls: 5)
            let quality = GatewayQuality(settings: settings)
            var events: [(name: String, slice: UInt64, answered: Bool, talk: Int)] = []
            var now: UInt64 = UInt64.random(in: 0...1_000_000, using: &random) * Self.second
            for _ in 0..<400 {
                now += UInt64.random(in: 0...(UInt64(slice) * 3 * Self.second / 2), using: &random)
                let name = ["a", "b", "c"].randomElement(using: &random) ?? "a"
                let answered = Bool.random(using: &random)
                let talk = answered ? Int.random(in: 1...600, using: &random) : 0
                quality.record(name, answered: answered, talkSeconds: talk, now: now)
                events.append((name, now / settings.sliceNanoseconds, answered, talk))
                let probe = ["a", "b", "c"].randomElement(using: &random) ?? "a"
                let current = now / settings.sliceNanoseconds
                let inWindow = events.filter { $0.name == probe && $0.slice + UInt64(settings.sliceCount) > current }
                let expected = GatewayScore(attempts: inWindow.count, answered: inWindow.filter(\.answered).count,
                                            talkSeconds: inWindow.reduce(0) { $0 + $1.talk }, minimumCalls: 5)
                #expect(quality.score(probe, now: now) == expected, "round \(round)")
            }
        }
    }
}
