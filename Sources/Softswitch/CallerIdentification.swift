import VOSModel

/// Finds the mapping gateway a request came from. Built once per configuration generation so
/// the per-INVITE lookup is one dictionary probe.
public struct CallerIdentification: Sendable {
    private var byAddress: [IPAddress: [MappingGateway]] = [:]

    public init(gateways: [MappingGateway]) {
        // Disabled gateways are identified too: their calls are refused with a CDR
        // (UnauthorizedSource), and a customer the operator switched off is not a scanner to ban.
        for gateway in gateways {
            for ip in gateway.ips { byAddress[ip, default: []].append(gateway) }
        }
    }

    /// The gateway for a source; an `ip-port` gateway matches only its own port, and wins over
    /// an `ip` gateway on the same address.
    public func gateway(source: IPAddress, port: Int) -> MappingGateway? {
        guard let candidates = byAddress[source] else { return nil }
        if let exact = candidates.first(where: { $0.authentication == .ipPort && $0.port == port }) { return exact }
        return candidates.first(where: { $0.authentication == .ip })
    }
}
