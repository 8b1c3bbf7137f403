import Testing
@testable import SIPStack

/// The trace ring behind `vosctl trace`: bounded by bytes and by entries, oldest messages give
/// way, both legs of a call come back in order, Call-IDs found in long and compact form.
@Suite struct SIPTraceRingTests {
    static let local = SocketAddress(.v4(0x7F00_0001), port: 5060)
    static let customer = SocketAddress(.v4(0x7F00_0002), port: 5070)
    static let vendor = SocketAddress(.v4(0x7F00_0003), port: 5080)

    static func request(_ method: String, callID: String, compact: Bool = false, padding: Int = 0) -> String {
        "\(method) sip:4420@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bK1\r\n"
            + "From: <sip:a@x>;tag=1\r\nTo: <sip:b@y>\r\n" + (compact ? "i: " : "Call-ID: ") + callID + "\r\n"
            + "CSeq: 1 \(method)\r\nX-Pad: \(String(repeating: "p", count: padding))\r\nContent-Length: 0\r\n\r\n"
    }

    static func response(_ status: String, callID: String) -> String {
        "SIP/2.0 \(status)\r\nVia: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\n"
            + "To: <sip:b@y>;tag=2\r\nCall-ID: \(callID)\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
    }

    private func record(_ ring: SIPTraceRing, _ text: String, _ direction: SIPTraceRing.Direction = .received,
                        remote: SocketAddress = customer, transport: Peer.Transport = .udp, time: Int64) {
        Array(text.utf8).withUnsafeBytes {
            ring.record($0, direction: direction, transport: transport, local: Self.local, remote: remote, time: time)
        }
    }

    private func callID(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { raw in
            SIPTraceRing.callIDRange(in: raw).map { String(decoding: bytes[$0], as: UTF8.self) }
        }
    }

    private func isSIP(_ text: String) -> Bool { Array(text.utf8).withUnsafeBytes { SIPTraceRing.isSIPMessage($0) } }

    @Test func findsTheCallIDInLongAndCompactFormOnly() {
        #expect(callID(Self.request("INVITE", callID: "abc@host")) == "abc@host")
        #expect(callID(Self.request("BYE", callID: "k1", compact: true)) == "k1")
        #expect(callID("OPTIONS sip:x SIP/2.0\r\ncall-id:   spaced\t \r\n\r\n") == "spaced", "case-insensitive, white space trimmed")
        #expect(callID("OPTIONS sip:x SIP/2.0\r\nCall-Info: <http://x>\r\nIf-Match: y\r\n\r\n") == nil, "similar names are not it")
        #expect(callID("OPTIONS sip:i:x SIP/2.0\r\nVia: a\r\n\r\ni: in-the-body\r\n") == nil, "only the header section, not the start line")
        #expect(callID("OPTIONS sip:x SIP/2.0\nCall-ID: bare-lf\n\n") == "bare-lf")
    }

    @Test func tellsSIPFromKeepAlives() {
        #expect(isSIP(Self.request("INVITE", callID: "a")))
        #expect(isSIP(Self.response("200 OK", callID: "a")))
        #expect(!isSIP("\r\n\r\n"))
        #expect(!isSIP("HELLO"))
        #expect(!isSIP("SIP/2.0"))
        #expect(!isSIP("GET / HTTP/1.1\r\n\r\n"))
    }

    @Test func returnsOneCallsMessagesInOrderWithTheirAddresses() {
        let ring = SIPTraceRing(capacityBytes: 64 << 10)
        record(ring, Self.request("INVITE", callID: "call-1"), time: 1_000_000)
        record(ring, Self.request("OPTIONS", callID: "other"), time: 1_000_500)
        record(ring, Self.response("100 Trying", callID: "call-1"), .sent, time: 1_001_000)
        record(ring, Self.request("BYE", callID: "call-1", compact: true), remote: Self.customer, transport: .tcp, time: 1_002_000)
        let messages = ring.messages(callID: "call-1")
        #expect(messages.map(\.time) == [1_000_000, 1_001_000, 1_002_000])
        #expect(messages.map(\.direction) == ["in", "out", "in"])
        #expect(messages.map(\.transport) == ["udp", "udp", "tcp"])
        #expect(messages.allSatisfy { $0.remote == "127.0.0.2:5070" && $0.local == "127.0.0.1:5060" && $0.callID == "call-1" })
        #expect(messages[1].message == Self.response("100 Trying", callID: "call-1"))
        #expect(ring.messages(callID: "nope").isEmpty)
        #expect(ring.messages(callID: "call-").isEmpty, "whole Call-IDs only")
    }

