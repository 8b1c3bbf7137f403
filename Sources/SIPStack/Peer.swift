/// Where a message came from or goes to: address plus transport (and, for TCP, the connection
/// it arrived on, so responses reuse it).
public struct Peer: Hashable, Sendable, CustomStringConvertible {
    public enum Transport: String, Sendable { case udp = "UDP", tcp = "TCP" }

    public var address: SocketAddress
    public var transport: Transport

    public init(address: SocketAddress, transport: Transport = .udp) {
        self.address = address
        self.transport = transport
    }

    public var isReliable: Bool { transport == .tcp }

    public var description: String { "\(transport.rawValue.lowercased()):\(address)" }
}

/// RFC 3261 §17 timer base values.
public struct TransactionTimers: Sendable {
    public var t1: Duration = .milliseconds(500)
    public var t2: Duration = .seconds(4)
    public var t4: Duration = .seconds(5)

    public init() {}

    /// 64*T1: how long a client waits for a final response, and a server for an ACK.
    public var transactionTimeout: Duration { t1 * 64 }
}
