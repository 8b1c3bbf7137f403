import Sockets
import VOSModel

extension SocketAddress {
    /// A test's literal address; the text is known to parse.
    init(_ ip: String, _ port: UInt16) {
        self.init(IPAddress(ip)!, port: port)
    }
}
