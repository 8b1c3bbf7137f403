import Foundation
import MediaControl

/// Network namespaces for one test, joined by veth pairs, always torn down by `destroy()` (call
/// it in a `defer`). Names carry the test process id, and namespaces left behind by a crashed
/// earlier run (whose process is gone) are removed on creation.
///
///     caller 198.51.100.2 ── .1 nat 203.0.113.2 ── 203.0.113.1 relay 192.0.2.1 ── 192.0.2.2 callee
///     (behind masquerade)                                        192.0.2.129 ── 192.0.2.130 intruder
final class NetworkLab {
    static let prefix = "vosmr"
    let tag: String
    /// Short label of this lab: part of veth names, so labs of suites running in parallel differ.
    let label: String
    private(set) var namespaces: [String] = []

    init(_ name: String) {
        tag = "\(Self.prefix)\(getpid())\(name)"
        label = String(name.prefix(1))
        Self.removeAbandoned()
    }

    func namespace(_ role: String) -> String { "\(tag)-\(role)" }

    /// `ip netns exec NS` prefix for a command.
    func inside(_ role: String, _ arguments: [String]) -> [String] { ["ip", "netns", "exec", namespace(role)] + arguments }

    func addNamespace(_ role: String) throws {
        try Command.run(["ip", "netns", "add", namespace(role)])
        namespaces.append(namespace(role))
        try Command.run(inside(role, ["ip", "link", "set", "lo", "up"]))
    }

    /// The name of one end of the veth pair `link(device:)` made: the left end is `a`, the right `b`.
    func interface(_ device: String, end: Character) -> String {
        // Interface names are at most 15 bytes and must be unique in the root namespace while created.
        "v\(getpid() % 100000)\(label)\(device)\(end)"
    }

    /// A veth pair between two namespaces with an address on each end.
    func link(_ left: String, _ leftAddress: String, _ right: String, _ rightAddress: String, device: String) throws {
        let leftName = interface(device, end: "a")
        let rightName = interface(device, end: "b")
        try Command.run(["ip", "link", "add", leftName, "type", "veth", "peer", "name", rightName])
        try Command.run(["ip", "link", "set", leftName, "netns", namespace(left)])
        try Command.run(["ip", "link", "set", rightName, "netns", namespace(right)])
        try Command.run(inside(left, ["ip", "addr", "add", leftAddress, "dev", leftName]))
        try Command.run(inside(right, ["ip", "addr", "add", rightAddress, "dev", rightName]))
        try Command.run(inside(left, ["ip", "link", "set", leftName, "up"]))
        try Command.run(inside(right, ["ip", "link", "set", rightName, "up"]))
    }

    /// A call through the topology below, legs on the relay's two addresses: the caller's SDP
    /// carries its private address (only the NAT's public one is reachable), the callee its own.
    static let callLegs = [
        LegRequest(local: "203.0.113.1", remote: MediaEndpoint(ip: "198.51.100.2", port: 4000)),
        LegRequest(local: "192.0.2.1", remote: MediaEndpoint(ip: "192.0.2.2", port: 5000)),
    ]

    /// The full call topology of the diagram above.
    func buildCallTopology() throws {
        for role in ["caller", "nat", "relay", "callee", "intruder"] { try addNamespace(role) }
        try link("caller", "198.51.100.2/24", "nat", "198.51.100.1/24", device: "cn")
        try link("nat", "203.0.113.2/24", "relay", "203.0.113.1/24", device: "nr")
        try link("relay", "192.0.2.1/25", "callee", "192.0.2.2/25", device: "re")
        try link("relay", "192.0.2.129/25", "intruder", "192.0.2.130/25", device: "ri")
        try Command.run(inside("caller", ["ip", "route", "add", "default", "via", "198.51.100.1"]))
        try Command.run(inside("callee", ["ip", "route", "add", "default", "via", "192.0.2.1"]))
        try Command.run(inside("intruder", ["ip", "route", "add", "default", "via", "192.0.2.129"]))
        try Command.run(inside("nat", ["sysctl", "-qw", "net.ipv4.ip_forward=1"]))
        // The relay has no route back to 198.51.100.0/24: it can only reach the caller through
        // the address it latches (the NAT's), as in the field.
        try nft("nat", """
            table ip nat {
              chain postrouting { type nat hook postrouting priority srcnat; oifname "\(interface("nr", end: "a"))" masquerade; }
            }
            """)
    }

    func nft(_ role: String, _ ruleset: String) throws {
        let file = NSTemporaryDirectory() + "\(tag)-\(role)-\(UInt32.random(in: 0...UInt32.max)).nft"
        try ruleset.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        try Command.run(inside(role, ["nft", "-f", file]))
    }

    /// Counters `ef` and `other` (table `inet probe` in the callee) of the relay's packets from
    /// 192.0.2.1:`relayPort`, split by DSCP EF or not; read them with `probeCounter`.
    func installDSCPProbe(relayPort: Int) throws {
        try nft("callee", """
            table inet probe {
              counter ef {}
              counter other {}
              chain input {
                type filter hook input priority 0; policy accept;
                ip saddr 192.0.2.1 udp sport \(relayPort) ip dscp ef counter name "ef"
                ip saddr 192.0.2.1 udp sport \(relayPort) ip dscp != ef counter name "other"
              }
            }
            """)
    }

    /// Packets counted so far by probe counter `name` (see `installDSCPProbe`).
    func probeCounter(_ name: String) throws -> Int {
        let listing = try Command.run(inside("callee", ["nft", "list", "counter", "inet", "probe", name])).output
        guard let range = listing.range(of: #"packets \d+"#, options: .regularExpression),
              let value = Int(listing[range].dropFirst("packets ".count)) else {
            throw CounterUnreadable(listing: listing)
        }
        return value
    }

    struct CounterUnreadable: Error, CustomStringConvertible {
        let listing: String
        var description: String { "no packet count in nft output:\n\(listing)" }
    }

    func destroy() {
        for name in namespaces.reversed() { Command.attempt(["ip", "netns", "del", name]) }
        namespaces.removeAll()
    }

    private static func removeAbandoned() {
        guard let list = try? Command.run(["ip", "netns", "list"]) else { return }
        for line in list.output.split(separator: "\n") {
            let name = String(line.split(separator: " ").first ?? "")
            guard name.hasPrefix(prefix) else { continue }
            let digits = name.dropFirst(prefix.count).prefix { $0.isNumber }
            guard let pid = Int32(digits), pid != getpid(), kill(pid, 0) != 0 else { continue }
            Command.attempt(["ip", "netns", "del", name])
        }
    }
}
