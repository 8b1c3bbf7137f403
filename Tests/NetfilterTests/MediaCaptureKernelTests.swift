import Foundation
import Glibc
import Testing
import Sockets
import VOSModel
@testable import Netfilter

/// In one namespace: a leg socket bound to 127.0.0.1:24002 and an I/O thread's capture socket
/// (0.0.0.0:23999, IP_TRANSPARENT); the vos_capture map decides which of them gets the leg's packets.
@Suite("Media capture in the kernel", .serialized, .timeLimit(.minutes(3)))
struct MediaCaptureKernelTests {
    static let capturePort: UInt16 = 23999
    let leg = SocketAddress("127.0.0.1", 24002)
    let otherLeg = SocketAddress("127.0.0.1", 24004)

    @Test func loweringMatchesNftBytecode() throws {
        let rules = try #require(MediaCaptureTable.model().chains.first?.rules)
        try #require(rules.count == 2)
        let portRange = [
            "[ meta load l4proto => reg 1 ]",
            "[ cmp eq reg 1 0x11 ]",
            "[ payload load 2b @ transport header + 2 => reg 1 ]",
            "[ cmp gte reg 1 0x2710 ]",
            "[ cmp lte reg 1 0xea60 ]",
        ]
        // `nft --debug=netlink` for the same rules, without the lookup's flags field.
        #expect(try RuleLowering.lower(rules[0], in: .ip).map(\.description) == portRange + [
            "[ payload load 4b @ network header + 16 => reg 1 ]",
            "[ payload load 2b @ transport header + 2 => reg 9 ]",
            "[ lookup reg 1 set ports dreg 1 ]",
            "[ tproxy ip port reg 1 ]",
            "[ immediate reg 0 accept ]",
        ])
        #expect(try RuleLowering.lower(rules[1], in: .ip).map(\.description) == portRange + [
            "[ fib daddr type => reg 1 ]",
            "[ cmp eq reg 1 0x02000000 ]",
            "[ payload load 2b @ transport header + 2 => reg 1 ]",
            "[ lookup reg 1 set wildcard_ports dreg 1 ]",
            "[ tproxy ip port reg 1 ]",
        ])
        #expect(RulesetRenderer.render(rules[0])
            == "udp dport 10000-60000 tproxy to : ip daddr . udp dport map @ports accept comment \"\(rules[0].comment)\"")
        #expect(RulesetRenderer.render(rules[1])
            == "udp dport 10000-60000 fib daddr type local tproxy to : udp dport map @wildcard_ports comment \"\(rules[1].comment)\"")
    }

    @Test func steersLegPortsToTheCaptureSocket() throws {
        let ns = try TestNamespace("cap")
        defer { ns.remove() }
        let leg = self.leg, otherLeg = self.otherLeg
        let captured = CapturedPort(local: leg, capturePort: Self.capturePort)
        let otherCaptured = CapturedPort(local: otherLeg, capturePort: Self.capturePort)

        #expect(try ns.inside { try NftablesClient().ensureCaptureTable() })
        #expect(try ns.inside { try NftablesClient().ensureCaptureTable() } == false)

        let capture = try ns.inside { try CaptureSocket.bind("0.0.0.0", Self.capturePort, transparent: true) }
        defer { close(capture) }
        let legSocket = try ns.inside { try CaptureSocket.bind("127.0.0.1", leg.port, transparent: false) }
        defer { close(legSocket) }

        try ns.inside { try NftablesClient().addCapture([captured, otherCaptured]) }
        // The same mapping again is a no-op; another capture port for a captured leg is refused.
        try ns.inside { try NftablesClient().addCapture([captured]) }
        #expect(throws: NetfilterError.self) {
            try ns.inside { try NftablesClient().addCapture([CapturedPort(local: leg, capturePort: 23998)]) }
        }
        #expect(Set(try ns.inside { try NftablesClient().capturedPorts() }) == [captured, otherCaptured])

        try ns.inside { try UDP.send("rtp-captured", to: "127.0.0.1", port: leg.port) }
        let first = CaptureSocket.receive(capture, timeoutMilliseconds: 2000)
        #expect(first?.payload == "rtp-captured")
        #expect(first?.originalDestination == leg)
        #expect(CaptureSocket.receive(legSocket, timeoutMilliseconds: 300) == nil)

        try ns.inside { try NftablesClient().removeCapture([leg]) }
        #expect(try ns.inside { try NftablesClient().capturedPorts() } == [otherCaptured])
        try ns.inside { try UDP.send("rtp-direct", to: "127.0.0.1", port: leg.port) }
        #expect(CaptureSocket.receive(legSocket, timeoutMilliseconds: 2000)?.payload == "rtp-direct")
        #expect(CaptureSocket.receive(capture, timeoutMilliseconds: 300) == nil)

        // A missing element must not keep the present one from being removed.
        try ns.inside { try NftablesClient().removeCapture([leg, otherLeg]) }
        #expect(try ns.inside { try NftablesClient().capturedPorts() }.isEmpty)
        try ns.inside { try NftablesClient().removeCapture([leg]) }

        #expect(try ns.inside { try NftablesClient().audit(MediaCaptureTable.model()) }.isEmpty)
        try ns.inside { try NftablesClient().removeCaptureTable() }
        #expect(try ns.inside { try NftablesClient().read(.ip, MediaCaptureTable.name) } == nil)
        try ns.inside { try NftablesClient().removeCaptureTable() }
        try ns.inside { try NftablesClient().removeCapture([leg]) }
    }

    /// A leg bound to 0.0.0.0 (the appliance's default media address) is captured by its port on
    /// any local address, as its own socket would receive it.
    @Test func steersWildcardLegsByPortOnLocalAddresses() throws {
        let ns = try TestNamespace("capw")
        defer { ns.remove() }
        let wildcardLeg = SocketAddress("0.0.0.0", 24006)
        let captured = CapturedPort(local: wildcardLeg, capturePort: Self.capturePort)
        #expect(try ns.inside { try NftablesClient().ensureCaptureTable() })
        let capture = try ns.inside { try CaptureSocket.bind("0.0.0.0", Self.capturePort, transparent: true) }
        defer { close(capture) }
        let legSocket = try ns.inside { try CaptureSocket.bind("0.0.0.0", wildcardLeg.port, transparent: false) }
        defer { close(legSocket) }

        try ns.inside { try NftablesClient().addCapture([captured, CapturedPort(local: leg, capturePort: Self.capturePort)]) }
        #expect(Set(try ns.inside { try NftablesClient().capturedPorts() })
                == [captured, CapturedPort(local: leg, capturePort: Self.capturePort)])
        let listing = try ns.exec(["nft", "list", "map", "ip", "vos_capture", "wildcard_ports"])
        #expect(listing.contains("24006 : 23999"), "\(listing)")

        try ns.inside { try UDP.send("rtp-wildcard", to: "127.0.0.1", port: wildcardLeg.port) }
        let first = CaptureSocket.receive(capture, timeoutMilliseconds: 2000)
        #expect(first?.payload == "rtp-wildcard")
        #expect(first?.originalDestination == SocketAddress("127.0.0.1", wildcardLeg.port))
        #expect(CaptureSocket.receive(legSocket, timeoutMilliseconds: 300) == nil)

        try ns.inside { try NftablesClient().removeCapture([wildcardLeg]) }
        #expect(try ns.inside { try NftablesClient().capturedPorts() } == [CapturedPort(local: leg, capturePort: Self.capturePort)])
        try ns.inside { try UDP.send("rtp-direct", to: "127.0.0.1", port: wildcardLeg.port) }
        #expect(CaptureSocket.receive(legSocket, timeoutMilliseconds: 2000)?.payload == "rtp-direct")
        #expect(CaptureSocket.receive(capture, timeoutMilliseconds: 300) == nil)
        #expect(try ns.inside { try NftablesClient().audit(MediaCaptureTable.model()) }.isEmpty)
    }

    @Test func captureRejectsIPv6() throws {
        let ns = try TestNamespace("cap6")
        defer { ns.remove() }
        let v6 = CapturedPort(local: SocketAddress("2001:db8::1", 24002), capturePort: Self.capturePort)
        #expect(try ns.inside { try NftablesClient().ensureCaptureTable() })
        #expect(throws: NetfilterError.invalidInput("media capture is IPv4 only: \(v6.local)")) {
            try ns.inside { try NftablesClient().addCapture([v6]) }
        }
    }
}

