import MediaControl
import Sockets
import VOSModel

/// The one conversion between the protocol's text endpoints (`MediaEndpoint`, what SDP and the
/// controller say) and socket addresses, with the reasons the controller is told on refusal.
/// vos-mediad's kernel tables convert through here too.
extension SocketAddress {
    /// A relay address from protocol text: the address exactly as written (no brackets, no
    /// names), a port 0-65535.
    init(relayIP ip: String, port: Int) throws(RelayError) {
        guard let number = UInt16(exactly: port) else { throw .invalidAddress("\(ip):\(port)", reason: "port out of 0-65535") }
        guard let address = IPAddress(ip) else { throw .invalidAddress(ip, reason: "not an IPv4 or IPv6 address") }
        self.init(address, port: number)
    }

    public init(_ endpoint: MediaEndpoint) throws(RelayError) {
        try self.init(relayIP: endpoint.ip, port: endpoint.port)
    }

    public var endpoint: MediaEndpoint { MediaEndpoint(ip: ip, port: Int(port)) }
}
