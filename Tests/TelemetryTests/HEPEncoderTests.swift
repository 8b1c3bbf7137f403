import Foundation
import Sockets
import Testing
import VOSModel
import VOSTestSupport
@testable import Telemetry
#if canImport(Glibc)
import Glibc
#endif

/// HEP v3 packets checked byte by byte against the chunk layout (HEP3 spec, generic chunks), and
/// the sender against a real UDP receiver on loopback.
@Suite struct HEPEncoderTests {
    private func address(_ text: String) throws -> SocketAddress { try SocketAddress(parsing: text) }

    private func encode(_ encoder: HEPEncoder, _ payload: [UInt8], from source: SocketAddress, to destination: SocketAddress,
                        transport: HEPEncoder.Transport = .udp, seconds: UInt32 = 0x6561_2A80, microseconds: UInt32 = 123_456,
                        capacity: Int = HEPEncoder.maximumPacket) -> [UInt8]? {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 8)
        defer { buffer.deallocate() }
        let length = payload.withUnsafeBytes {
            encoder.encode($0, source: source, destination: destination, transport: transport,
                           seconds: seconds, microseconds: microseconds, into: buffer)
        }
        return length.map { Array(buffer.prefix($0)) }
    }

    /// Chunk header: vendor 0, type, length counting the 6-byte header.
    private func chunk(_ type: UInt16, _ value: [UInt8]) -> [UInt8] {
        [0, 0, UInt8(type >> 8), UInt8(type & 0xFF), UInt8((6 + value.count) >> 8), UInt8((6 + value.count) & 0xFF)] + value
    }

    /// (type, value) of every chunk after the header, checking each length stays in the packet.
    private func chunks(_ packet: [UInt8]) -> [(type: UInt16, value: [UInt8])] {
        var found: [(UInt16, [UInt8])] = []
        var offset = 6
        while offset + 6 <= packet.count {
            let type = UInt16(packet[offset + 2]) << 8 | UInt16(packet[offset + 3])
            let length = Int(packet[offset + 4]) << 8 | Int(packet[offset + 5])
            guard length >= 6, offset + length <= packet.count else { break }
            found.append((type, Array(packet[offset + 6..<offset + length])))
            offset += length
        }
        #expect(offset == packet.count, "the chunks fill the packet exactly")
        return found
    }

    @Test func ipv4UDPPacketIsByteExact() throws {
        let payload = Array("ABC".utf8)
        let packet = try #require(encode(HEPEncoder(captureID: 2001), payload,
                                         from: try address("10.0.0.1:5060"), to: try address("10.0.0.2:5080")))
        var expected = Array("HEP3".utf8) + [0x00, 0x66]                   // 102 bytes in all
        expected += chunk(1, [2])                                           // AF_INET
        expected += chunk(2, [17])                                          // UDP
        expected += chunk(7, [0x13, 0xC4])                                  // 5060
        expected += chunk(8, [0x13, 0xD8])                                  // 5080
        expected += chunk(9, [0x65, 0x61, 0x2A, 0x80])
        expected += chunk(10, [0x00, 0x01, 0xE2, 0x40])                     // 123456 µs
        expected += chunk(11, [1])                                          // SIP
        expected += chunk(12, [0x00, 0x00, 0x07, 0xD1])                     // capture id 2001
        expected += chunk(3, [10, 0, 0, 1])
        expected += chunk(4, [10, 0, 0, 2])
        expected += chunk(15, payload)
        #expect(packet == expected)
        #expect(packet.count == HEPEncoder(captureID: 2001).overhead(for: .v4) + payload.count)
    }

    @Test func ipv6TCPWithAuthKeyCarriesEveryChunkInOrder() throws {
        let encoder = HEPEncoder(captureID: 0xFFFF_FFFF, authKey: "s3cret")
        let payload = Array("SIP/2.0 200 OK\r\n\r\n".utf8)
        let packet = try #require(encode(encoder, payload, from: try address("[2001:db8::1]:5061"),
                                         to: try address("[2001:db8::2]:5062"), transport: .tcp))
        #expect(Array(packet.prefix(4)) == Array("HEP3".utf8))
        #expect(Int(packet[4]) << 8 | Int(packet[5]) == packet.count)
        let found = chunks(packet)
        #expect(found.map(\.type) == [1, 2, 7, 8, 9, 10, 11, 12, 5, 6, 14, 15])
        #expect(found[0].value == [10], "AF_INET6")
        #expect(found[1].value == [6], "TCP")
        #expect(found[7].value == [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(found[8].value == [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [1])
        #expect(found[9].value == [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [2])
        #expect(found[10].value == Array("s3cret".utf8))
        #expect(found[11].value == payload)
        #expect(packet.count == encoder.overhead(for: .v6) + payload.count)
    }

    @Test func refusesWhatDoesNotFit() throws {
        let encoder = HEPEncoder(captureID: 1)
        let v4 = try address("192.0.2.1:5060"), v6 = try address("[2001:db8::1]:5060")
        #expect(encode(encoder, [1, 2, 3], from: v4, to: v6) == nil, "one family per packet")
        let largest = HEPEncoder.maximumPacket - encoder.overhead(for: .v4)
        #expect(encode(encoder, [UInt8](repeating: 65, count: largest), from: v4, to: v4)?.count == HEPEncoder.maximumPacket)
        #expect(encode(encoder, [UInt8](repeating: 65, count: largest + 1), from: v4, to: v4) == nil, "the length field is 16 bits")
        #expect(encode(encoder, [UInt8](repeating: 65, count: 100), from: v4, to: v4, capacity: 150) == nil, "the caller's buffer")
        #expect(encode(encoder, [UInt8](repeating: 65, count: 51), from: v4, to: v4, capacity: 150)?.count == 150)
    }

    @Test func encodingIntoAReusedBufferOverwritesThePreviousPacket() throws {
        let encoder = HEPEncoder(captureID: 7)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 8)
        defer { buffer.deallocate() }
        let source = try address("127.0.0.1:5060"), destination = try address("127.0.0.2:5070")
        let long = [UInt8](repeating: 0x41, count: 900), short = Array("BYE".utf8)
        for payload in [long, short] {
            let length = try #require(payload.withUnsafeBytes {
                encoder.encode($0, source: source, destination: destination, transport: .udp, seconds: 1, microseconds: 2, into: buffer)
            })
            let packet = Array(buffer.prefix(length))
            #expect(chunks(packet).last?.value == payload)
        }
    }

    @Test func senderDeliversOneDatagramPerMessageAndCountsDrops() throws {
        let receiver = try UDPProbe(bind: "127.0.0.1")
        let sender = try HEPSender(destination: try address("127.0.0.1:\(receiver.localPort)"),
                                   encoder: HEPEncoder(captureID: 42))
        let message = Array("OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nCall-ID: x\r\n\r\n".utf8)
        let source = try address("127.0.0.2:5070"), destination = try address("127.0.0.1:5060")
        let sent = message.withUnsafeBytes {
            sender.send($0, source: source, destination: destination, transport: .udp, seconds: 10, microseconds: 20)
        }
        #expect(sent)
        let datagram = try #require(receiver.receiveBytes(milliseconds: 2000))
        #expect(datagram == encode(HEPEncoder(captureID: 42), message, from: source, to: destination, seconds: 10, microseconds: 20))
        #expect(sender.counters.sent == 1 && sender.counters.dropped == 0)

        // A collector that is not listening: the kernel's port-unreachable makes later sends fail at once.
        let deadPort = try UDPProbe(bind: "127.0.0.1").localPort  // bound, then closed at once
        let orphan = try HEPSender(destination: try address("127.0.0.1:\(deadPort)"), encoder: HEPEncoder(captureID: 1))
        var tries = 0
        while orphan.counters.dropped == 0, tries < 50 {
            message.withUnsafeBytes {
                _ = orphan.send($0, source: source, destination: destination, transport: .udp, seconds: 0, microseconds: 0)
            }
            tries += 1
            usleep(10_000)
        }
        #expect(orphan.counters.dropped >= 1, "sends to a dead collector are dropped, not retried")
        #expect(orphan.counters.lastError == ECONNREFUSED)
    }
}
