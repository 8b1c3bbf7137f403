import MediaControl
import MediaRelay
import Sockets

extension SocketAddress {
    /// A relay endpoint for the kernel's `ip vos_media` and `ip vos_capture` tables, which are
    /// IPv4 only: nil for an IPv6 endpoint or text that is no address.
    init?(ipv4 endpoint: MediaEndpoint) {
        guard let address = try? SocketAddress(endpoint), address.family == .v4 else { return nil }
        self = address
    }
}
