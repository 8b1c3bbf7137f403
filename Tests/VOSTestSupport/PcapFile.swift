/// Classic libpcap files of UDP datagrams: written (Ethernet framing, IPv4) for sipp's
/// `play_pcap_audio`, read back from what tcpdump captured, plus an RTP header view, so media
/// tests can check what actually crossed the wire without any library beyond Foundation.
import Foundation

/// One UDP datagram with where it went and when.
public struct UDPDatagram: Sendable, Equatable {
    /// Seconds since the Unix epoch, as the capture recorded it.
    public var timestamp: Double
    public var sourceIP: String
    public var sourcePort: Int
    public var destinationIP: String
    public var destinationPort: Int
    public var payload: [UInt8]

    public init(timestamp: Double, sourceIP: String, sourcePort: Int, destinationIP: String, destinationPort: Int, payload: [UInt8]) {
        self.timestamp = timestamp
        self.sourceIP = sourceIP
        self.sourcePort = sourcePort
        self.destinationIP = destinationIP
        self.destinationPort = destinationPort
        self.payload = payload
    }
}

public enum PcapError: Error, CustomStringConvertible, Equatable {
    case notPcap(String)
    case unsupportedLinkType(UInt32)
    case invalidAddress(String)
    case invalidPort(Int)
    case tooLarge(Int)

    public var description: String {
        switch self {
        case .notPcap(let why): return "not a classic pcap file: \(why)"
        case .unsupportedLinkType(let type): return "unsupported pcap link type \(type)"
        case .invalidAddress(let text): return "not an IPv4 address: \(text)"
        case .invalidPort(let port): return "not a UDP port: \(port)"
        case .tooLarge(let size): return "UDP payload of \(size) bytes does not fit one IPv4 packet"
        }
    }
}

public enum PcapFile {
    // Link types (https://www.tcpdump.org/linktypes.html) the reader understands.
    static let linkNull: UInt32 = 0, linkEthernet: UInt32 = 1, linkRaw: UInt32 = 101
    static let linkLinuxSLL: UInt32 = 113, linkLinuxSLL2: UInt32 = 276, linkIPv4: UInt32 = 228
    static let etherTypeIPv4: UInt16 = 0x0800, etherTypeIPv6: UInt16 = 0x86DD, etherTypeVLAN: UInt16 = 0x8100

    // MARK: Writing

    /// Writes `datagrams` as an Ethernet/IPv4/UDP pcap with microsecond timestamps. sipp replays
    /// only the UDP part (it rewrites addresses and ports and keeps the recorded pacing), but the
    /// headers are complete and checksummed so tcpdump and Wireshark show the file as real traffic.
    public static func write(_ datagrams: [UDPDatagram], to path: String) throws {
        try Data(encode(datagrams)).write(to: URL(fileURLWithPath: path))
    }

    public static func encode(_ datagrams: [UDPDatagram]) throws -> [UInt8] {
        var out: [UInt8] = []
        out.appendLittle(UInt32(0xA1B2_C3D4))
        out.appendLittle(UInt16(2))
        out.appendLittle(UInt16(4))
        out.appendLittle(UInt32(0))        // thiszone: timestamps are UTC
        out.appendLittle(UInt32(0))        // sigfigs
        out.appendLittle(UInt32(65_535))   // snaplen
        out.appendLittle(linkEthernet)
        for (index, datagram) in datagrams.enumerated() {
            let frame = try ethernetFrame(datagram, identification: UInt16(truncatingIfNeeded: index + 1))
            let seconds = datagram.timestamp.rounded(.down)
            let micros = min(999_999, Int(((datagram.timestamp - seconds) * 1_000_000).rounded()))
            out.appendLittle(UInt32(truncatingIfNeeded: Int(seconds)))
            out.appendLittle(UInt32(micros))
            // sipp refuses a record whose captured length differs from its wire length.
            out.appendLittle(UInt32(frame.count))
            out.appendLittle(UInt32(frame.count))
            out += frame
        }
        return out
    }

