import Sockets
import VOSModel

/// HEP v3 (the Homer Encapsulation Protocol, "HEP3"): one captured SIP message, with where it
/// came from, where it went and when, as Homer's collectors, Kamailio's sipcapture and
/// `sngrep -L` read it. Pure: it writes into a buffer the caller owns and reuses, so encoding a
/// message allocates nothing. It must not do I/O (`HEPSender` owns the socket).
///
/// Layout: the 6-byte header (`HEP3`, total length) and chunks of `vendor 0, type, length,
/// value`, all big-endian, lengths counting the chunk's own 6-byte header. The chunks go in the
/// order of HEP's generic header (family, protocol, ports, time, protocol type, capture id, then
/// the addresses, the optional auth key and the payload): Homer parses chunks in any order, but
/// sngrep and other hep-c descendants read that fixed layout.
public struct HEPEncoder: Sendable {
    /// The transport the message travelled on: the HEP "IP protocol ID" chunk (IANA numbers).
    public enum Transport: UInt8, Sendable {
        case tcp = 6
        case udp = 17
    }

    /// Generic chunk types (vendor 0) vos writes.
    public enum Chunk: UInt16, Sendable {
        case ipFamily = 1
        case ipProtocol = 2
        case ipv4Source = 3
        case ipv4Destination = 4
        case ipv6Source = 5
        case ipv6Destination = 6
        case sourcePort = 7
        case destinationPort = 8
        case timestampSeconds = 9
        case timestampMicroseconds = 10
        case protocolType = 11
        case captureAgentID = 12
        case authKey = 14
        case payload = 15
    }

    /// Protocol type 1: the payload is a SIP message.
    public static let protocolTypeSIP: UInt8 = 1
    /// Address family values on the wire: Linux's AF_INET and AF_INET6, as every HEP agent sends.
    public static let familyIPv4: UInt8 = 2
    public static let familyIPv6: UInt8 = 10
    /// The length field is 16 bits: no packet is longer.
    public static let maximumPacket = 65_535

    public let captureID: UInt32
    /// The receiver's password (chunk 14); empty sends no such chunk.
    public let authKey: [UInt8]

    public init(captureID: UInt32, authKey: String = "") {
        self.captureID = captureID
        self.authKey = Array(authKey.utf8)
    }

    private static let header = 6
    private static let chunkHeader = 6

    /// Everything but the payload's bytes, for an address family.
    public func overhead(for family: SocketAddress.Family) -> Int {
        let fixed = Self.header + 2 * (Self.chunkHeader + 1) + 2 * (Self.chunkHeader + 2) + 2 * (Self.chunkHeader + 4)
            + (Self.chunkHeader + 1) + (Self.chunkHeader + 4)
        let addresses = 2 * (Self.chunkHeader + (family == .v4 ? 4 : 16))
        let key = authKey.isEmpty ? 0 : Self.chunkHeader + authKey.count
        return fixed + addresses + key + Self.chunkHeader
    }

    /// Writes one HEP3 packet carrying `payload` at the start of `buffer` and returns its length.
    /// Nil, with nothing promised about the buffer, when the packet would exceed the buffer or
    /// 65,535 bytes, or when source and destination are of different families.
    public func encode(_ payload: UnsafeRawBufferPointer, source: SocketAddress, destination: SocketAddress,
                       transport: Transport, seconds: UInt32, microseconds: UInt32,
                       into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        guard source.family == destination.family, let base = buffer.baseAddress else { return nil }
        let total = overhead(for: source.family) + payload.count
        guard total <= buffer.count, total <= Self.maximumPacket else { return nil }
        var writer = Writer(base: base)
        writer.bytes("HEP3".utf8)
        writer.u16(UInt16(total))
        let isIPv4 = source.family == .v4
        writer.chunk(.ipFamily, length: 1)
        writer.u8(isIPv4 ? Self.familyIPv4 : Self.familyIPv6)
        writer.chunk(.ipProtocol, length: 1)
        writer.u8(transport.rawValue)
        writer.chunk(.sourcePort, length: 2)
        writer.u16(source.port)
        writer.chunk(.destinationPort, length: 2)
        writer.u16(destination.port)
        writer.chunk(.timestampSeconds, length: 4)
        writer.u32(seconds)
        writer.chunk(.timestampMicroseconds, length: 4)
        writer.u32(microseconds)
        writer.chunk(.protocolType, length: 1)
        writer.u8(Self.protocolTypeSIP)
        writer.chunk(.captureAgentID, length: 4)
        writer.u32(captureID)
        writer.address(source.address, chunk: isIPv4 ? .ipv4Source : .ipv6Source)
        writer.address(destination.address, chunk: isIPv4 ? .ipv4Destination : .ipv6Destination)
        if !authKey.isEmpty {
            writer.chunk(.authKey, length: authKey.count)
            writer.bytes(authKey)
        }
        writer.chunk(.payload, length: payload.count)
        if let start = payload.baseAddress, payload.count > 0 {
            (base + writer.offset).copyMemory(from: start, byteCount: payload.count)
            writer.offset += payload.count
        }
        return writer.offset
    }

    /// Big-endian writes at an advancing offset; the caller checked the room.
    private struct Writer {
        let base: UnsafeMutableRawPointer
        var offset = 0

        mutating func u8(_ value: UInt8) {
            base.storeBytes(of: value, toByteOffset: offset, as: UInt8.self)
            offset += 1
        }

        mutating func u16(_ value: UInt16) {
            base.storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt16.self)
            offset += 2
        }

        mutating func u32(_ value: UInt32) {
            base.storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt32.self)
            offset += 4
        }

        mutating func u64(_ value: UInt64) {
            base.storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt64.self)
            offset += 8
        }

        mutating func bytes(_ values: some Sequence<UInt8>) {
            for value in values { u8(value) }
        }

        /// A chunk header for `length` bytes of value.
        mutating func chunk(_ type: Chunk, length: Int) {
            u16(0)
            u16(type.rawValue)
            u16(UInt16(HEPEncoder.chunkHeader + length))
        }

        mutating func address(_ address: IPAddress, chunk type: Chunk) {
            switch address {
            case let .v4(value):
                chunk(type, length: 4)
                u32(value)
            case let .v6(high, low):
                chunk(type, length: 16)
                u64(high)
                u64(low)
            }
        }
    }
}
