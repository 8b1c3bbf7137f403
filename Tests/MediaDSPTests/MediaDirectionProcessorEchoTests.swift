/// MediaDirectionProcessor echo cancellation across a paired session, and comfort noise.
/// Helpers are in MediaDirectionProcessorDTMFTests.swift.
import Foundation
import MediaDSP
import Testing

/// Deterministic speech-band noise (LCG through a gentle low-pass).
private func speechLikeNoise(count: Int, seed: UInt32 = 12345, amplitude: Double = 6000) -> [Int16] {
    var state = seed
    var smoothed = 0.0
    return (0..<count).map { _ in
        state = state &* 1_664_525 &+ 1_013_904_223
        let white = Double(Int32(bitPattern: state) >> 16) / 32768
        smoothed = 0.6 * smoothed + 0.4 * white
        return Int16(max(-32767, min(32767, smoothed * amplitude * 2)))
    }
}

private func decibels(_ ratio: Double) -> Double { 10 * log10(ratio) }

@Suite struct MediaDirectionProcessorEchoTests {
    /// Leg A talks; leg B's far end echoes what it hears 40 ms later at -10 dB. The B->A
    /// direction cancels it, using what A->B sent as reference.
    @Test(arguments: [64, 128])
    func echoOfWhatWasSentIsReducedAfterConvergence(tailMilliseconds: Int) throws {
        let legA = try LegMediaFormat(codec: .pcma)
        let legB = try LegMediaFormat(codec: .pcmu)
        let options = DecodedLegOptions(echoCancelTailMilliseconds: tailMilliseconds)
        let towardsB = try MediaDirectionProcessor(from: legA, to: legB, options: options)
        let fromB = try MediaDirectionProcessor(from: legB, to: legA, options: options)
        towardsB.pair(with: fromB)
        let uncancelled = try MediaDirectionProcessor(from: legB, to: legA)

        let seconds = 6
        let speech = speechLikeNoise(count: 8000 * seconds)
        let delay = 320
        var sentToB: [Int16] = []
        var cleaned: [Int16] = []
        var echoed: [Int16] = []
        for index in 0..<(8000 * seconds / 160) {
            let now = testEpoch + UInt64(index) * 20 * milliseconds
            let fromA = RTPTestPacket(payloadType: 8, sequence: UInt16(index), timestamp: UInt32(index * 160), ssrc: 1,
                                      payload: speech[(index * 160)..<(index * 160 + 160)].map(G711.encodeALaw))
            fromA.bytes.withUnsafeBytes { raw in
                towardsB.process(raw, now: now) { sentToB += Array($0[12...]).map(G711.decodeULaw) }
            }
            // B's far end: what it received, delayed and attenuated.
            let echo: [Int16] = (index * 160..<index * 160 + 160).map { $0 >= delay ? Int16(Double(sentToB[$0 - delay]) * 0.3) : 0 }
            let back = RTPTestPacket(payloadType: 0, sequence: UInt16(index), timestamp: UInt32(50_000 + index * 160), ssrc: 2,
                                     payload: echo.map(G711.encodeULaw))
            echoed += back.payload.map(G711.decodeULaw)
            back.bytes.withUnsafeBytes { raw in
                fromB.process(raw, now: now + milliseconds) { cleaned += Array($0[12...]).map(G711.decodeALaw) }
                uncancelled.process(raw, now: now + milliseconds) { _ in }
            }
            towardsB.tick(now: now + 10 * milliseconds) { _ in }
            fromB.tick(now: now + 10 * milliseconds) { _ in }
        }
        #expect(cleaned.count == echoed.count)
        let window = (cleaned.count - 16000)..<cleaned.count
        let reduction = decibels(meanPower(echoed[window]) / max(meanPower(cleaned[window]), 1))
        #expect(reduction >= 15, "echo reduced by only \(reduction) dB")
        // Early on (before convergence) it is not.
        #expect(decibels(meanPower(echoed[400..<1600]) / max(meanPower(cleaned[400..<1600]), 1)) < reduction - 5)

        // Without pairing there is no reference: nothing is cancelled.
        let unpaired = try MediaDirectionProcessor(from: legB, to: legA, options: options)
        var passed: [Int16] = []
        for index in 0..<50 {
            let back = RTPTestPacket(payloadType: 0, sequence: UInt16(index), timestamp: UInt32(index * 160), ssrc: 2,
                                     payload: Array(echoed[(index * 160)..<(index * 160 + 160)]).map(G711.encodeULaw))
            back.bytes.withUnsafeBytes { raw in
                unpaired.process(raw, now: testEpoch + UInt64(index) * 20 * milliseconds) { passed += Array($0[12...]).map(G711.decodeALaw) }
            }
        }
        #expect(abs(decibels(meanPower(passed[...]) / meanPower(echoed[0..<8000]))) < 1)
    }

