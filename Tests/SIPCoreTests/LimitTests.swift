import Testing
@testable import SIPCore

@Suite struct LimitTests {
    private let head = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:a@b>\r\n"
        + "From: <sip:c@d>;tag=1\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n"

    private func kind(_ bytes: [UInt8], _ limits: SIPParserLimits = .default) -> SIPParseError.Kind? {
        do { _ = try SIPMessageParser(limits: limits).parse(bytes) } catch { return error.kind }
        return nil
    }

    @Test func messageSize() {
        let big = utf8(head + "\r\n") + [UInt8](repeating: 0x61, count: 70_000)
        #expect(kind(big) == .messageTooLarge)
    }

    @Test func headerCount() {
        let many = head + String(repeating: "X-A: 1\r\n", count: 300) + "\r\n"
        #expect(kind(utf8(many)) == .tooManyHeaders)
    }

    @Test func headerLength() {
        let long = head + "X-Long: " + String(repeating: "a", count: 9_000) + "\r\n\r\n"
        #expect(kind(utf8(long)) == .lineTooLong)
        let folded = head + "X-Long: a" + String(repeating: "\r\n aaaaaaaaaa", count: 900) + "\r\n\r\n"
        #expect(kind(utf8(folded)) == .lineTooLong)
    }

    @Test func listLength() {
        let vias = head + "Via: " + Array(repeating: "SIP/2.0/UDP h", count: 200).joined(separator: ",") + "\r\n\r\n"
        #expect(kind(utf8(vias)) == .invalidHeader)
    }

    @Test func customLimits() {
        let limits = SIPParserLimits(maxMessageSize: 100)
        #expect(kind(utf8(head + "\r\n"), limits) == .messageTooLarge)
        #expect(kind(utf8(head + "\r\n")) == nil)
    }
}