    static func ethernetFrame(_ datagram: UDPDatagram, identification: UInt16) throws -> [UInt8] {
        let source = try ipv4Bytes(datagram.sourceIP), destination = try ipv4Bytes(datagram.destinationIP)
        for port in [datagram.sourcePort, datagram.destinationPort] where !(0...65_535).contains(port) {
            throw PcapError.invalidPort(port)
        }
        let udpLength = 8 + datagram.payload.count
        guard udpLength + 20 <= 65_535 else { throw PcapError.tooLarge(datagram.payload.count) }

        var udp: [UInt8] = []
        udp.appendBig(UInt16(datagram.sourcePort))
        udp.appendBig(UInt16(datagram.destinationPort))
        udp.appendBig(UInt16(udpLength))
        udp.appendBig(UInt16(0))
        udp += datagram.payload
        var pseudo = source + destination + [0, 17]
        pseudo.appendBig(UInt16(udpLength))
        var udpSum = internetChecksum(pseudo + udp)
        // RFC 768: a computed zero is sent as all ones, zero meaning "no checksum".
        if udpSum == 0 { udpSum = 0xFFFF }
        udp[6] = UInt8(udpSum >> 8)
        udp[7] = UInt8(udpSum & 0xFF)

        var ip: [UInt8] = [0x45, 0]
        ip.appendBig(UInt16(20 + udpLength))
        ip.appendBig(identification)
        ip.appendBig(UInt16(0x4000))       // don't fragment, offset 0
        ip += [64, 17, 0, 0]               // TTL, UDP, checksum placeholder
        ip += source + destination
        let ipSum = internetChecksum(ip)
        ip[10] = UInt8(ipSum >> 8)
        ip[11] = UInt8(ipSum & 0xFF)

        // Loopback-style zero MACs, as tcpdump records traffic on Linux `lo`.
        var frame = [UInt8](repeating: 0, count: 12)
        frame.appendBig(etherTypeIPv4)
        return frame + ip + udp
    }

