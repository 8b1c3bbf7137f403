import VOSModel

/// One RFC 3550 §6.4.1 report block: how a receiver saw one source.
struct RTCPReportBlock: Equatable, Sendable {
    /// The source this block reports on.
    var ssrc: UInt32
    /// Lost since the previous report, in 1/256 (8-bit fixed point).
    var fractionLost: UInt8
    /// Cumulative number lost (24-bit signed; negative with duplicates).
    var cumulativeLost: Int32
    var extendedHighestSequence: UInt32
    /// Interarrival jitter in the source's RTP timestamp units.
    var jitter: UInt32
    /// Middle 32 bits of the NTP timestamp of the last SR received from the source (0 = none).
    var lastSR: UInt32
    /// Since that SR, in 1/65536 s.
    var delaySinceLastSR: UInt32
}

/// What the relay takes from one RTCP datagram, read in place from the packet buffer (no
/// allocation: this runs on the I/O thread). A compound datagram (RFC 3550 §6.1: several RTCP
/// packets back to back) is walked whole; SDES, BYE, APP and feedback packets are skipped.
/// A datagram that is not valid RTCP (RFC 3550 A.2: version 2, lengths that add up to the
/// datagram exactly, a known packet type, report counts that fit) is refused whole.
struct RTCPReport: Equatable, Sendable {
    /// The first sender report's sender SSRC and the middle 32 bits of its NTP timestamp (what a
    /// receiver echoes as LSR).
    var senderSSRC: UInt32?
    var senderNTPMiddle: UInt32 = 0
    /// The report block about `preferring` when there is one, else the datagram's first block.
    var block: RTCPReportBlock?

    static let senderReport: UInt8 = 200
    static let receiverReport: UInt8 = 201

    /// RTCP packet types are 192-223 (RFC 5761 §4): on an RTP port, second bytes 200-204 (SR, RR,
    /// SDES, BYE, APP) tell multiplexed RTCP from RTP, whose types 72-76 with the marker bit set
    /// would read the same and are therefore not used there.
    @inline(__always)
    static func isMultiplexedRTCP(_ packet: UnsafePointer<UInt8>, length: Int) -> Bool {
        length >= 8 && packet[0] & 0xC0 == 0x80 && (200...204).contains(packet[1])
    }

    /// Nil when the datagram is not valid RTCP.
    static func parse(_ packet: UnsafePointer<UInt8>, length: Int, preferring preferred: UInt32? = nil) -> RTCPReport? {
        guard length >= 4 else { return nil }
        var report = RTCPReport()
        var offset = 0
        while offset < length {
            guard length - offset >= 4 else { return nil }
            let header = packet + offset
            guard header[0] & 0xC0 == 0x80 else { return nil }
            let count = Int(header[0] & 0x1F)
            let type = header[1]
            let size = ((Int(header[2]) << 8 | Int(header[3])) + 1) * 4
            guard (192...223).contains(type), size <= length - offset else { return nil }
            // Padding (P bit) is counted in the length and ends the packet; it must fit.
            if header[0] & 0x20 != 0 {
                let padding = Int(header[size - 1])
                guard padding > 0, padding <= size - 4 else { return nil }
            }
            if type == senderReport || type == receiverReport {
                let blocksStart = type == senderReport ? 28 : 8
                guard size >= blocksStart + 24 * count else { return nil }
                if type == senderReport, report.senderSSRC == nil {
                    report.senderSSRC = word(header + 4)
                    // NTP timestamp at 8..15: its middle 32 bits are bytes 10..13.
                    report.senderNTPMiddle = word(header + 10)
                }
                for index in 0..<count {
                    let block = header + blocksStart + 24 * index
                    let ssrc = word(block)
                    guard report.block == nil || (preferred == ssrc && report.block?.ssrc != ssrc) else { continue }
                    let lost = UInt32(block[5]) << 16 | UInt32(block[6]) << 8 | UInt32(block[7])
                    report.block = RTCPReportBlock(
                        ssrc: ssrc, fractionLost: block[4],
                        // Sign-extend the 24-bit count.
                        cumulativeLost: Int32(bitPattern: lost << 8) >> 8,
                        extendedHighestSequence: word(block + 8), jitter: word(block + 12),
                        lastSR: word(block + 16), delaySinceLastSR: word(block + 20))
                }
            }
            offset += size
        }
        return report
    }

