#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import MediaDSP

private let allDigits = "0123456789*#ABCD"

/// Generates everything queued, in 20 ms frames, until the generator runs dry.
private func generateAll(_ generator: DTMFToneGenerator, limit: Int = 8000 * 30) -> [Int16] {
    var audio: [Int16] = []
    var frame = [Int16](repeating: 0, count: 160)
    while !generator.isIdle && audio.count < limit {
        let produced = frame.withUnsafeMutableBufferPointer { generator.generate(into: $0) }
        audio.append(contentsOf: frame)
        if produced < frame.count { break }
    }
    return audio
}

/// Feeds `audio` to a fresh detector in 20 ms frames; returns the digits and the sample index
/// (end of the frame) at which each was first available.
private func detect(_ audio: [Int16]) throws -> (digits: String, at: [Int]) {
    let detector = try DTMFToneDetector()
    var digits = ""
    var at: [Int] = []
    var start = 0
    while start < audio.count {
        let end = min(start + 160, audio.count)
        audio[start..<end].withUnsafeBufferPointer { detector.process($0) }
        while let digit = detector.takeDigit() {
            digits.append(digit)
            at.append(end)
        }
        start = end
    }
    return (digits, at)
}

private func sine(frequency: Double, amplitude: Double, count: Int) -> [Int16] {
    (0..<count).map { Int16(amplitude * sin(2 * Double.pi * frequency * Double($0) / 8000)) }
}

@Suite struct DTMFToneTests {
    @Test func generatorToDetectorRoundTrip() throws {
        let generator = try DTMFToneGenerator()
        try generator.queue(digits: allDigits)
        let audio = generateAll(generator)
        // 16 digits × (100 ms on + 50 ms off) = 2.4 s.
        #expect(audio.count >= 16 * 1200)
        #expect(audio.count <= 16 * 1200 + 160)
        #expect(try detect(audio).digits == allDigits)
    }

    @Test func detectsWithinDocumentedDelay() throws {
        let generator = try DTMFToneGenerator()
        try generator.queue(digit: "5")
        let audio = [Int16](repeating: 0, count: 800) + generateAll(generator)
        let result = try detect(audio)
        #expect(result.digits == "5")
        // Onset at sample 800; reported within 38.25 ms (306 samples) + one 160-sample frame.
        let delay = try #require(result.at.first) - 800
        #expect(delay <= 306 + 160)
        #expect(delay >= 204)
    }

    @Test func ignoresOneKilohertzTone() throws {
        let tone = sine(frequency: 1000, amplitude: 8000, count: 8000 * 2)
        #expect(try detect(tone).digits == "")
    }

    @Test func ignoresSilence() throws {
        #expect(try detect([Int16](repeating: 0, count: 8000)).digits == "")
    }

    @Test func survivesALawRoundTrip() throws {
        let generator = try DTMFToneGenerator()
        try generator.queue(digits: allDigits)
        let audio = generateAll(generator).map { G711.decodeALaw(G711.encodeALaw($0)) }
        #expect(try detect(audio).digits == allDigits)
    }

    @Test func survivesULawRoundTrip() throws {
        let generator = try DTMFToneGenerator()
        try generator.queue(digits: allDigits)
        let audio = generateAll(generator).map { G711.decodeULaw(G711.encodeULaw($0)) }
        #expect(try detect(audio).digits == allDigits)
    }

    @Test func generatedDigitHasItsTwoFrequencies() throws {
        let generator = try DTMFToneGenerator(onMilliseconds: 100, offMilliseconds: 50)
        try generator.queue(digit: "9")
        let tone = Array(generateAll(generator).prefix(800))
        let rows: [Double] = [697, 770, 852, 941]
        let columns: [Double] = [1209, 1336, 1477, 1633]
        #expect(ToneAnalysis.dominantFrequency(among: rows, in: tone) == 852)
        #expect(ToneAnalysis.dominantFrequency(among: columns, in: tone) == 1477)
    }

    @Test func repeatedDigitIsDetectedTwice() throws {
        let generator = try DTMFToneGenerator()
        try generator.queue(digits: "77")
        #expect(try detect(generateAll(generator)).digits == "77")
    }

    @Test func lowercaseLettersAreQueuedAsUppercase() throws {
        let generator = try DTMFToneGenerator()
        try generator.queue(digit: "b")
        #expect(try detect(generateAll(generator)).digits == "B")
    }

    @Test func generatorGoesIdleAndZeroFills() throws {
        let generator = try DTMFToneGenerator(onMilliseconds: 40, offMilliseconds: 40)
        #expect(generator.isIdle)
        var frame = [Int16](repeating: 1234, count: 160)
        #expect(frame.withUnsafeMutableBufferPointer { generator.generate(into: $0) } == 0)
        #expect(frame.allSatisfy { $0 == 0 })
        try generator.queue(digit: "1")
        #expect(!generator.isIdle)
        // 80 ms of output in all: 320 tone + 320 silence, then dry.
        var produced: [Int] = []
        for _ in 0..<5 {
            frame = [Int16](repeating: 1234, count: 160)
            produced.append(frame.withUnsafeMutableBufferPointer { generator.generate(into: $0) })
        }
        #expect(produced == [160, 160, 160, 160, 0])
        #expect(generator.isIdle)
        #expect(frame.allSatisfy { $0 == 0 })
    }

    @Test func refusesInvalidDigitsAllOrNothing() throws {
        let generator = try DTMFToneGenerator()
        #expect(throws: DTMFToneError.invalidDigit("X")) { try generator.queue(digits: "12X") }
        #expect(generator.isIdle)
        #expect(throws: DTMFToneError.invalidDigit("E")) { try generator.queue(digit: "E") }
        #expect(generateAll(generator).isEmpty)
    }

    @Test func refusesQueueOverflow() throws {
        let generator = try DTMFToneGenerator()
        let tooMany = String(repeating: "1", count: DTMFToneGenerator.queueCapacity + 1)
        #expect(throws: DTMFToneError.queueFull(offered: 129)) { try generator.queue(digits: tooMany) }
        #expect(generator.isIdle)
    }

    @Test func refusesOutOfRangeTiming() {
        #expect(throws: DTMFToneError.self) { try DTMFToneGenerator(onMilliseconds: 10) }
        #expect(throws: DTMFToneError.self) { try DTMFToneGenerator(offMilliseconds: 5000) }
        #expect(throws: DTMFToneError.self) { try DTMFToneGenerator(levelDBm0: 3) }
    }

    @Test func reportsToneInProgress() throws {
        let generator = try DTMFToneGenerator(onMilliseconds: 200, offMilliseconds: 50)
        try generator.queue(digit: "#")
        let detector = try DTMFToneDetector()
        var frame = [Int16](repeating: 0, count: 800)
        frame.withUnsafeMutableBufferPointer { _ = generator.generate(into: $0) }
        frame.withUnsafeBufferPointer { detector.process($0) }
        #expect(detector.toneInProgress == "#")
        #expect(detector.takeDigit() == "#")
        #expect(detector.takeDigit() == nil)
    }
}
