import Netfilter
import VOSModel
import VOSStore

/// What the store says about the firewall: whether it is on, and its settings.
public struct StoredFirewallConfiguration: Sendable, Equatable {
    /// `SS_FIREWALL_ENABLE`.
    public var enabled: Bool
    public var settings: FirewallSettings

    /// Reads parameters and gateways in one transaction.
    public static func load(from store: Store) throws -> StoredFirewallConfiguration {
        try store.read { transaction in
            from(parameters: try transaction.parameters(), mappingGateways: try transaction.mappingGateways(),
                 routingGateways: try transaction.routingGateways())
        }
    }

    /// Pure mapping from the model. Disabled gateways are not trusted: their calls are refused
    /// anyway, and a disabled peer keeping firewall trust would be a hole nobody sees.
    public static func from(parameters: ParameterSet, mappingGateways: [MappingGateway],
                            routingGateways: [RoutingGateway]) -> StoredFirewallConfiguration {
        var hosts = mappingGateways.filter(\.enabled).flatMap { $0.ips.map(\.description) }
        hosts += routingGateways.filter(\.enabled).map(\.address.host)
        let settings = FirewallSettings(
            gatewayHosts: hosts,
            managementSubnets: parameters.list(.firewallManagementSubnets),
            managementTCPPorts: ports(parameters, .firewallManagementPorts),
            sipPorts: ports(parameters, .firewallSIPPorts),
            rtpPortStart: parameters.int(.mediaProxyPortStart), rtpPortEnd: parameters.int(.mediaProxyPortEnd),
            optionsRate: parameters.int(.firewallOptionsRate), optionsBurst: parameters.int(.firewallOptionsBurst),
            registerRate: parameters.int(.firewallRegisterRate), registerBurst: parameters.int(.firewallRegisterBurst),
            inviteRate: parameters.int(.firewallInviteRate), inviteBurst: parameters.int(.firewallInviteBurst),
            banSeconds: parameters.int(.firewallBanTime),
            concurrentPerSource: parameters.int(.firewallConcurrentPerIP),
            concurrentPerNetwork: parameters.int(.firewallConcurrentPerSubnet),
            scannerUserAgents: parameters.list(.firewallScannerUserAgents))
        return StoredFirewallConfiguration(enabled: parameters.bool(.firewallEnable), settings: settings)
    }

    private static func ports(_ parameters: ParameterSet, _ parameter: SystemParameter) -> [Int] {
        parameters.list(parameter).compactMap { Int($0) }
    }
}
