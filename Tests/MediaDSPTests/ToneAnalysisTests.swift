#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import MediaDSP

private func tone(_ components: [(frequency: Double, amplitude: Double)], count: Int = 800) -> [Int16] {
    (0..<count).map { n in
        Int16(components.reduce(0.0) { $0 + $1.amplitude * sin(2 * Double.pi * $1.frequency * Double(n) / 8000) })
    }
}

@Suite struct ToneAnalysisTests {
    @Test func measuresPowerOfAPureTone() {
        let samples = tone([(1000, 10000)])
        let expected = 10000.0 * 10000.0 / 2
        #expect(abs(ToneAnalysis.power(of: 1000, in: samples) - expected) < expected * 0.01)
        #expect(abs(ToneAnalysis.meanPower(of: samples) - expected) < expected * 0.01)
        #expect(ToneAnalysis.power(of: 1500, in: samples) < expected * 0.001)
    }

    @Test func findsTheDominantTone() {
        let samples = tone([(770, 4000), (1336, 9000)])
        let candidates: [Double] = [697, 770, 852, 941, 1209, 1336, 1477, 1633]
        #expect(ToneAnalysis.dominantFrequency(among: candidates, in: samples) == 1336)
        #expect(ToneAnalysis.dominantFrequency(among: [697, 770, 852, 941], in: samples) == 770)
        #expect(ToneAnalysis.dominantFrequency(among: [], in: samples) == nil)
    }

    @Test func separatesNeighbouringDTMFRows() {
        let samples = tone([(697, 8000)], count: 400)
        #expect(ToneAnalysis.power(of: 770, in: samples) < ToneAnalysis.power(of: 697, in: samples) / 100)
    }

    @Test func handlesEmptyInputAndSilence() {
        #expect(ToneAnalysis.power(of: 1000, in: []) == 0)
        #expect(ToneAnalysis.meanPower(of: []) == 0)
        #expect(ToneAnalysis.power(of: 1000, in: [Int16](repeating: 0, count: 160)) == 0)
    }

    @Test func reportsFullScaleDecibels() {
        let fullScale = tone([(1000, 32767)])
        #expect(abs(ToneAnalysis.decibelsFullScale(ToneAnalysis.meanPower(of: fullScale))) < 0.1)
        let quieter = tone([(1000, 3277)])
        #expect(abs(ToneAnalysis.decibelsFullScale(ToneAnalysis.meanPower(of: quieter)) + 20) < 0.1)
    }
}
