import Testing
import VOSTestSupport
@testable import MediaRelay

/// Hand-built RTCP (RFC 3550 §6.4) for the parser.
enum RTCPBytes {
    struct Block {
        var ssrc: UInt32
        var fractionLost: UInt8 = 0
        var cumulativeLost: Int32 = 0
        var highest: UInt32 = 0
        var jitter: UInt32 = 0
        var lastSR: UInt32 = 0
        var delaySinceLastSR: UInt32 = 0

        var bytes: [UInt8] {
            let lost = UInt32(bitPattern: cumulativeLost) & 0xFF_FFFF
            return word(ssrc) + [fractionLost, UInt8(lost >> 16), UInt8(lost >> 8 & 0xFF), UInt8(lost & 0xFF)]
                + word(highest) + word(jitter) + word(lastSR) + word(delaySinceLastSR)
        }
    }

    static func word(_ value: UInt32) -> [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }

    /// A packet of `type` with `count` in the header and `body` after it (a multiple of 4 bytes).
    static func packet(type: UInt8, count: Int, _ body: [UInt8]) -> [UInt8] {
        precondition(body.count % 4 == 0)
        let words = body.count / 4
        return [0x80 | UInt8(count), type, UInt8(words >> 8), UInt8(words & 0xFF)] + body
    }

    static func senderReport(ssrc: UInt32, ntpSeconds: UInt32, ntpFraction: UInt32, blocks: [Block] = []) -> [UInt8] {
        packet(type: 200, count: blocks.count,
               word(ssrc) + word(ntpSeconds) + word(ntpFraction) + word(160_000) + word(1000) + word(160_000) + blocks.flatMap(\.bytes))
    }

    static func receiverReport(ssrc: UInt32, blocks: [Block]) -> [UInt8] {
        packet(type: 201, count: blocks.count, word(ssrc) + blocks.flatMap(\.bytes))
    }

    /// SDES with one CNAME item.
    static func description(ssrc: UInt32, cname: String) -> [UInt8] {
        var chunk = word(ssrc) + [1, UInt8(cname.utf8.count)] + Array(cname.utf8) + [0]
        while chunk.count % 4 != 0 { chunk.append(0) }
        return packet(type: 202, count: 1, chunk)
    }

    static func bye(ssrc: UInt32) -> [UInt8] { packet(type: 203, count: 1, word(ssrc)) }
}