    @Test func echoCancellerTailIsValidated() throws {
        let format = try LegMediaFormat(codec: .pcma)
        #expect(throws: MediaDSPError.self) {
            try MediaDirectionProcessor(from: format, to: format, options: .init(echoCancelTailMilliseconds: 512))
        }
        #expect(try !MediaDirectionProcessor(from: format, to: format, options: .init(echoCancelTailMilliseconds: 64)).isPassthrough)
    }

    @Test func comfortNoiseFillsInputPausesTowardsG711() throws {
        let tone = makeTestSine(frequency: 450, amplitude: 6000, count: 4000)
        // 0.5 s of tone, 1 s of nothing (the sender's clock runs on), 0.5 s of tone.
        let arrivals = sequenced(
            g711Arrivals(.aLaw, tone, payloadType: 8)
                + g711Arrivals(.aLaw, tone, payloadType: 8, firstTimestamp: 16_000 + 12_000, startTime: testEpoch + 1500 * milliseconds))
        let processor = try MediaDirectionProcessor(
            from: LegMediaFormat(codec: .pcma), to: LegMediaFormat(codec: .pcmu), options: .init(comfortNoise: true))
        let out = drive(processor, arrivals: arrivals, until: testEpoch + 2200 * milliseconds).packets
        let noise = out.filter { $0.time > testEpoch + 500 * milliseconds && $0.time < testEpoch + 1500 * milliseconds }
        let lastNoise = try #require(noise.last)
        // Starts 60 ms after the last packet's audio ran out, then a packet every 20 ms.
        #expect(noise.count >= 44)
        #expect(noise.first?.marker == true)
        #expect(noise.dropFirst().allSatisfy { !$0.marker })
        #expect(zip(noise, noise.dropFirst()).allSatisfy { $1.timestamp == $0.timestamp &+ 160 })
        for packet in noise {
            let power = meanPower(packet.payload.map(G711.decodeULaw)[...])
            #expect(power > 1 && power < 2500, "noise power \(power)")
        }
        // Voice takes over again on a new talk spurt, after the noise (whose packet under way is
        // completed as the voice arrives) in time.
        let resumedIndex = try #require(out.firstIndex { $0.time >= testEpoch + 1500 * milliseconds && $0.marker })
        let resumed = out[resumedIndex]
        #expect(resumed.time == testEpoch + 1500 * milliseconds)
        #expect(Int32(bitPattern: resumed.timestamp &- lastNoise.timestamp) >= 160)
        #expect(out.allSatisfy { $0.payload.count == 160 })
        let voice = out[resumedIndex...].filter { $0.time <= testEpoch + 1980 * milliseconds }
        #expect(voice.count == 25)
        #expect(testTonePower(voice.flatMap { $0.payload.map(G711.decodeULaw) }[...], frequency: 450) > 1_000_000)
        // Noise again once the voice stops.
        #expect(out.contains { $0.time > testEpoch + 2060 * milliseconds })
        #expect(zip(out, out.dropFirst()).allSatisfy { Int32(bitPattern: $1.timestamp &- $0.timestamp) >= Int32($0.payload.count) })
        #expect(zip(out, out.dropFirst()).allSatisfy { $1.sequence == $0.sequence &+ 1 })
        #expect(processor.counters.comfortNoiseFrames >= 88)
        // The gap keeps its length in output time: the voice resumes about 1 s after it paused.
        let paused = try #require(out.last { $0.time < testEpoch + 500 * milliseconds })
        #expect(abs(Int(resumed.timestamp &- paused.timestamp) - 8000 - 160) <= 320)

        // Without comfort noise the pause stays silent; towards G.729, comfort noise is ignored.
        for (to, comfortNoise) in [(try LegMediaFormat(codec: .pcmu), false), (try LegMediaFormat(codec: .g729), true)] {
            let quiet = try MediaDirectionProcessor(from: LegMediaFormat(codec: .pcma), to: to, options: .init(comfortNoise: comfortNoise))
            let quietOut = drive(quiet, arrivals: arrivals, until: testEpoch + 2200 * milliseconds).packets
            #expect(!quietOut.contains { $0.time > testEpoch + 520 * milliseconds && $0.time < testEpoch + 1500 * milliseconds })
            #expect(quiet.counters.comfortNoiseFrames == 0)
        }
    }

    @Test func comfortNoiseFollowsTheSIDLevelOfAnAnnexBSender() throws {
        // A G.729 annex B sender: speech, then silence sent as SID frames and nothing.
        let encoder = try G729Encoder(annexB: true)
        let background = speechLikeNoise(count: 8000 * 2, amplitude: 300)
        let speech = makeTestSine(frequency: 600, amplitude: 8000, count: 4000)
        var signal = speech + background
        for index in 0..<speech.count { signal[index] = Int16(clamping: Int(signal[index]) + Int(background[index])) }
        let frames = encodeTestG729(encoder, signal)
        // One 10 ms frame a packet; untransmitted frames send nothing.
        let arrivals: [(time: UInt64, packet: RTPTestPacket)] = frames.enumerated().compactMap { index, frame in
            frame.isEmpty ? nil : (testEpoch + UInt64(index) * 10 * milliseconds,
                                   RTPTestPacket(payloadType: 18, timestamp: UInt32(index * 80), payload: frame))
        }
        let sidPackets = arrivals.filter { $0.packet.payload.count % 10 == 2 }
        #expect(!sidPackets.isEmpty)
        let processor = try MediaDirectionProcessor(
            from: LegMediaFormat(codec: .g729, annexB: true), to: LegMediaFormat(codec: .pcma), options: .init(comfortNoise: true))
        let out = drive(processor, arrivals: sequenced(arrivals), until: testEpoch + 2600 * milliseconds).packets
        #expect(processor.counters.comfortNoiseFrames > 100)
        // The output never stops during the silence, and never overlaps itself.
        let late = out.filter { $0.time > testEpoch + 800 * milliseconds }
        #expect(zip(late, late.dropFirst()).allSatisfy { $1.time - $0.time <= 80 * milliseconds })
        #expect(zip(out, out.dropFirst()).allSatisfy { Int32(bitPattern: $1.timestamp &- $0.timestamp) >= Int32($0.payload.count) })
        // Level: near the background's, far below the speech.
        let noisePower = meanPower(late.flatMap { $0.payload.map(G711.decodeALaw) }[...])
        let backgroundPower = meanPower(background[...])
        #expect(noisePower < 10 * backgroundPower && noisePower > backgroundPower / 30,
                "noise \(noisePower) against background \(backgroundPower)")
    }
}
