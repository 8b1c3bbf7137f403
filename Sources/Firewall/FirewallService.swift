import Foundation
import MediaControl
import Netfilter
import VOSModel
import VOSStore

/// The firewall operations, driven by the store: compile the policy, program it, read it back,
/// manage bans. vos-mediad serves them on its control socket; vosctl calls them directly when
/// vos-mediad is not running. Kernel work happens in the network namespace of the calling
/// thread. Operations are serialized: an apply reads the ban set before replacing the table,
/// and a ban landing in between would be lost.
public final class FirewallService: FirewallControlHandler, @unchecked Sendable {
    // @unchecked: the store is thread-safe; every kernel operation runs under `lock`.
    private let store: Store
    private let lock = NSLock()

    public static let tableLabel = "inet \(FirewallCompiler.tableName)"
    /// Longest ban accepted: one week, like SS_FIREWALL_BAN_TIME's upper bound.
    public static let banSecondsRange = 1...604_800

    public init(store: Store) {
        self.store = store
    }

    // MARK: Policy

    public func configuration() throws(MediaControlFailure) -> StoredFirewallConfiguration {
        do { return try StoredFirewallConfiguration.load(from: store) } catch {
            throw MediaControlFailure(.internalError, "cannot read the firewall configuration from the store: \(error)")
        }
    }

    /// The ruleset as nft text, what `vosctl firewall render` prints. Gateways the firewall cannot
    /// trust (DNS names) and skipped values are listed in comment lines at the top.
    public static func render(_ configuration: StoredFirewallConfiguration) -> String {
        let compiled = configuration.settings.compile()
        var notes: [String] = []
        if !configuration.enabled { notes.append("# SS_FIREWALL_ENABLE is 0: vos-mediad does not program this ruleset.") }
        for name in compiled.untrustedGatewayNames {
            notes.append("# gateway host \"\(name)\" is a DNS name: not in the trusted sets (use its IP address to trust it).")
        }
        notes += compiled.warnings.map { "# skipped: \($0)" }
        let text = RulesetFiles.firewall(compiled.policy)
        return notes.isEmpty ? text : notes.joined(separator: "\n") + "\n" + text
    }

    // MARK: Kernel operations

    /// The stored configuration, its compiled policy, and a report that already names what the
    /// compilation could not use (DNS-named gateways, skipped values).
    private func compiledReport() throws(MediaControlFailure)
        -> (StoredFirewallConfiguration, FirewallSettings.Compiled, FirewallReport) {
        let configuration = try configuration()
        let compiled = configuration.settings.compile()
        let report = FirewallReport(table: Self.tableLabel, enabled: configuration.enabled,
                                    untrustedGatewayNames: compiled.untrustedGatewayNames, warnings: compiled.warnings)
        return (configuration, compiled, report)
    }

    /// Brings the kernel in line with the store: programs the table when it differs (one atomic
    /// batch, bans kept), removes it when the firewall is disabled, and does nothing when it is
    /// already in sync, so counters survive and applying twice changes nothing.
    public func apply() throws(MediaControlFailure) -> FirewallReport {
        let (configuration, compiled, base) = try compiledReport()
        return try withClient("apply the firewall") { client in
            var report = base
            guard configuration.enabled else {
                let present = try client.read(.inet, FirewallCompiler.tableName) != nil
                if present { try client.delete(.inet, FirewallCompiler.tableName) }
                report.drift = present ? ["firewall disabled: table \(Self.tableLabel) removed"] : []
                report.changed = present
                return report
            }
            let table = FirewallCompiler.compile(compiled.policy)
            let drift = try client.audit(table)
            if !drift.isEmpty { try client.apply(table) }
            report.drift = drift.map(\.description)
            report.changed = !drift.isEmpty
            return report
        }
    }

    /// Every live rule with its counters (string matches decoded), the ban set, and the drift
    /// against the policy the store renders now.
    public func audit() throws(MediaControlFailure) -> FirewallReport {
        let (configuration, compiled, base) = try compiledReport()
        return try withClient("audit the firewall") { client in
            var report = base
            guard let live = try client.read(.inet, FirewallCompiler.tableName) else {
                report.drift = configuration.enabled ? ["table \(Self.tableLabel) is missing"] : []
                report.rules = []
                report.bans = []
                return report
            }
            report.rules = live.chains.flatMap { chain in
                chain.rules.map {
                    FirewallRuleInfo(chain: chain.name, handle: $0.handle, comment: $0.comment, expression: $0.description,
                                     packets: $0.packets, bytes: $0.bytes)
                }
            }
            report.bans = try Self.banInfos(client.bans(), defaultSeconds: compiled.policy.banSeconds)
            report.drift = configuration.enabled
                ? try client.audit(FirewallCompiler.compile(compiled.policy)).map(\.description)
                : ["firewall disabled (SS_FIREWALL_ENABLE=0) but table \(Self.tableLabel) is programmed"]
            return report
        }
    }

