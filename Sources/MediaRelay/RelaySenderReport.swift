#if canImport(Glibc)
import Glibc
#endif

/// The RTCP sender report the relay sends each leg of a decoded session (RFC 3550 §6.4.1): on
/// such a session the relay is the RTP source each leg hears (its own SSRC, sequence and
/// timestamps) and the endpoints' own RTCP ends at the relay, so each leg gets reports that
/// describe the stream it really receives, with one reception block about the stream it sends.
/// Written in place into a caller's buffer: nothing is allocated.
enum RelaySenderReport {
    /// Header and sender info (28 bytes) and one report block (24).
    static let length = 52

    /// Writes the report into `buffer` (at least `length` bytes) and returns its length; the
    /// block is left out (RC 0) when the leg has sent nothing yet.
    static func write(into buffer: UnsafeMutablePointer<UInt8>, ssrc: UInt32, ntp: UInt64, rtpTimestamp: UInt32,
                      packets: UInt64, octets: UInt64, reception: RTCPReportBlock?) -> Int {
        let size = reception == nil ? 28 : length
        buffer[0] = 0x80 | (reception == nil ? 0 : 1)
        buffer[1] = 200
        store(UInt16(size / 4 - 1), at: buffer + 2)
        store(ssrc, at: buffer + 4)
        store(UInt32(truncatingIfNeeded: ntp >> 32), at: buffer + 8)
        store(UInt32(truncatingIfNeeded: ntp), at: buffer + 12)
        store(rtpTimestamp, at: buffer + 16)
        store(UInt32(truncatingIfNeeded: packets), at: buffer + 20)
        store(UInt32(truncatingIfNeeded: octets), at: buffer + 24)
        guard let reception else { return size }
        let block = buffer + 28
        store(reception.ssrc, at: block)
        // Cumulative lost is a signed 24-bit field: clamp, as RFC 3550 A.3 does.
        let lost = UInt32(bitPattern: min(max(reception.cumulativeLost, -0x80_0000), 0x7F_FFFF)) & 0xFF_FFFF
        store(UInt32(reception.fractionLost) << 24 | lost, at: block + 4)
        store(reception.extendedHighestSequence, at: block + 8)
        store(reception.jitter, at: block + 12)
        store(reception.lastSR, at: block + 16)
        store(reception.delaySinceLastSR, at: block + 20)
        return size
    }

    /// The wall clock as a 64-bit NTP timestamp (seconds since 1900, 32-bit fraction).
    static func ntpNow() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let seconds = UInt64(now.tv_sec) &+ 2_208_988_800
        let fraction = (UInt64(now.tv_nsec) << 32) / 1_000_000_000
        return seconds << 32 | fraction
    }

    private static func store<Value: FixedWidthInteger>(_ value: Value, at pointer: UnsafeMutablePointer<UInt8>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: value.bigEndian, as: Value.self)
    }
}
