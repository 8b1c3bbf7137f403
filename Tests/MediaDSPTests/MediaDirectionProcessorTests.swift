/// MediaDirectionProcessor: transcoding, repacketising, RTP header rewriting, timelines,
/// telephone-event remapping, malformed input and a seeded fuzz run.
import Foundation
import MediaDSP
import Testing

/// An RTP packet to feed in (RFC 3550 5.1), with the optional header parts a sender may add.
private struct ProcessorTestPacket {
    var marker = false
    var payloadType: UInt8
    var sequence: UInt16
    var timestamp: UInt32
    var ssrc: UInt32 = 0x1122_3344
    var csrcs: [UInt32] = []
    var extensionWords: [UInt32]?
    var padding = 0
    var payload: [UInt8]

    var bytes: [UInt8] {
        var out: [UInt8] = [0x80 | UInt8(csrcs.count) | (extensionWords == nil ? 0 : 0x10) | (padding > 0 ? 0x20 : 0)]
        out.append((marker ? 0x80 : 0) | payloadType)
        out += bigEndian(sequence) + bigEndian(timestamp) + bigEndian(ssrc)
        for csrc in csrcs { out += bigEndian(csrc) }
        if let words = extensionWords {
            out += [0xBE, 0xDE] + bigEndian(UInt16(words.count))
            for word in words { out += bigEndian(word) }
        }
        out += payload
        if padding > 0 { out += [UInt8](repeating: 0, count: padding - 1) + [UInt8(padding)] }
        return out
    }
}

private func bigEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.bigEndian) { Array($0) }
}

/// An emitted packet, parsed.
private struct ProcessorTestOutput {
    let version: UInt8
    let marker: Bool
    let payloadType: UInt8
    let sequence: UInt16
    let timestamp: UInt32
    let ssrc: UInt32
    let payload: [UInt8]

    init(_ bytes: [UInt8]) {
        version = bytes[0] >> 6
        marker = bytes[1] & 0x80 != 0
        payloadType = bytes[1] & 0x7F
        sequence = UInt16(bytes[2]) << 8 | UInt16(bytes[3])
        timestamp = bytes[4..<8].reduce(0) { $0 << 8 | UInt32($1) }
        ssrc = bytes[8..<12].reduce(0) { $0 << 8 | UInt32($1) }
        payload = Array(bytes[12...])
    }
}

private func feed(_ processor: MediaDirectionProcessor, _ packets: [[UInt8]]) -> [ProcessorTestOutput] {
    var emitted: [ProcessorTestOutput] = []
    for packet in packets {
        packet.withUnsafeBytes { raw in
            processor.process(raw) { emitted.append(ProcessorTestOutput(Array($0))) }
        }
    }
    return emitted
}

private func feed(_ processor: MediaDirectionProcessor, _ packets: [ProcessorTestPacket]) -> [ProcessorTestOutput] {
    feed(processor, packets.map(\.bytes))
}

/// Consecutive packets of `samples` (8 kHz) each, in `law`, from sequence 1000 and timestamp `start`.
private func g711Stream(
    _ law: G711.Law, _ samples: [Int16], samplesPerPacket: Int, payloadType: UInt8,
    start: UInt32 = 16_000, ssrc: UInt32 = 0x1122_3344, firstSequence: UInt16 = 1000
) -> [ProcessorTestPacket] {
    stride(from: 0, to: samples.count, by: samplesPerPacket).enumerated().map { index, offset in
        let chunk = samples[offset..<min(offset + samplesPerPacket, samples.count)]
        return ProcessorTestPacket(
            payloadType: payloadType, sequence: firstSequence &+ UInt16(index),
            timestamp: start &+ UInt32(offset), ssrc: ssrc, payload: chunk.map { G711.encode(law, $0) })
    }
}

