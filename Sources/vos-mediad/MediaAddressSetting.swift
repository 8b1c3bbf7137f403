import HostNetwork
import VOSModel

/// The local IP media legs bind to when a request names none (`RelayConfiguration.defaultLocalIP`):
/// `--media-ip` when given (an explicit override for tests and benchmarks), else `SS_MEDIA_IP`
/// from the store (followed at run time), else the wildcard, i.e. every address of the host.
struct MediaAddressSetting: Sendable {
    /// `--media-ip`; nil follows the store.
    let override: IPAddress?

    static let wildcard = IPAddress.v4(0)

    struct Choice: Equatable {
        let address: IPAddress
        /// Where it came from, for messages: `--media-ip`, `SS_MEDIA_IP` or the default.
        let origin: String
    }

    func choice(_ parameters: ParameterSet) -> Choice {
        if let override { return Choice(address: override, origin: "--media-ip") }
        if let stored = parameters.mediaIP { return Choice(address: stored, origin: SystemParameter.mediaIP.rawValue) }
        return Choice(address: Self.wildcard, origin: "\(SystemParameter.mediaIP.rawValue) empty: all addresses")
    }

    /// Why legs cannot bind to `choice`, or nil: an address this host does not have would fail
    /// every session's bind.
    func problem(_ choice: Choice) -> String? {
        guard !HostRoutes.isLocal(choice.address) else { return nil }
        let remedy = override == nil
            ? "set \(SystemParameter.mediaIP.rawValue) to one of its addresses or clear it (vosctl param reset \(SystemParameter.mediaIP.rawValue))"
            : "give --media-ip one of its addresses, or leave it out to use \(SystemParameter.mediaIP.rawValue)"
        return "media IP \(choice.address) (\(choice.origin)) is not an address of this host; \(remedy)"
    }
}