    @inline(__always)
    private static func word(_ bytes: UnsafePointer<UInt8>) -> UInt32 {
        UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8 | UInt32(bytes[3])
    }
}

/// RTCP from one leg's far end, kept on the I/O thread in the leg's `LegState`: the latest report
/// block it sent (how it receives the media the relay sends it), the relay's round trip to it,
/// and the sender reports it sent, remembered so that the other leg's far end's answers to them
/// (LSR/DLSR) time this round trip.
struct RTCPLegState: Sendable {
    /// Report blocks taken from this leg's far end.
    var reports: UInt64 = 0
    var fractionLost: UInt8 = 0
    var cumulativeLost: Int32 = 0
    /// In RTP timestamp units (8000 Hz assumed, as for `RTPReceptionStatistics`).
    var jitter: UInt32 = 0
    /// Latest relay <-> far end round trip (0 = none measured yet).
    var roundTripNanoseconds: UInt64 = 0
    /// Round trips measured.
    var roundTrips: UInt64 = 0
    /// SSRC of this leg's far end's sender reports (0 = none seen).
    var senderSSRC: UInt32 = 0
    /// The last few SRs from this leg's far end: NTP middle 32 bits and when the relay received
    /// (and forwarded) each, monotonic nanoseconds. A ring, `nextSR` the slot written next.
    var sentReportNTP: InlineArray<4, UInt32> = .init(repeating: 0)
    var sentReportTimes: InlineArray<4, UInt64> = .init(repeating: 0)
    var nextSR = 0
    /// Datagrams from this far end taken for RTCP that were not valid RTCP (ignored).
    var invalid: UInt64 = 0

    static let maximumRoundTrip: UInt64 = 10_000_000_000
    /// `MediaQuality.oneWayAudioSeconds` in nanoseconds.
    static let oneWayWindow = UInt64(MediaQuality.oneWayAudioSeconds * 1_000_000_000)

    /// A sender report from this leg's far end passed through the relay at `now`.
    mutating func noteSenderReport(ssrc: UInt32, ntpMiddle: UInt32, at now: UInt64) {
        senderSSRC = ssrc
        sentReportNTP[nextSR] = ntpMiddle
        sentReportTimes[nextSR] = now
        nextSR = (nextSR + 1) & 3
    }

    /// When the SR whose NTP middle bits are `ntpMiddle` passed through the relay, if remembered.
    func senderReportTime(ntpMiddle: UInt32) -> UInt64? {
        guard ntpMiddle != 0 else { return nil }
        for index in 0..<4 where sentReportTimes[index] != 0 && sentReportNTP[index] == ntpMiddle {
            return sentReportTimes[index]
        }
        return nil
    }

    /// Takes a report block from this leg's far end that arrived at `now`. `forwardedAt` is when
    /// the relay forwarded the SR the block answers (LSR), toward this far end, if known: the
    /// round trip relay -> far end -> relay is then the time since, less the far end's hold time
    /// (DLSR), as RFC 3550 §6.4.1 computes it with the relay in the SR sender's place.
    mutating func noteReportBlock(_ block: RTCPReportBlock, forwardedAt: UInt64?, now: UInt64) {
        reports &+= 1
        fractionLost = block.fractionLost
        cumulativeLost = block.cumulativeLost
        jitter = block.jitter
        guard let forwardedAt, now >= forwardedAt else { return }
        let held = (UInt64(block.delaySinceLastSR) * 1_000_000_000) >> 16
        let elapsed = now - forwardedAt
        guard elapsed >= held, elapsed - held <= Self.maximumRoundTrip else { return }
        roundTripNanoseconds = elapsed - held
        roundTrips &+= 1
    }
}
