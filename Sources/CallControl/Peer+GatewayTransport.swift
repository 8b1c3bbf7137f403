import SIPStack
import VOSModel

extension Peer.Transport {
    /// The stack's transport for a gateway configured with `vosctl gateway ... --transport`.
    init(_ configured: SIPAddress.Transport) {
        switch configured {
        case .udp: self = .udp
        case .tcp: self = .tcp
        }
    }
}