    /// RFC 1071 ones' complement sum over 16-bit big-endian words.
    static func internetChecksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var index = 0
        while index + 1 < bytes.count {
            sum += UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1])
            index += 2
        }
        if index < bytes.count { sum += UInt32(bytes[index]) << 8 }
        while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }

    static func ipv4Bytes(_ text: String) throws -> [UInt8] {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let bytes = parts.compactMap { UInt8($0) }
        guard parts.count == 4, bytes.count == 4 else { throw PcapError.invalidAddress(text) }
        return bytes
    }

    // MARK: Reading

    /// The UDP datagrams of a pcap file (IPv4, and IPv6 without extension headers); everything
    /// else (ARP, TCP, ICMP, later fragments) is skipped. A record cut short at the end of the
    /// file, as a capture that was killed leaves it, ends the list instead of failing it.
    public static func read(_ path: String) throws -> [UDPDatagram] {
        try decode([UInt8](Data(contentsOf: URL(fileURLWithPath: path))))
    }

    public static func decode(_ bytes: [UInt8]) throws -> [UDPDatagram] {
        guard bytes.count >= 24 else { throw PcapError.notPcap("\(bytes.count) bytes, shorter than the file header") }
        let magicLittle = bytes.little32(at: 0)
        let bigEndian: Bool, nanoseconds: Bool
        switch magicLittle {
        case 0xA1B2_C3D4: (bigEndian, nanoseconds) = (false, false)
        case 0xA1B2_3C4D: (bigEndian, nanoseconds) = (false, true)
        case 0xD4C3_B2A1: (bigEndian, nanoseconds) = (true, false)
        case 0x4D3C_B2A1: (bigEndian, nanoseconds) = (true, true)
        case 0x0A0D_0D0A: throw PcapError.notPcap("pcapng; capture with tcpdump -w, which writes classic pcap")
        default: throw PcapError.notPcap(String(format: "magic 0x%08x", magicLittle))
        }
        func word(_ offset: Int) -> UInt32 { bigEndian ? bytes.big32(at: offset) : bytes.little32(at: offset) }
        // The FCS flag bits sit above the link type in the same word.
        let linkType = word(20) & 0x0FFF_FFFF
        var datagrams: [UDPDatagram] = []
        var offset = 24
        while offset + 16 <= bytes.count {
            let seconds = Double(word(offset)), fraction = Double(word(offset + 4))
            let captured = Int(word(offset + 8))
            let start = offset + 16
            guard start + captured <= bytes.count else { break }
            offset = start + captured
            let timestamp = seconds + fraction / (nanoseconds ? 1e9 : 1e6)
            if let datagram = try udp(in: Array(bytes[start..<start + captured]), linkType: linkType, timestamp: timestamp) {
                datagrams.append(datagram)
            }
        }
        return datagrams
    }

    static func udp(in frame: [UInt8], linkType: UInt32, timestamp: Double) throws -> UDPDatagram? {
        var network: Int
        var etherType: UInt16
        switch linkType {
        case linkEthernet:
            guard frame.count >= 14 else { return nil }
            network = 14
            etherType = frame.big16(at: 12)
            while etherType == etherTypeVLAN, frame.count >= network + 4 {
                etherType = frame.big16(at: network + 2)
                network += 4
            }
        case linkLinuxSLL:
            guard frame.count >= 16 else { return nil }
            (network, etherType) = (16, frame.big16(at: 14))
        case linkLinuxSLL2:
            guard frame.count >= 20 else { return nil }
            (network, etherType) = (20, frame.big16(at: 0))
        case linkNull:
            // The BSD loopback header is the address family in the writer's byte order.
            guard frame.count >= 4 else { return nil }
            let family = frame.little32(at: 0) == 2 || frame.big32(at: 0) == 2
            (network, etherType) = (4, family ? etherTypeIPv4 : etherTypeIPv6)
        case linkRaw, linkIPv4:
            guard let first = frame.first else { return nil }
            (network, etherType) = (0, first >> 4 == 6 ? etherTypeIPv6 : etherTypeIPv4)
        default:
            throw PcapError.unsupportedLinkType(linkType)
        }
        switch etherType {
        case etherTypeIPv4: return ipv4(frame, at: network, timestamp: timestamp)
        case etherTypeIPv6: return ipv6(frame, at: network, timestamp: timestamp)
        default: return nil
        }
    }

    static func ipv4(_ frame: [UInt8], at start: Int, timestamp: Double) -> UDPDatagram? {
        guard frame.count >= start + 20, frame[start] >> 4 == 4, frame[start + 9] == 17 else { return nil }
        let headerLength = Int(frame[start] & 0x0F) * 4
        // Only whole datagrams: a later fragment has no UDP header, a first one not all the payload.
        let fragment = frame.big16(at: start + 6)
        guard headerLength >= 20, fragment & 0x3FFF == 0 else { return nil }
        let totalLength = Int(frame.big16(at: start + 2))
        let end = min(frame.count, start + max(totalLength, headerLength))
        let source = frame[start + 12..<start + 16].map(String.init).joined(separator: ".")
        let destination = frame[start + 16..<start + 20].map(String.init).joined(separator: ".")
        return udpPayload(frame, at: start + headerLength, end: end, source: source, destination: destination, timestamp: timestamp)
    }

    static func ipv6(_ frame: [UInt8], at start: Int, timestamp: Double) -> UDPDatagram? {
        guard frame.count >= start + 40, frame[start] >> 4 == 6, frame[start + 6] == 17 else { return nil }
        let end = min(frame.count, start + 40 + Int(frame.big16(at: start + 4)))
        func text(_ offset: Int) -> String {
            stride(from: offset, to: offset + 16, by: 2).map { String(frame.big16(at: $0), radix: 16) }.joined(separator: ":")
        }
        return udpPayload(frame, at: start + 40, end: end, source: text(start + 8), destination: text(start + 24), timestamp: timestamp)
    }

    static func udpPayload(_ frame: [UInt8], at start: Int, end: Int, source: String, destination: String, timestamp: Double) -> UDPDatagram? {
        guard end >= start + 8 else { return nil }
        let length = Int(frame.big16(at: start + 4))
        let payloadEnd = min(end, start + max(length, 8))
        return UDPDatagram(timestamp: timestamp, sourceIP: source, sourcePort: Int(frame.big16(at: start)),
                           destinationIP: destination, destinationPort: Int(frame.big16(at: start + 2)),
                           payload: Array(frame[start + 8..<payloadEnd]))
    }
}