    @Test func aVendorLegLinkedToItsCallComesBackWithIt() {
        let ring = SIPTraceRing(capacityBytes: 64 << 10)
        record(ring, Self.request("INVITE", callID: "customer-1"), time: 1)
        record(ring, Self.request("INVITE", callID: "vendor-a"), .sent, remote: Self.vendor, time: 2)
        ring.link(leg: "vendor-a", to: "customer-1")
        record(ring, Self.response("503 Service Unavailable", callID: "vendor-a"), remote: Self.vendor, time: 3)
        record(ring, Self.request("INVITE", callID: "vendor-b"), .sent, remote: Self.vendor, time: 4)
        ring.link(leg: "vendor-b", to: "customer-1")
        record(ring, Self.request("INVITE", callID: "unrelated"), time: 5)
        record(ring, Self.response("200 OK", callID: "customer-1"), .sent, time: 6)
        let byCustomer = ring.messages(callID: "customer-1")
        #expect(byCustomer.map(\.time) == [1, 2, 3, 4, 6])
        #expect(ring.messages(callID: "vendor-b").map(\.time) == [1, 2, 3, 4, 6], "either leg's Call-ID finds the call")
        #expect(ring.messages(callID: "unrelated").map(\.time) == [5])
    }

    @Test func oldestMessagesGiveWayWhenTheBytesRunOut() {
        // 4 KiB of arena, entries plenty: each message is ~300 bytes, so about 13 fit.
        let ring = SIPTraceRing(capacityBytes: 4096, capacityMessages: 1000)
        let size = Self.request("INVITE", callID: "c0", padding: 100).utf8.count
        for index in 0..<100 {
            record(ring, Self.request("INVITE", callID: "c\(index)", padding: 100 + index % 3), time: Int64(index))
            #expect(ring.byteCount <= 4096)
            #expect(ring.messageCount <= 4096 / size + 1)
        }
        let kept = (0..<100).filter { !ring.messages(callID: "c\($0)").isEmpty }
        #expect(kept.count == ring.messageCount)
        #expect(kept.count >= 4096 / (size + 2) - 1, "the arena is used, not just its first pass: \(kept)")
        #expect(kept == Array((100 - kept.count)..<100), "exactly the newest survive")
        #expect(ring.oldestTime == Int64(100 - kept.count))
        // Every surviving message reads back intact across the wraps.
        for index in kept {
            #expect(ring.messages(callID: "c\(index)").first?.message == Self.request("INVITE", callID: "c\(index)", padding: 100 + index % 3))
        }
    }

    @Test func oldestMessagesGiveWayWhenTheEntriesRunOut() {
        let ring = SIPTraceRing(capacityBytes: 1 << 20, capacityMessages: 8)
        for index in 0..<20 { record(ring, Self.request("OPTIONS", callID: "o\(index)"), time: Int64(index)) }
        #expect(ring.messageCount == 8)
        #expect((0..<20).filter { !ring.messages(callID: "o\($0)").isEmpty } == Array(12..<20))
        #expect(ring.status.ringMessages == 8 && ring.status.ringCapacityMessages == 8 && ring.status.ringOldest == 12)
    }

    @Test func aMessageLargerThanTheArenaKeepsItsStart() {
        let ring = SIPTraceRing(capacityBytes: 1024)
        let huge = Self.request("MESSAGE", callID: "big", padding: 5000)
        record(ring, Self.request("OPTIONS", callID: "small"), time: 1)
        record(ring, huge, time: 2)
        let kept = ring.messages(callID: "big")
        #expect(kept.count == 1)
        #expect(kept.first?.message == String(decoding: Array(huge.utf8).prefix(1024), as: UTF8.self))
        #expect(ring.messages(callID: "small").isEmpty, "it took the whole arena")
        #expect(ring.byteCount == 1024)
    }
}