@Suite struct RTCPReportTests {
    static func parse(_ bytes: [UInt8], preferring ssrc: UInt32? = nil) -> RTCPReport? {
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return nil }
            return RTCPReport.parse(base, length: buffer.count, preferring: ssrc)
        }
    }

    static func multiplexed(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { RTCPReport.isMultiplexedRTCP($0.baseAddress!, length: $0.count) }
    }

    static let block = RTCPBytes.Block(ssrc: 0xB0B, fractionLost: 5, cumulativeLost: 42, highest: 0x1_0010, jitter: 240,
                                       lastSR: 0x1234_5678, delaySinceLastSR: 0x0001_8000)

    @Test func readsASenderReportWithItsBlock() throws {
        let report = try #require(Self.parse(RTCPBytes.senderReport(ssrc: 0xA11CE, ntpSeconds: 0xE000_1234, ntpFraction: 0x5678_9ABC,
                                                                    blocks: [Self.block])))
        #expect(report.senderSSRC == 0xA11CE)
        // Middle 32 bits: low half of the seconds, high half of the fraction.
        #expect(report.senderNTPMiddle == 0x1234_5678)
        #expect(report.block == RTCPReportBlock(ssrc: 0xB0B, fractionLost: 5, cumulativeLost: 42, extendedHighestSequence: 0x1_0010,
                                                jitter: 240, lastSR: 0x1234_5678, delaySinceLastSR: 0x0001_8000))
    }

    @Test func readsAReceiverReportAndSignExtendsTheCumulativeLoss() throws {
        var block = Self.block
        block.cumulativeLost = -3
        let report = try #require(Self.parse(RTCPBytes.receiverReport(ssrc: 7, blocks: [block])))
        #expect(report.senderSSRC == nil)
        #expect(report.block?.cumulativeLost == -3)
        block.cumulativeLost = 0x7F_FFFF
        #expect(Self.parse(RTCPBytes.receiverReport(ssrc: 7, blocks: [block]))?.block?.cumulativeLost == 0x7F_FFFF)
    }

    @Test func aReportWithoutBlocksGivesOnlyTheSender() throws {
        let report = try #require(Self.parse(RTCPBytes.senderReport(ssrc: 9, ntpSeconds: 1, ntpFraction: 2)))
        #expect(report.senderSSRC == 9 && report.block == nil)
        let empty = try #require(Self.parse(RTCPBytes.receiverReport(ssrc: 9, blocks: [])))
        #expect(empty.senderSSRC == nil && empty.block == nil)
    }

    @Test func walksCompoundPacketsAndPrefersTheBlockAboutTheOtherSide() throws {
        let other = RTCPBytes.Block(ssrc: 0xC0FFEE, fractionLost: 200, cumulativeLost: 1000, jitter: 8000)
        let compound = RTCPBytes.senderReport(ssrc: 0xA, ntpSeconds: 0x0000_AAAA, ntpFraction: 0xBBBB_0000, blocks: [other])
            + RTCPBytes.receiverReport(ssrc: 0xA, blocks: [Self.block])
            + RTCPBytes.description(ssrc: 0xA, cname: "phone@198.51.100.2") + RTCPBytes.bye(ssrc: 0xA)
        let first = try #require(Self.parse(compound))
        #expect(first.senderSSRC == 0xA && first.senderNTPMiddle == 0xAAAA_BBBB)
        #expect(first.block?.ssrc == 0xC0FFEE, "without a preference, the first block")
        #expect(Self.parse(compound, preferring: 0xB0B)?.block?.ssrc == 0xB0B, "the block about the SSRC asked for, in a later packet")
        #expect(Self.parse(compound, preferring: 0x5555)?.block?.ssrc == 0xC0FFEE, "an unknown preference falls back to the first")
        // An RR of two blocks.
        let two = RTCPBytes.receiverReport(ssrc: 1, blocks: [other, Self.block])
        #expect(Self.parse(two, preferring: 0xB0B)?.block?.fractionLost == 5)
        #expect(Self.parse(two)?.block?.fractionLost == 200)
    }

    @Test func tellsMultiplexedRTCPFromRTP() {
        let rtp: [UInt8] = [0x80, 8, 0, 1, 0, 0, 0, 160, 0, 0, 0, 1] + Array(repeating: 0xD5, count: 160)
        let rtpWithMarker: [UInt8] = [0x80, 0x80 | 8] + Array(rtp.dropFirst(2))
        #expect(!Self.multiplexed(rtp) && !Self.multiplexed(rtpWithMarker))
        #expect(Self.multiplexed(RTCPBytes.receiverReport(ssrc: 1, blocks: [Self.block])))
        #expect(Self.multiplexed(RTCPBytes.senderReport(ssrc: 1, ntpSeconds: 0, ntpFraction: 0)))
        #expect(Self.multiplexed(RTCPBytes.description(ssrc: 1, cname: "x")))
        #expect(!Self.multiplexed([0x80, 201, 0, 1]), "too short to be RTCP with an SSRC")
        #expect(!Self.multiplexed([0x40, 201, 0, 1, 0, 0, 0, 1]), "version 1")
    }

    @Test(arguments: [
        ("empty", [UInt8]()),
        ("three bytes", [0x80, 201, 0]),
        ("version 1", [0x40, 201, 0, 1, 0, 0, 0, 1]),
        ("length past the end", [0x80, 201, 0, 9, 0, 0, 0, 1]),
        ("not an RTCP type", [0x80, 100, 0, 1, 0, 0, 0, 1]),
        ("RTP", [0x80, 8, 0, 1, 0, 0, 0, 160, 0, 0, 0, 1]),
        ("report count beyond the length", [0x81, 201, 0, 1, 0, 0, 0, 1]),
        ("sender report without sender info", [0x80, 200, 0, 1, 0, 0, 0, 1]),
        ("padding longer than the packet", [0xA0, 201, 0, 1, 0, 0, 0, 9]),
        ("padding of zero", [0xA0, 201, 0, 1, 0, 0, 0, 0]),
    ])
    func refusesWhatIsNotRTCP(_ name: String, _ bytes: [UInt8]) {
        #expect(Self.parse(bytes) == nil, "\(name)")
    }

    @Test func refusesACompoundWithABrokenTailOrTrailingBytes() {
        let good = RTCPBytes.receiverReport(ssrc: 1, blocks: [Self.block])
        #expect(Self.parse(good) != nil)
        #expect(Self.parse(good + [0x80, 202]) == nil, "half a header after it")
        #expect(Self.parse(good + [0, 0, 0, 0]) == nil, "a version 0 header after it")
        #expect(Self.parse(Array(good.dropLast(4))) == nil, "cut short")
        // The SRTCP trailer (E flag and index, then the authentication tag) is not RTCP.
        #expect(Self.parse(good + [0x80, 0, 0, 5] + Array(repeating: 0xAB, count: 10)) == nil)
    }

    @Test func paddingAtTheEndIsAccepted() throws {
        // An RR with 4 bytes of padding (P bit, last byte = 4), length counting them.
        var padded = RTCPBytes.receiverReport(ssrc: 1, blocks: [Self.block]) + [0, 0, 0, 4]
        padded[0] |= 0x20
        padded[3] += 1
        #expect(try #require(Self.parse(padded)).block?.jitter == 240)
    }

    @Test func randomBytesNeverCrashTheParser() {
        var generator = SeededGenerator(seed: 13)
        let seeds = [RTCPBytes.senderReport(ssrc: 1, ntpSeconds: 2, ntpFraction: 3, blocks: [Self.block])
                        + RTCPBytes.description(ssrc: 1, cname: "a"),
                     RTCPBytes.receiverReport(ssrc: 1, blocks: [Self.block, Self.block])]
        var parsed = 0
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 0...96, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            } else {
                // Mutations of valid reports: flipped bytes, cuts and extensions.
                bytes = seeds[round / 2 % seeds.count]
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
                if Bool.random(using: &generator) { bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &generator))) }
            }
            if let report = Self.parse(bytes) {
                parsed += 1
                #expect(report.block == nil || bytes.count >= 32)
            }
        }
        #expect(parsed > 0, "some mutations stay valid RTCP")
    }

    // MARK: - Round trip

    @Test func theRoundTripIsTheTimeSinceTheForwardedSenderReportLessTheFarEndsHoldTime() throws {
        var sender = RTCPLegState()
        var receiver = RTCPLegState()
        let millisecond: UInt64 = 1_000_000
        let base: UInt64 = 5_000 * millisecond
        sender.noteSenderReport(ssrc: 0xA, ntpMiddle: 0x1111_0000, at: base)
        sender.noteSenderReport(ssrc: 0xA, ntpMiddle: 0x2222_0000, at: base + 5000 * millisecond)
        #expect(sender.senderSSRC == 0xA)
        // The answer to the first SR, held 1.5 s (0x18000 / 65536) at the far end, arrives 1.54 s after it.
        var block = RTCPReportBlock(ssrc: 0xA, fractionLost: 64, cumulativeLost: 10, extendedHighestSequence: 100, jitter: 160,
                                    lastSR: 0x1111_0000, delaySinceLastSR: 0x0001_8000)
        let arrival = base + 1540 * millisecond
        receiver.noteReportBlock(block, forwardedAt: sender.senderReportTime(ntpMiddle: block.lastSR), now: arrival)
        #expect(receiver.reports == 1 && receiver.fractionLost == 64 && receiver.cumulativeLost == 10 && receiver.jitter == 160)
        #expect(receiver.roundTripNanoseconds == 40 * millisecond)
        // An LSR the relay never forwarded (or 0: no SR received yet) times nothing.
        block.lastSR = 0x3333_0000
        receiver.noteReportBlock(block, forwardedAt: sender.senderReportTime(ntpMiddle: block.lastSR), now: arrival)
        #expect(sender.senderReportTime(ntpMiddle: 0) == nil)
        #expect(receiver.reports == 2 && receiver.roundTrips == 1 && receiver.roundTripNanoseconds == 40 * millisecond)
        // A hold time longer than the elapsed time (a lying or broken far end) is ignored.
        block.lastSR = 0x2222_0000
        block.delaySinceLastSR = 0x0010_0000
        receiver.noteReportBlock(block, forwardedAt: sender.senderReportTime(ntpMiddle: block.lastSR), now: base + 5100 * millisecond)
        #expect(receiver.roundTrips == 1)
        // The second SR answered 70 ms after it with no hold time.
        block.delaySinceLastSR = 0
        receiver.noteReportBlock(block, forwardedAt: sender.senderReportTime(ntpMiddle: block.lastSR), now: base + 5070 * millisecond)
        #expect(receiver.roundTrips == 2 && receiver.roundTripNanoseconds == 70 * millisecond)
    }

    @Test func theLastFourSenderReportsAreRemembered() {
        var sender = RTCPLegState()
        for index in 1...5 { sender.noteSenderReport(ssrc: 1, ntpMiddle: UInt32(index), at: UInt64(index) * 1000) }
        #expect(sender.senderReportTime(ntpMiddle: 1) == nil, "overwritten by the fifth")
        #expect((2...5).map { sender.senderReportTime(ntpMiddle: UInt32($0)) } == [2000, 3000, 4000, 5000])
    }
}