/// UDP sockets as vos-mediad's I/O threads use them (bind inside the namespace, read anywhere).
enum CaptureSocket {
    struct Datagram: Equatable {
        var payload: String
        /// IP_ORIGDSTADDR: where the sender addressed the packet before TPROXY redirected it.
        var originalDestination: SocketAddress?
    }

    static func bind(_ address: String, _ port: UInt16, transparent: Bool) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw TestNamespace.CommandFailed(command: ["socket"], status: errno, output: "") }
        var one: Int32 = 1
        let size = socklen_t(MemoryLayout<Int32>.size)
        if transparent {
            guard setsockopt(fd, Int32(IPPROTO_IP), IP_TRANSPARENT, &one, size) == 0,
                  setsockopt(fd, Int32(IPPROTO_IP), IP_RECVORIGDSTADDR, &one, size) == 0 else {
                let code = errno
                close(fd)
                throw TestNamespace.CommandFailed(command: ["setsockopt IP_TRANSPARENT"], status: code, output: String(cString: strerror(code)))
            }
        }
        let bound = SocketAddress(address, port).withSockaddr { Glibc.bind(fd, $0, $1) }
        guard bound == 0 else {
            let code = errno
            close(fd)
            throw TestNamespace.CommandFailed(command: ["bind \(address):\(port)"], status: code, output: String(cString: strerror(code)))
        }
        return fd
    }

    /// The next datagram within the timeout, or nil.
    static func receive(_ fd: Int32, timeoutMilliseconds: Int32) -> Datagram? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, timeoutMilliseconds) == 1 else { return nil }
        var payload = [UInt8](repeating: 0, count: 2048)
        var control = [UInt8](repeating: 0, count: 256)
        var controlLength = 0
        let received = payload.withUnsafeMutableBytes { data in
            control.withUnsafeMutableBytes { controlBuffer in
                var vector = iovec(iov_base: data.baseAddress, iov_len: data.count)
                return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                    var message = msghdr()
                    message.msg_iov = vectorPointer
                    message.msg_iovlen = 1
                    message.msg_control = controlBuffer.baseAddress
                    message.msg_controllen = controlBuffer.count
                    let count = recvmsg(fd, &message, Int32(MSG_DONTWAIT))
                    controlLength = Int(message.msg_controllen)
                    return count
                }
            }
        }
        guard received >= 0 else { return nil }
        return Datagram(
            payload: String(decoding: payload[0..<received], as: UTF8.self),
            originalDestination: originalDestination(control, length: controlLength))
    }

    /// Walks the control messages by hand: the CMSG_* macros are not visible from Swift.
    static func originalDestination(_ control: [UInt8], length: Int) -> SocketAddress? {
        let headerSize = MemoryLayout<cmsghdr>.size
        var offset = 0
        return control.withUnsafeBytes { raw -> SocketAddress? in
            while offset + headerSize <= min(length, raw.count) {
                let header = raw.loadUnaligned(fromByteOffset: offset, as: cmsghdr.self)
                let dataOffset = offset + ((headerSize + 7) & ~7)
                if header.cmsg_level == Int32(IPPROTO_IP), header.cmsg_type == IP_ORIGDSTADDR,
                   dataOffset + MemoryLayout<sockaddr_in>.size <= raw.count {
                    let address = raw.loadUnaligned(fromByteOffset: dataOffset, as: sockaddr_in.self)
                    return SocketAddress(IPAddress(address.sin_addr), port: UInt16(bigEndian: address.sin_port))
                }
                guard header.cmsg_len > 0 else { return nil }
                offset += (Int(header.cmsg_len) + 7) & ~7
            }
            return nil
        }
    }
}
