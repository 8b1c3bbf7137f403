import HostNetwork
import VOSModel
import VOSStore

/// The stored settings that name this host's own addresses. Everything else in a backup moves to
/// a new host unchanged; these are what an operator checks after `vosctl restore` there.
enum HostSettings {
    /// One row per setting: name, value, and whether it fits this host.
    static func rows(_ store: Store) throws -> [[String]] {
        let (parameters, mapping, routing) = try store.read {
            (try $0.parameters(), try $0.mappingGateways(), try $0.routingGateways())
        }
        var rows: [[String]] = []
        if let mediaIP = parameters.mediaIP {
            rows.append([SystemParameter.mediaIP.rawValue, mediaIP.description, verdict(local: mediaIP)])
        } else {
            rows.append([SystemParameter.mediaIP.rawValue, "(every address)", "ok"])
        }
        let map = parameters.advertisedAddresses
        if map.isEmpty {
            rows.append([SystemParameter.advertisedAddresses.rawValue, "(none)", "ok"])
        }
        for pair in map.pairs {
            rows.append([SystemParameter.advertisedAddresses.rawValue, "\(pair.local)=\(pair.public)", verdict(local: pair.local)])
        }
        rows.append([SystemParameter.firewallManagementSubnets.rawValue, parameters.text(.firewallManagementSubnets), "check: who may reach SSH here"])
        for gateway in mapping where gateway.advertise != nil {
            rows.append(["gateway \(gateway.name) --advertise", gateway.advertise?.description ?? "", "check: this host's public address"])
        }
        for gateway in routing where gateway.advertise != nil {
            rows.append(["gateway \(gateway.name) --advertise", gateway.advertise?.description ?? "", "check: this host's public address"])
        }
        return rows
    }

    private static func verdict(local address: IPAddress) -> String {
        HostRoutes.isLocal(address) ? "ok" : "CHANGE: not an address of this host"
    }
}