/// An RTP packet (RFC 3550): the fixed header fields a media test checks, and the payload after
/// any CSRCs, header extension and padding.
public struct RTPPacket: Sendable, Equatable {
    public var payloadType: UInt8
    public var marker: Bool
    public var sequenceNumber: UInt16
    public var timestamp: UInt32
    public var ssrc: UInt32
    public var payload: [UInt8]

    public init(payloadType: UInt8, marker: Bool = false, sequenceNumber: UInt16, timestamp: UInt32, ssrc: UInt32, payload: [UInt8]) {
        self.payloadType = payloadType
        self.marker = marker
        self.sequenceNumber = sequenceNumber
        self.timestamp = timestamp
        self.ssrc = ssrc
        self.payload = payload
    }

    /// Nil when `bytes` is not RTP version 2 or its lengths do not add up (SIP, STUN, garbage).
    public init?(parsing bytes: [UInt8]) {
        guard bytes.count >= 12, bytes[0] >> 6 == 2 else { return nil }
        var start = 12 + Int(bytes[0] & 0x0F) * 4
        if bytes[0] & 0x10 != 0 {
            guard bytes.count >= start + 4 else { return nil }
            start += 4 + Int(bytes.big16(at: start + 2)) * 4
        }
        var end = bytes.count
        if bytes[0] & 0x20 != 0, let padding = bytes.last { end -= Int(padding) }
        guard start <= end else { return nil }
        payloadType = bytes[1] & 0x7F
        marker = bytes[1] & 0x80 != 0
        sequenceNumber = bytes.big16(at: 2)
        timestamp = bytes.big32(at: 4)
        ssrc = bytes.big32(at: 8)
        payload = Array(bytes[start..<end])
    }

    /// The packet on the wire: version 2, no padding, extension or CSRCs.
    public var bytes: [UInt8] {
        var out: [UInt8] = [0x80, (marker ? 0x80 : 0) | (payloadType & 0x7F)]
        out.appendBig(sequenceNumber)
        out.appendBig(timestamp)
        out.appendBig(ssrc)
        return out + payload
    }
}

extension Array where Element == UInt8 {
    mutating func appendBig(_ value: UInt16) { append(contentsOf: [UInt8(value >> 8), UInt8(value & 0xFF)]) }
    mutating func appendBig(_ value: UInt32) {
        append(contentsOf: [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)])
    }
    mutating func appendLittle(_ value: UInt16) { append(contentsOf: [UInt8(value & 0xFF), UInt8(value >> 8)]) }
    mutating func appendLittle(_ value: UInt32) {
        append(contentsOf: [UInt8(value & 0xFF), UInt8((value >> 8) & 0xFF), UInt8((value >> 16) & 0xFF), UInt8(value >> 24)])
    }
    func big16(at offset: Int) -> UInt16 { UInt16(self[offset]) << 8 | UInt16(self[offset + 1]) }
    func big32(at offset: Int) -> UInt32 {
        UInt32(self[offset]) << 24 | UInt32(self[offset + 1]) << 16 | UInt32(self[offset + 2]) << 8 | UInt32(self[offset + 3])
    }
    func little32(at offset: Int) -> UInt32 {
        UInt32(self[offset + 3]) << 24 | UInt32(self[offset + 2]) << 16 | UInt32(self[offset + 1]) << 8 | UInt32(self[offset])
    }
}