private func decodeG729Payloads(_ outputs: [ProcessorTestOutput]) throws -> [Int16] {
    let decoder = try G729Decoder()
    var samples: [Int16] = []
    for output in outputs {
        for start in stride(from: 0, to: output.payload.count, by: G729Frame.voiceBytes) {
            let frame = Array(output.payload[start..<min(start + G729Frame.voiceBytes, output.payload.count)])
            samples += decodeTestG729(decoder, frame)
        }
    }
    return samples
}

private func expectContinuousSequence(_ outputs: [ProcessorTestOutput], sourceLocation: SourceLocation = #_sourceLocation) {
    for (previous, next) in zip(outputs, outputs.dropFirst()) {
        #expect(next.sequence == previous.sequence &+ 1, sourceLocation: sourceLocation)
    }
}

private func expectCountersAddUp(_ counters: DirectionCounters, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(counters.processedPackets == counters.audioPackets + counters.eventPackets + counters.droppedMalformed
        + counters.droppedUnknownPayloadType + counters.droppedLate, sourceLocation: sourceLocation)
}

/// Reproducible randomness for the fuzz test (SplitMix64).
private struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct MediaDirectionProcessorTests {
    @Test func pcmaToneBecomesTwentyMillisecondG729() throws {
        let processor = try MediaDirectionProcessor(from: LegMediaFormat(codec: .pcma), to: LegMediaFormat(codec: .g729))
        #expect(!processor.isPassthrough)
        let tone = makeTestSine(frequency: 1000, amplitude: 10000, count: 8000)
        let outputs = feed(processor, g711Stream(.aLaw, tone, samplesPerPacket: 160, payloadType: 8))
        #expect(outputs.count == 50)
        #expect(outputs.allSatisfy { $0.version == 2 && $0.payloadType == 18 && $0.payload.count == 20 })
        #expect(outputs.allSatisfy { $0.ssrc == processor.outputSSRC })
        #expect(outputs.allSatisfy { !$0.marker })
        for (index, output) in outputs.enumerated() {
            #expect(output.timestamp &- outputs[0].timestamp == UInt32(160 * index))
        }
        expectContinuousSequence(outputs)
        #expect(processor.counters.audioPackets == 50)
        #expect(processor.counters.emittedPackets == 50)

        let decoded = try decodeG729Payloads(outputs)[800...]
        let power = testTonePower(decoded, frequency: 1000)
        for other in [440.0, 700.0, 1500.0, 2500.0] {
            #expect(power > 20 * testTonePower(decoded, frequency: other), "1 kHz against \(other) Hz")
        }
    }

    @Test func thirtyMillisecondsInBecomeTwentyOut() throws {
        let processor = try MediaDirectionProcessor(
            from: LegMediaFormat(codec: .pcmu, ptimeMilliseconds: 30), to: LegMediaFormat(codec: .pcma))
        let signal = makeTestSine(frequency: 450, amplitude: 12000, count: 2400)
        let input = g711Stream(.uLaw, signal, samplesPerPacket: 240, payloadType: 0)
        let outputs = feed(processor, input)
        #expect(outputs.count == 15)
        #expect(outputs.allSatisfy { $0.payload.count == 160 && $0.payloadType == 8 })
        expectContinuousSequence(outputs)
        // The PCM the processor saw, and what came out, sample for sample at the mapped time.
        let heard = input.flatMap { $0.payload.map { G711.decodeULaw($0) } }
        for (index, output) in outputs.enumerated() {
            #expect(output.timestamp &- outputs[0].timestamp == UInt32(160 * index))
            for (offset, code) in output.payload.enumerated() {
                let expected = Int(heard[160 * index + offset])
                #expect(abs(Int(G711.decodeALaw(code)) - expected) <= 16 + abs(expected) / 16)
            }
        }
        #expect(processor.counters.audioPackets == 10)
    }

    @Test func markerGoesOnTheFirstPacketCarryingMarkedSamples() throws {
        let processor = try MediaDirectionProcessor(
            from: LegMediaFormat(codec: .pcma), to: LegMediaFormat(codec: .pcma, ptimeMilliseconds: 30))
        var input = g711Stream(.aLaw, makeTestSine(frequency: 300, amplitude: 5000, count: 1440), samplesPerPacket: 160, payloadType: 8)
        input[3].marker = true  // samples 480..<640, which start output packet 2 (480..<720)
        let outputs = feed(processor, input)
        #expect(outputs.count == 6)
        #expect(outputs.map(\.marker) == [false, false, true, false, false, false])
    }

    @Test func senderSSRCChangeKeepsOurSSRCAndTimeline() throws {
        let processor = try MediaDirectionProcessor(
            from: LegMediaFormat(codec: .pcma, ptimeMilliseconds: 30), to: LegMediaFormat(codec: .g729))
        let tone = makeTestSine(frequency: 600, amplitude: 8000, count: 720)
        let first = g711Stream(.aLaw, tone, samplesPerPacket: 240, payloadType: 8, start: 5000, ssrc: 1)
        let second = g711Stream(.aLaw, tone, samplesPerPacket: 240, payloadType: 8, start: 3_000_000_000, ssrc: 2, firstSequence: 7)
        let outputs = feed(processor, first + second)
        #expect(outputs.allSatisfy { $0.ssrc == processor.outputSSRC })
        expectContinuousSequence(outputs)
        // 720 samples: four 20 ms packets, then the old timeline's last 10 ms in a whole packet
        // (silence after it: the far leg gets its ptime), then the new sender's audio right after
        // it in output time.
        let relative = outputs.map { $0.timestamp &- outputs[0].timestamp }
        #expect(relative == [0, 160, 320, 480, 640, 800, 960, 1120, 1280])
        #expect(outputs.map(\.payload.count) == [20, 20, 20, 20, 20, 20, 20, 20, 20])
        #expect(outputs.map(\.marker) == [false, false, false, false, false, true, false, false, false])
    }

    @Test func timestampJumpFlushesWithoutMixingTimelines() throws {
        let processor = try MediaDirectionProcessor(
            from: LegMediaFormat(codec: .pcma, ptimeMilliseconds: 30), to: LegMediaFormat(codec: .g729))
        let tone = makeTestSine(frequency: 600, amplitude: 8000, count: 240)
        var packets = g711Stream(.aLaw, tone, samplesPerPacket: 240, payloadType: 8, start: 0)
        packets.append(ProcessorTestPacket(marker: true, payloadType: 8, sequence: 1001, timestamp: 8000, payload: packets[0].payload))
        // The sender restarts its timestamps backwards: what is left of 8000... cannot go out.
        packets.append(ProcessorTestPacket(payloadType: 8, sequence: 1002, timestamp: 100, payload: packets[0].payload))
        let outputs = feed(processor, packets)
        let relative = outputs.map { $0.timestamp &- outputs[0].timestamp }
        #expect(relative == [0, 160, 8000, 100])
        #expect(outputs.map(\.payload.count) == [20, 20, 20, 20])
        #expect(outputs.map(\.marker) == [false, false, true, false])
        expectContinuousSequence(outputs)

        // A forward jump shorter than the remainder keeps only what fits before the new packet.
        let short = try MediaDirectionProcessor(
            from: LegMediaFormat(codec: .pcma, ptimeMilliseconds: 30), to: LegMediaFormat(codec: .g729))
        let shortOutputs = feed(short, [
            ProcessorTestPacket(payloadType: 8, sequence: 1, timestamp: 0, payload: packets[0].payload),
            ProcessorTestPacket(payloadType: 8, sequence: 2, timestamp: 300, payload: packets[0].payload),
        ])
        #expect(shortOutputs.map { $0.timestamp &- shortOutputs[0].timestamp } == [0, 160, 300])
        #expect(shortOutputs.map(\.payload.count) == [20, 10, 20])
    }

    @Test func flushSendsTheRemainderOnce() throws {
        let processor = try MediaDirectionProcessor(
            from: LegMediaFormat(codec: .pcma, ptimeMilliseconds: 30), to: LegMediaFormat(codec: .g729))
        let packet = g711Stream(.aLaw, makeTestSine(frequency: 600, amplitude: 8000, count: 240), samplesPerPacket: 240, payloadType: 8)
        var outputs = feed(processor, packet)
        processor.flush { outputs.append(ProcessorTestOutput(Array($0))) }
        processor.flush { outputs.append(ProcessorTestOutput(Array($0))) }
        #expect(outputs.map(\.payload.count) == [20, 20], "the remainder goes in a whole packet, silence after it")
        #expect(outputs[1].timestamp &- outputs[0].timestamp == 160)
    }

    @Test func sameFormatIsForwardedUndecoded() throws {
        let format = try LegMediaFormat(codec: .pcmu)
        #expect(!MediaDirectionProcessor.needsProcessing(format, format))
        let processor = try MediaDirectionProcessor(from: format, to: format)
        #expect(processor.isPassthrough)
        let payload = (0..<160).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let packets = [
            ProcessorTestPacket(marker: true, payloadType: 0, sequence: 65535, timestamp: 4_294_967_200, csrcs: [9, 10], payload: payload),
            ProcessorTestPacket(payloadType: 0, sequence: 0, timestamp: 64, extensionWords: [0xAABB_CCDD], payload: payload),
            ProcessorTestPacket(payloadType: 0, sequence: 1, timestamp: 1224, padding: 3, payload: payload),
        ]
        let outputs = feed(processor, packets)
        #expect(outputs.count == 3)
        #expect(outputs.allSatisfy { $0.payload == payload && $0.payloadType == 0 && $0.ssrc == processor.outputSSRC })
        #expect(outputs.map(\.marker) == [true, false, false])
        // The 1000-sample gap the sender left stays a gap.
        #expect(outputs.map { $0.timestamp &- outputs[0].timestamp } == [0, 160, 1320])
        expectContinuousSequence(outputs)

        let annexB = try LegMediaFormat(codec: .g729, annexB: true)
        let plain = try LegMediaFormat(codec: .g729)
        #expect(try MediaDirectionProcessor(from: annexB, to: annexB).isPassthrough)
        #expect(try MediaDirectionProcessor(from: plain, to: annexB).isPassthrough)
        #expect(try !MediaDirectionProcessor(from: annexB, to: plain).isPassthrough)
        #expect(try !MediaDirectionProcessor(from: format, to: format, options: .init(voiceGainDecibels: 3)).isPassthrough)
    }

    @Test func telephoneEventsAreRemappedAndFiltered() throws {
        let from = try LegMediaFormat(codec: .pcma, telephoneEventPayloadType: 101)
        let to = try LegMediaFormat(codec: .g729, telephoneEventPayloadType: 105, telephoneEventRange: 0...15)
        let processor = try MediaDirectionProcessor(from: from, to: to)
        var packets = g711Stream(.aLaw, makeTestSine(frequency: 500, amplitude: 6000, count: 320), samplesPerPacket: 160, payloadType: 8, start: 1000)
        // Digit 5 starting at 1320: three updates, then the end packet three times.
        for (index, duration) in [160, 320, 480, 640, 640, 640].enumerated() {
            let end: UInt8 = index >= 3 ? 0x80 : 0
            packets.append(ProcessorTestPacket(
                marker: index == 0, payloadType: 101, sequence: 1002 + UInt16(index), timestamp: 1320,
                payload: [5, end | 10] + bigEndian(UInt16(duration))))
        }
        // Flash (16) is outside the far leg's 0-15.
        packets.append(ProcessorTestPacket(payloadType: 101, sequence: 1008, timestamp: 2600, payload: [16, 0x80 | 10, 0, 160]))
        let outputs = feed(processor, packets)
        let audio = outputs.filter { $0.payloadType == 18 }
        let events = outputs.filter { $0.payloadType == 105 }
        #expect(audio.count == 2)
        #expect(events.count == 6)
        let offset = audio[0].timestamp &- 1000
        #expect(events.allSatisfy { $0.timestamp == 1320 &+ offset && $0.ssrc == processor.outputSSRC })
        #expect(events.map(\.marker) == [true, false, false, false, false, false])
        #expect(events.map(\.payload) == packets[2...7].map(\.payload))
        expectContinuousSequence(outputs)
        #expect(processor.counters.eventPackets == 7)
        #expect(processor.counters.droppedEvents == 1)
        let last = try #require(processor.lastEvent)
        #expect(last.code == 16 && last.end && last.duration == 160 && last.timestamp == 2600)

        // A far leg without telephone-event gets none.
        let silent = try MediaDirectionProcessor(from: from, to: LegMediaFormat(codec: .pcma))
        #expect(feed(silent, Array(packets[2...7])).isEmpty)
        #expect(silent.counters.droppedEvents == 6)
        #expect(silent.lastEvent?.code == 5)
    }

    @Test func malformedPacketsAreDroppedAndCounted() throws {
        let from = try LegMediaFormat(codec: .pcma, telephoneEventPayloadType: 101)
        let to = try LegMediaFormat(codec: .g729, telephoneEventPayloadType: 101)
        let audio = [UInt8](repeating: 0xD5, count: 160)
        let valid = ProcessorTestPacket(payloadType: 8, sequence: 1, timestamp: 0, payload: audio).bytes
        var malformed: [(String, [UInt8])] = [
            ("empty", []),
            ("11 bytes", Array(valid.prefix(11))),
            ("version 0", [0x00] + valid.dropFirst()),
            ("version 1", [0x40] + valid.dropFirst()),
            ("version 3", [0xC0] + valid.dropFirst()),
            ("15 CSRCs in 32 bytes", [0x8F] + valid.dropFirst().prefix(31)),
            ("extension header cut", [0x90] + valid.dropFirst().prefix(13)),
            ("extension longer than packet", Array(ProcessorTestPacket(payloadType: 8, sequence: 1, timestamp: 0, extensionWords: [], payload: audio).bytes.enumerated().map { $0.offset == 15 ? 200 : $0.element })),
            ("padding longer than packet", [0xA0] + valid.dropFirst().dropLast() + [255]),
            ("padding count 0", [0xA0] + valid.dropFirst().dropLast() + [0]),
            ("G.711 without payload", Array(valid.prefix(12))),
            ("G.711 payload all padding", ProcessorTestPacket(payloadType: 8, sequence: 1, timestamp: 0, padding: 4, payload: []).bytes),
        ]
        for length in [0, 3, 5, 6] {
            malformed.append(("event payload of \(length) bytes", ProcessorTestPacket(payloadType: 101, sequence: 1, timestamp: 0, payload: Array(repeating: 1, count: length)).bytes))
        }
        for (name, bytes) in malformed {
            let processor = try MediaDirectionProcessor(from: from, to: to)
            #expect(feed(processor, [bytes]).isEmpty, "\(name)")
            #expect(processor.counters.droppedMalformed == 1, "\(name)")
            #expect(processor.counters.processedPackets == 1, "\(name)")
        }

        let g729 = try LegMediaFormat(codec: .g729)
        for length in [0, 1, 3, 9, 11, 13, 21, 24] {
            let processor = try MediaDirectionProcessor(from: g729, to: try LegMediaFormat(codec: .pcmu))
            _ = feed(processor, [ProcessorTestPacket(payloadType: 18, sequence: 1, timestamp: 0, payload: Array(repeating: 0x33, count: length))])
            #expect(processor.counters.droppedMalformed == 1, "G.729 payload of \(length) bytes")
        }
        for length in [2, 10, 12, 20, 22] {
            let processor = try MediaDirectionProcessor(from: g729, to: try LegMediaFormat(codec: .pcmu))
            _ = feed(processor, [ProcessorTestPacket(payloadType: 18, sequence: 1, timestamp: 0, payload: Array(repeating: 0x33, count: length))])
            #expect(processor.counters.audioPackets == 1, "G.729 payload of \(length) bytes")
        }

        let processor = try MediaDirectionProcessor(from: from, to: to)
        _ = feed(processor, [
            ProcessorTestPacket(payloadType: 0, sequence: 1, timestamp: 0, payload: audio),
            ProcessorTestPacket(payloadType: 13, sequence: 2, timestamp: 0, payload: [40]),
            ProcessorTestPacket(payloadType: 8, sequence: 3, timestamp: 0, csrcs: [1, 2, 3], extensionWords: [7, 8], padding: 5, payload: audio),
        ])
        #expect(processor.counters.droppedUnknownPayloadType == 2)
        #expect(processor.counters.audioPackets == 1)
        #expect(processor.counters.emittedPackets == 1)
        expectCountersAddUp(processor.counters)
    }

    @Test func duplicatesAndLatePacketsAreDropped() throws {
        let format = try LegMediaFormat(codec: .pcma)
        let processor = try MediaDirectionProcessor(from: format, to: format)
        let payload = [UInt8](repeating: 0xD5, count: 160)
        let order: [UInt16] = [1, 2, 3, 2, 1, 4]
        let outputs = feed(processor, order.map { ProcessorTestPacket(payloadType: 8, sequence: $0, timestamp: UInt32($0) * 160, payload: payload) })
        #expect(outputs.count == 4)
        #expect(processor.counters.droppedLate == 2)

        // A sender that restarts its numbering 15 behind, same SSRC, is followed after 8 refusals.
        let restarted = try MediaDirectionProcessor(from: format, to: format)
        let sequences = Array(UInt16(100)...110) + Array(UInt16(96)...115)
        let restartedOutputs = feed(restarted, sequences.enumerated().map { ProcessorTestPacket(payloadType: 8, sequence: $1, timestamp: UInt32($0) * 160, payload: payload) })
        #expect(restarted.counters.droppedLate == 8)
        #expect(restartedOutputs.count == sequences.count - 8)
        expectCountersAddUp(restarted.counters)
    }

    @Test func shortG729LossIsConcealed() throws {
        let samples = makeTestSine(frequency: 800, amplitude: 8000, count: 3200)
        let frames = encodeTestG729(try G729Encoder(), samples)
        let packets: [ProcessorTestPacket] = stride(from: 0, to: frames.count, by: 2).map { (index: Int) -> ProcessorTestPacket in
            let payload: [UInt8] = frames[index] + frames[index + 1]
            return ProcessorTestPacket(payloadType: 18, sequence: UInt16(index / 2), timestamp: UInt32(index * 80), payload: payload)
        }
        var lossy = packets
        lossy.remove(at: 5)
        let processor = try MediaDirectionProcessor(from: LegMediaFormat(codec: .g729), to: LegMediaFormat(codec: .pcmu))
        let outputs = feed(processor, lossy)
        #expect(processor.counters.concealedFrames == 2)
        #expect(outputs.count == packets.count)
        let relative: [UInt32] = outputs.map { $0.timestamp &- outputs[0].timestamp }
        let expected: [UInt32] = (0..<packets.count).map { UInt32($0 * 160) }
        #expect(relative == expected)

        // A marked packet after the gap is a new talk spurt, not a loss.
        lossy[5].marker = true
        let spurt = try MediaDirectionProcessor(from: LegMediaFormat(codec: .g729), to: LegMediaFormat(codec: .pcmu))
        let spurtOutputs = feed(spurt, lossy)
        #expect(spurt.counters.concealedFrames == 0)
        #expect(spurtOutputs.count == lossy.count)
        #expect(spurtOutputs[5].timestamp &- spurtOutputs[4].timestamp == 320)
        #expect(spurtOutputs[5].marker)

        // Nor when the sender paused audio for a telephone event.
        var paused = packets
        paused[5] = ProcessorTestPacket(payloadType: 101, sequence: 5, timestamp: 800, payload: [1, 0x80, 0, 160])
        let eventFormat = try LegMediaFormat(codec: .g729, telephoneEventPayloadType: 101)
        let afterEvent = try MediaDirectionProcessor(from: eventFormat, to: LegMediaFormat(codec: .pcmu))
        _ = feed(afterEvent, paused)
        #expect(afterEvent.counters.concealedFrames == 0)
        #expect(afterEvent.counters.eventPackets == 1)
    }

    @Test func voiceGainScalesAndSaturates() throws {
        let format = try LegMediaFormat(codec: .pcma)
        let louder = try MediaDirectionProcessor(from: format, to: format, options: .init(voiceGainDecibels: 6))
        let quiet = makeTestSine(frequency: 400, amplitude: 4000, count: 800)
        let quietInput = g711Stream(.aLaw, quiet, samplesPerPacket: 160, payloadType: 8)
        let amplified = feed(louder, quietInput).flatMap { $0.payload.map(G711.decodeALaw) }
        let heard = quietInput.flatMap { $0.payload.map(G711.decodeALaw) }
        #expect(amplified.count == heard.count)
        for (out, original) in zip(amplified, heard) {
            let expected = Double(original) * 1.9953
            #expect(abs(Double(out) - expected) <= 8 + abs(expected) / 16)
        }

        let loudest = try MediaDirectionProcessor(from: format, to: format, options: .init(voiceGainDecibels: 10))
        let loud = makeTestSine(frequency: 400, amplitude: 30000, count: 800)
        let loudInput = g711Stream(.aLaw, loud, samplesPerPacket: 160, payloadType: 8)
        let clipped = feed(loudest, loudInput).flatMap { $0.payload.map(G711.decodeALaw) }
        let loudHeard = loudInput.flatMap { $0.payload.map(G711.decodeALaw) }
        for (out, original) in zip(clipped, loudHeard) where abs(Int(original)) > 11000 {
            // Past full scale the sample sticks at the top code instead of wrapping sign.
            #expect(abs(Int(out)) == 32256 && (out > 0) == (original > 0))
        }

        for bad in [10.5, -11, Double.nan] {
            #expect(throws: MediaDSPError.self) { try MediaDirectionProcessor(from: format, to: format, options: .init(voiceGainDecibels: bad)) }
        }
    }

    @Test func annexBOutputSendsSIDAndMarksTalkSpurts() throws {
        let processor = try MediaDirectionProcessor(from: LegMediaFormat(codec: .pcma), to: LegMediaFormat(codec: .g729, annexB: true))
        let speech = makeTestSine(frequency: 700, amplitude: 8000, count: 3200)
        let signal = speech + [Int16](repeating: 0, count: 8000) + makeTestSine(frequency: 700, amplitude: 8000, count: 3200, start: 11200)
        let input = g711Stream(.aLaw, signal, samplesPerPacket: 160, payloadType: 8)
        let outputs = feed(processor, input)
        #expect(outputs.count < input.count)
        #expect(outputs.allSatisfy { $0.payload.count % 10 == 0 || $0.payload.count % 10 == 2 })
        #expect(outputs.contains { $0.payload.count % 10 == 2 })
        expectContinuousSequence(outputs)
        // The first voice packet after the silence starts a talk spurt.
        let start = outputs[0].timestamp
        let resumed = try #require(outputs.first(where: { $0.timestamp &- start >= 11200 && $0.payload.count >= 10 }))
        #expect(resumed.marker)
    }

    @Test func randomBytesNeverCrashAndCountersAddUp() throws {
        var random = SeededGenerator(state: 0x5EED_1234)
        let g729B = try LegMediaFormat(codec: .g729, ptimeMilliseconds: 30, telephoneEventPayloadType: 101, annexB: true)
        let pcma = try LegMediaFormat(codec: .pcma, telephoneEventPayloadType: 96)
        let pcmu = try LegMediaFormat(codec: .pcmu)
        let processors = [
            try MediaDirectionProcessor(from: g729B, to: pcma),
            try MediaDirectionProcessor(from: pcma, to: g729B, options: .init(voiceGainDecibels: -4)),
            try MediaDirectionProcessor(from: pcmu, to: pcmu),
        ]
        let payloadTypes: [UInt8] = [0, 8, 18, 96, 101, 13]
        var sequence: UInt16 = 0
        var timestamp: UInt32 = 0
        for round in 0..<10_000 {
            // Half plausible (valid payload sizes among them), half any length.
            let length = round % 2 == 0
                ? 12 + [0, 2, 4, 10, 20, 22, 30, 160, 240, 7].randomElement(using: &random)!
                : Int.random(in: 0...300, using: &random)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            if round % 2 == 0 {
                // Plausible headers reach deeper: version 2, known types, mostly advancing counters.
                // Mostly a bare header; sometimes random CSRC, extension and padding bits.
                bytes[0] = 0x80 | (bytes[2] < 32 ? bytes[0] & 0x3F : 0)
                bytes[1] = (bytes[1] & 0x80) | payloadTypes.randomElement(using: &random)!
                sequence &+= UInt16.random(in: 0...3, using: &random) &- 1
                timestamp &+= [0, 80, 160, 240, 8000, 123].randomElement(using: &random)!
                bytes.replaceSubrange(2..<8, with: bigEndian(sequence) + bigEndian(timestamp))
                if bytes[8] > 30 { bytes.replaceSubrange(8..<12, with: bigEndian(UInt32(7))) }
            }
            for processor in processors {
                var emitted: [[UInt8]] = []
                bytes.withUnsafeBytes { raw in processor.process(raw) { emitted.append(Array($0)) } }
                for packet in emitted {
                    #expect(packet.count >= 12 && packet[0] == 0x80)
                    let output = ProcessorTestOutput(packet)
                    #expect(output.ssrc == processor.outputSSRC)
                    #expect(output.payloadType == processor.to.payloadType || output.payloadType == processor.to.telephoneEventPayloadType)
                }
            }
        }
        for processor in processors {
            #expect(processor.counters.processedPackets == 10_000)
            expectCountersAddUp(processor.counters)
            #expect(processor.counters.audioPackets > 300, "\(processor.counters)")
            #expect(processor.counters.emittedPackets > 100, "\(processor.counters)")
        }
    }

    @Test func needsProcessingOnlyWhenARelayWouldChangeMeaning() throws {
        let base = try LegMediaFormat(codec: .pcma, telephoneEventPayloadType: 101)
        #expect(!MediaDirectionProcessor.needsProcessing(base, base))
        #expect(MediaDirectionProcessor.needsProcessing(base, try LegMediaFormat(codec: .pcmu, telephoneEventPayloadType: 101)))
        #expect(MediaDirectionProcessor.needsProcessing(base, try LegMediaFormat(codec: .pcma, ptimeMilliseconds: 30, telephoneEventPayloadType: 101)))
        #expect(MediaDirectionProcessor.needsProcessing(base, try LegMediaFormat(codec: .pcma, telephoneEventPayloadType: 100)))
        #expect(MediaDirectionProcessor.needsProcessing(base, try LegMediaFormat(codec: .pcma)))
        #expect(MediaDirectionProcessor.needsProcessing(base, try LegMediaFormat(codec: .pcma, telephoneEventPayloadType: 101, telephoneEventRange: 0...15)))
        #expect(!MediaDirectionProcessor.needsProcessing(try LegMediaFormat(codec: .pcma), base))
        let g729 = try LegMediaFormat(codec: .g729, payloadType: 18)
        let g729B = try LegMediaFormat(codec: .g729, annexB: true)
        #expect(MediaDirectionProcessor.needsProcessing(g729B, g729))
        #expect(!MediaDirectionProcessor.needsProcessing(g729, g729B))
        #expect(MediaDirectionProcessor.needsProcessing(try LegMediaFormat(codec: .g729, payloadType: 97), g729))
    }
}
