import Glibc
import VOSModel

/// An address in the firewall's ban set.
public struct BanEntry: Sendable, Equatable {
    public var address: IPAddress
    public var timeoutSeconds: Int?
    public var expiresInSeconds: Int?
    /// Kept in the element's comment, so `nft list set inet vos_filter ban_v4` shows it too.
    public var reason: String?
}

/// Ban-set operations on the live `inet vos_filter` table (the controller feeds these; flood
/// rules add entries from the packet path). Reasons live in the kernel with the element.
extension NftablesClient {
    private func banTarget(_ address: IPAddress) -> (Table, NamedSet) {
        let family: AddressFamily = address.isIPv4 ? .ipv4 : .ipv6
        let set = NamedSet(name: FirewallCompiler.banSetName(family), keyFields: [FirewallCompiler.addressType(family)])
        return (Table(family: .inet, name: FirewallCompiler.tableName), set)
    }

    /// Bans `address` for `seconds`; banning it again restarts the timeout.
    public func ban(_ address: IPAddress, seconds: Int, reason: String) throws {
        let (table, set) = banTarget(address)
        let batch = NetlinkBatch(socket: socket)
        let spec = ElementSpec(key: address.bytes, timeoutMilliseconds: UInt64(max(1, seconds)) * 1000, comment: reason)
        addElementMessages(table, set, [spec], to: batch, adding: true)
        try socket.send(batch)
    }

    /// Lifts a ban; returns false when the address was not banned.
    @discardableResult
    public func unban(_ address: IPAddress) throws -> Bool {
        let (table, set) = banTarget(address)
        let batch = NetlinkBatch(socket: socket)
        addElementMessages(table, set, [ElementSpec(key: address.bytes)], to: batch, adding: false)
        do {
            try socket.send(batch)
            return true
        } catch let NetfilterError.kernel(_, code, _) where code == ENOENT {
            return false
        }
    }

    /// Current bans, IPv4 first, each with its remaining lifetime and reason.
    public func bans() throws -> [BanEntry] {
        var entries: [BanEntry] = []
        for family in [AddressFamily.ipv4, .ipv6] {
            for element in try listElements(.inet, FirewallCompiler.tableName, set: FirewallCompiler.banSetName(family)) {
                guard let address = IPAddress(bytes: element.key) else { continue }
                entries.append(BanEntry(
                    address: address, timeoutSeconds: element.timeoutMilliseconds.map { Int($0 / 1000) },
                    expiresInSeconds: element.expiresInMilliseconds.map { Int(($0 + 999) / 1000) }, reason: element.comment))
            }
        }
        return entries
    }
}