    /// Bans `addressText` for `seconds` (default: SS_FIREWALL_BAN_TIME). Configured trusted
    /// sources are refused: the ban rule runs before the trusted accept, and UDP sources can be
    /// spoofed, so a ban feed tricked into banning a gateway would cut the gateway off.
    public func ban(_ addressText: String, seconds: Int?, reason: String?) throws(MediaControlFailure) -> FirewallReport {
        let address = try Self.parseAddress(addressText)
        let configuration = try configuration()
        let policy = configuration.settings.compile().policy
        let duration = seconds ?? policy.banSeconds
        guard Self.banSecondsRange.contains(duration) else {
            throw MediaControlFailure(.malformedRequest, "ban duration \(duration) s is outside \(Self.banSecondsRange.lowerBound)-\(Self.banSecondsRange.upperBound) s")
        }
        let host = IPPrefix(address: address, length: address.bitWidth)
        if let trusted = (policy.trustedSources + policy.managementSubnets).first(where: { $0.contains(host) }) {
            throw MediaControlFailure(.malformedRequest, "\(address) is a trusted source (in \(trusted.nftText)); remove it from the gateways or management subnets before banning it")
        }
        let text = (reason?.isEmpty == false ? reason : nil) ?? "manual ban"
        return try withClient("ban \(address)") { client in
            try client.ban(address, seconds: duration, reason: text)
            return FirewallReport(table: Self.tableLabel, enabled: configuration.enabled,
                                  bans: try Self.banInfos(client.bans().filter { $0.address == address }, defaultSeconds: policy.banSeconds))
        }
    }

    public func unban(_ addressText: String) throws(MediaControlFailure) -> FirewallReport {
        let address = try Self.parseAddress(addressText)
        let enabled = try configuration().enabled
        let removed = try withClient("unban \(address)") { client in try client.unban(address) }
        guard removed else { throw MediaControlFailure(.notBanned, "\(address) is not banned") }
        return FirewallReport(table: Self.tableLabel, enabled: enabled, bans: [])
    }

    public func bans() throws(MediaControlFailure) -> FirewallReport {
        let configuration = try configuration()
        let entries = try withClient("list bans") { client in try client.bans() }
        return FirewallReport(table: Self.tableLabel, enabled: configuration.enabled,
                              bans: Self.banInfos(entries, defaultSeconds: configuration.settings.compile().policy.banSeconds))
    }

    // MARK: FirewallControlHandler

    public func handleFirewall(_ request: MediaRequest) throws(MediaControlFailure) -> FirewallReport {
        switch request.op {
        case .firewallApply: return try apply()
        case .firewallAudit: return try audit()
        case .ban: return try ban(try require(request.address, "address", request), seconds: request.seconds, reason: request.reason)
        case .unban: return try unban(try require(request.address, "address", request))
        case .bans: return try bans()
        case .create, .update, .delete, .stats, .subscribe, .ping, .dtmf:
            throw MediaControlFailure(.unknownOperation, "\(request.op.rawValue) is not a firewall operation")
        }
    }

    // MARK: Helpers

    /// A single host address; prefixes, ports and names are refused so a typo cannot ban a network.
    public static func parseAddress(_ text: String) throws(MediaControlFailure) -> IPAddress {
        guard let address = IPAddress(text.trimmingCharacters(in: .whitespaces)) else {
            throw MediaControlFailure(.invalidAddress, "\"\(text)\" is not an IPv4 or IPv6 address")
        }
        guard !address.isUnspecified else {
            throw MediaControlFailure(.invalidAddress, "\(address) is the unspecified address, not a host")
        }
        return address
    }

    private func require(_ value: String?, _ field: String, _ request: MediaRequest) throws(MediaControlFailure) -> String {
        guard let value else { throw MediaControlFailure(.malformedRequest, "\(request.op.rawValue) needs \"\(field)\"") }
        return value
    }

    /// The kernel omits an element's timeout when it equals the set's, so that one is filled in.
    static func banInfos(_ entries: [BanEntry], defaultSeconds: Int) -> [FirewallBanInfo] {
        entries.map {
            FirewallBanInfo(address: $0.address.description, reason: $0.reason, timeoutSeconds: $0.timeoutSeconds ?? defaultSeconds,
                            expiresInSeconds: $0.expiresInSeconds)
        }
    }

    /// Runs kernel work under the lock with a fresh netlink client and turns Netfilter errors
    /// into protocol failures that say what was attempted.
    private func withClient<Result>(_ what: String, _ body: (NftablesClient) throws -> Result) throws(MediaControlFailure) -> Result {
        lock.lock()
        defer { lock.unlock() }
        do {
            return try body(try NftablesClient())
        } catch let error as MediaControlFailure {
            throw error
        } catch let error as NetfilterError {
            switch error {
            case .unavailable: throw MediaControlFailure(.firewallUnavailable, "cannot \(what): \(error)")
            case let .kernel(_, code, _) where code == ENOENT:
                throw MediaControlFailure(.firewallUnavailable, "cannot \(what): table \(Self.tableLabel) is not programmed (run `vosctl firewall apply`): \(error)")
            case .kernel: throw MediaControlFailure(.firewallFailed, "cannot \(what): \(error)")
            case .invalidInput: throw MediaControlFailure(.malformedRequest, "cannot \(what): \(error)")
            }
        } catch {
            throw MediaControlFailure(.firewallFailed, "cannot \(what): \(error)")
        }
    }
}
