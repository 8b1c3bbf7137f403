/// Test tones for media tests: a sine at 8 kHz, RTP packets of encoded 20 ms frames and a pcap of
/// them for sipp to play, and a Goertzel measure to tell which tone a decoded stream carries.
import Foundation

public enum ToneSignal {
    /// The narrowband RTP clock: every codec under test samples at 8 kHz.
    public static let sampleRate = 8000
    /// Samples in one 20 ms packet.
    public static let samplesPerPacket = 160

    /// `milliseconds` of a sine at `frequency` Hz with peak `amplitude`, as 16-bit PCM.
    public static func tone(frequency: Double, milliseconds: Int, amplitude: Double = 8000) -> [Int16] {
        let count = milliseconds * sampleRate / 1000
        let step = 2 * Double.pi * frequency / Double(sampleRate)
        return (0..<count).map { Int16(clamping: Int((amplitude * sin(step * Double($0))).rounded())) }
    }

    /// `samples` cut into consecutive chunks of `size` (the last one may be shorter).
    public static func chunks<T>(_ samples: [T], of size: Int) -> [[T]] {
        stride(from: 0, to: samples.count, by: size).map { Array(samples[$0..<min($0 + size, samples.count)]) }
    }

    /// One RTP packet per payload, each 20 ms (160 timestamp units) after the one before, with the
    /// marker on the first as a talkspurt starts.
    public static func rtpPackets(_ payloads: [[UInt8]], payloadType: UInt8, ssrc: UInt32 = 0x5EED_0001,
                                  firstSequence: UInt16 = 1000, firstTimestamp: UInt32 = 16000) -> [RTPPacket] {
        payloads.enumerated().map { index, payload in
            RTPPacket(payloadType: payloadType, marker: index == 0,
                      sequenceNumber: firstSequence &+ UInt16(truncatingIfNeeded: index),
                      timestamp: firstTimestamp &+ UInt32(truncatingIfNeeded: index * samplesPerPacket),
                      ssrc: ssrc, payload: payload)
        }
    }

    /// The packets as datagrams 20 ms apart. sipp's `play_pcap_audio` replaces the addresses and
    /// ports, so the ones here only need to be consistent (one destination port).
    public static func datagrams(_ packets: [RTPPacket], start: Double = 1_700_000_000,
                                 from source: (ip: String, port: Int) = ("10.0.0.1", 6000),
                                 to destination: (ip: String, port: Int) = ("10.0.0.2", 6000)) -> [UDPDatagram] {
        packets.enumerated().map { index, packet in
            UDPDatagram(timestamp: start + Double(index) * Double(samplesPerPacket) / Double(sampleRate),
                        sourceIP: source.ip, sourcePort: source.port,
                        destinationIP: destination.ip, destinationPort: destination.port, payload: packet.bytes)
        }
    }

    /// Writes `packets` as a pcap for `play_pcap_audio` and returns how long it plays, in ms.
    @discardableResult
    public static func writePcap(_ packets: [RTPPacket], to path: String) throws -> Int {
        try PcapFile.write(datagrams(packets), to: path)
        return packets.count * samplesPerPacket * 1000 / sampleRate
    }

    // MARK: Analysis

    /// The amplitude of the `frequency` component of `samples` (Goertzel): a full-scale sine of peak
    /// A measures about A, whatever the length of the block.
    public static func amplitude(of samples: ArraySlice<Int16>, at frequency: Double) -> Double {
        guard !samples.isEmpty else { return 0 }
        let coefficient = 2 * cos(2 * Double.pi * frequency / Double(sampleRate))
        var previous = 0.0, beforePrevious = 0.0
        for sample in samples {
            let current = Double(sample) + coefficient * previous - beforePrevious
            beforePrevious = previous
            previous = current
        }
        let power = previous * previous + beforePrevious * beforePrevious - coefficient * previous * beforePrevious
        return 2 * max(0, power).squareRoot() / Double(samples.count)
    }

    /// How far `expected` stands above `other` in `samples`, in dB (+inf when `other` is absent).
    public static func dominance(of expected: Double, over other: Double, in samples: ArraySlice<Int16>) -> Double {
        let wanted = amplitude(of: samples, at: expected), unwanted = amplitude(of: samples, at: other)
        return 20 * log10(max(wanted, 1e-9) / max(unwanted, 1e-9))
    }

    /// One measurement per consecutive `milliseconds` window of `samples` (whole windows only).
    public struct Window: Sendable, CustomStringConvertible {
        /// Where the window starts in the stream, in ms.
        public let startMilliseconds: Int
        public let expectedAmplitude: Double
        public let otherAmplitude: Double
        public var decibels: Double { 20 * log10(max(expectedAmplitude, 1e-9) / max(otherAmplitude, 1e-9)) }
        public var description: String {
            String(format: "%d ms: %.0f vs %.0f (%.1f dB)", startMilliseconds, expectedAmplitude, otherAmplitude, decibels)
        }
    }

    public static func windows(_ samples: [Int16], expected: Double, other: Double, milliseconds: Int = 200) -> [Window] {
        let size = milliseconds * sampleRate / 1000
        guard size > 0 else { return [] }
        return stride(from: 0, through: samples.count - size, by: size).map { start in
            let block = samples[start..<start + size]
            return Window(startMilliseconds: start * 1000 / sampleRate,
                          expectedAmplitude: amplitude(of: block, at: expected), otherAmplitude: amplitude(of: block, at: other))
        }
    }
}
