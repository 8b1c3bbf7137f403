import Foundation
import Testing
import VOSTestSupport
import Sockets
import VOSModel
@testable import Netfilter

/// A relay namespace between caller `a` (203.0.113.1) and callee `b` (198.51.100.1) forwards
/// RTP entirely in the kernel through the vos_media maps.
@Suite("Media offload in the kernel", .serialized, .timeLimit(.minutes(3)))
struct MediaOffloadKernelTests {
    let call = OffloadedCall(
        sideA: SocketAddress("203.0.113.1", 4000), relayForA: SocketAddress("203.0.113.2", 20000),
        sideB: SocketAddress("198.51.100.1", 5000), relayForB: SocketAddress("198.51.100.2", 30000))

    @Test func relaysBothDirectionsWithDSCPAndCleansUpConntrack() throws {
        let a = try TestNamespace("ma")
        defer { a.remove() }
        let relay = try TestNamespace("mr")
        defer { relay.remove() }
        let b = try TestNamespace("mb")
        defer { b.remove() }
        try VethPair.make(a, relay, aAddress: "203.0.113.1/24", bAddress: "203.0.113.2/24")
        try VethPair.make(b, relay, aAddress: "198.51.100.1/24", bAddress: "198.51.100.2/24")
        try relay.exec(["sysctl", "-qw", "net.ipv4.ip_forward=1"])

        let call = self.call
        #expect(try relay.inside { try NftablesClient().ensureMediaTable() })
        #expect(try relay.inside { try NftablesClient().ensureMediaTable() } == false)

        // Before the offload, media to a relay port reaches the relay's socket untracked: no
        // conntrack entry for the offload to clean up or race with.
        let beforeOffload = try relay.inside { () -> [String] in
            let fd = try UDP.receiver(port: 20000)
            try a.inside { try UDP.send("rtp-to-relay", to: "203.0.113.2", port: 20000, from: 4000, count: 2) }
            return UDP.drain(fd)
        }
        #expect(beforeOffload == ["rtp-to-relay", "rtp-to-relay"])
        #expect(try relay.inside { try ConntrackClient().list(matching: ConntrackFilter(transport: 17)) }.isEmpty)

        try relay.inside { try NftablesClient().offload([call]) }
        // The call's NATed entry exists before its first kernel packet: created, not raced for.
        let created = try relay.inside { try ConntrackClient().list(matching: ConntrackFilter(transport: 17)) }
        #expect(created.count == 1)
        #expect(created.first?.destinationPort == 20000 && created.first?.replySource == IPAddress("198.51.100.1"))
        let listing = try relay.exec(["nft", "list", "table", "ip", "vos_media"])
        #expect(listing.contains("203.0.113.1 . 4000 . 20000 : 198.51.100.1 . 5000"))
        #expect(listing.contains("198.51.100.1 . 5000 . 30000 : 203.0.113.1 . 4000"))

        // What an admin sees on the callee side: packets from the relay port, marked EF.
        let dumpPath = NSTemporaryDirectory() + "vos-offload-dump-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dumpPath) }
        let capture = try SpawnedChild(["/usr/sbin/ip", "netns", "exec", b.name, "timeout", "-s", "KILL", "4", "tcpdump", "-l", "-n", "-v", "-c", "1",
                                        "-i", "any", "udp and dst port 5000"], stdoutPath: dumpPath, stderrPath: "/dev/null")
        var sent = 0
        let deadline = Date().addingTimeInterval(5)
        while capture.isRunning && Date() < deadline {
            try a.inside { try UDP.send("rtp-a-to-b", to: "203.0.113.2", port: 20000, from: 4000) }
            sent += 1
            Thread.sleep(forTimeInterval: 0.1)
        }
        capture.waitUntilExit()
        let dump = (try? String(contentsOfFile: dumpPath, encoding: .utf8)) ?? ""
        #expect(dump.contains("tos 0xb8"), "\(dump)")
        #expect(dump.contains("198.51.100.2.30000 > 198.51.100.1.5000"), "\(dump)")

        // The reply direction goes back to the caller's latched port from the relay port it used.
        let replies = try a.inside { () -> [String] in
            let fd = try UDP.receiver(port: 4000)
            try b.inside { try UDP.send("rtp-b-to-a", to: "198.51.100.2", port: 30000, from: 5000, count: 3) }
            return UDP.drain(fd)
        }
        #expect(replies == ["rtp-b-to-a", "rtp-b-to-a", "rtp-b-to-a"])

        let counters = try relay.inside { try NftablesClient().offloadedFlowCounters() }
        let forward = counters.first { $0.source == call.sideA }
        let backward = counters.first { $0.source == call.sideB }
        #expect(forward?.destination == call.sideB)
        #expect((forward?.packets ?? 0) >= 1 && (forward?.packets ?? 0) <= UInt64(sent))
        #expect(backward?.packets == 3)
        // The allocation-free dump the periodic activity check uses reads the same counters.
        let fast = try relay.inside { () -> [FlowKey: [UInt64]] in
            var seen: [FlowKey: [UInt64]] = [:]
            try NftablesClient().forEachFlowCounter { key, packets, bytes in seen[key] = [packets, bytes] }
            return seen
        }
        #expect(fast == Dictionary(uniqueKeysWithValues: counters.map {
            (FlowKey(source: $0.source, destination: $0.destination), [$0.packets, $0.bytes])
        }))
        #expect(fast.count == 2)

        let tracked = try relay.inside { try ConntrackClient().list(matching: ConntrackFilter(transport: 17, destinationPort: 20000)) }
        #expect(tracked.count == 1)
        #expect(tracked.first?.replySource == IPAddress("198.51.100.1"))

        try relay.inside { try NftablesClient().stopOffloading([call]) }
        #expect(try relay.inside { try ConntrackClient().list(matching: ConntrackFilter(transport: 17)) }.isEmpty)
        let conntrackListing = try relay.exec(["conntrack", "-L"], allowFailure: true)
        #expect(!conntrackListing.contains("dport=20000"))
        #expect(try relay.inside { try NftablesClient().offloadedFlowCounters() }.isEmpty)
        #expect(try relay.inside { try NftablesClient().audit(MediaOffloadTable.model()) }.isEmpty)
    }

    @Test func offloadRejectsIPv6() throws {
        let ns = try TestNamespace("m6")
        defer { ns.remove() }
        let v6 = SocketAddress("2001:db8::1", 4000)
        let call = OffloadedCall(sideA: v6, relayForA: self.call.relayForA, sideB: self.call.sideB, relayForB: self.call.relayForB)
        #expect(throws: NetfilterError.self) { try ns.inside { try NftablesClient().offload([call]) } }
    }
}
