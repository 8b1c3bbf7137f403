import ArgumentParser
import Firewall
import MediaControl

struct FirewallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "firewall",
        abstract: "The nftables SIP firewall: render, apply, diff, audit, bans (see docs/FIREWALL.md).",
        subcommands: [FirewallRender.self, FirewallApply.self, FirewallDiff.self, FirewallAudit.self,
                      FirewallBan.self, FirewallUnban.self, FirewallBans.self])
}

/// How a firewall command reaches the kernel: through vos-mediad when it runs (it owns the
/// table and serializes changes), else directly over netlink from this process.
struct FirewallAccess: ParsableArguments {
    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("control"), help: "vos-mediad control socket (default: DATA_DIR/mediad.sock).")
    var controlPath: String?
    @Flag(name: .customLong("direct"), help: "Program the kernel from vosctl even if vos-mediad runs.")
    var direct = false

    func perform(_ op: MediaOperation, address: String? = nil, seconds: Int? = nil, reason: String? = nil) throws -> FirewallReport {
        // Only a failed connect means "not running"; a daemon that answers with an error is believed.
        if !direct, let client = try? MediaControlClient(path: controlPath ?? global.resolvedDataDirectory + "/mediad.sock") {
            return try client.firewall(op, address: address, seconds: seconds, reason: reason)
        }
        let service = FirewallService(store: try global.openStore())
        return try service.handleFirewall(MediaRequest(id: 0, op: op, address: address, seconds: seconds, reason: reason))
    }
}

struct FirewallRender: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render", abstract: "Print the ruleset the store compiles to, as nft text (what an admin reviews).")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        try runReportingErrors {
            let service = FirewallService(store: try global.openStore())
            print(FirewallService.render(try service.configuration()), terminator: "")
        }
    }
}

struct FirewallApply: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply", abstract: "Program the ruleset in one atomic batch (only vos tables are touched; bans are kept).")
    @OptionGroup var access: FirewallAccess

    func run() throws {
        try runReportingErrors {
            let report = try access.perform(.firewallApply)
            printNotes(report)
            switch (report.enabled, report.changed ?? false) {
            case (false, true): print("firewall disabled (SS_FIREWALL_ENABLE=0): table \(report.table) removed")
            case (false, false): print("firewall disabled (SS_FIREWALL_ENABLE=0): nothing programmed")
            case (true, true):
                print("table \(report.table) programmed; repaired:")
                report.drift.forEach { print("  " + $0) }
            case (true, false): print("table \(report.table) already matches the configuration; nothing changed")
            }
        }
    }
}

struct FirewallDiff: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff", abstract: "Compare the live kernel with the rendered ruleset; exit 1 when they differ.")
    @OptionGroup var access: FirewallAccess

    func run() throws {
        var differs = false
        try runReportingErrors {
            let report = try access.perform(.firewallAudit)
            differs = !report.drift.isEmpty
            if differs {
                report.drift.forEach { print($0) }
            } else {
                print("table \(report.table) matches the configuration")
            }
        }
        if differs { throw ExitCode(1) }
    }
}

struct FirewallAudit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Read the live vos table back: every rule with its counters, string patterns decoded, bans and drift.")
    @OptionGroup var access: FirewallAccess
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try runReportingErrors {
            let report = try access.perform(.firewallAudit)
            if json { return try printJSON(report) }
            let rules = report.rules ?? []
            printTable(["CHAIN", "HANDLE", "PACKETS", "BYTES", "RULE", "KERNEL EXPRESSIONS"], rules.map {
                [$0.chain, String($0.handle), String($0.packets), String($0.bytes), $0.comment ?? "-", $0.expression]
            })
            print("")
            print("\(rules.count) rule(s), \(report.bans?.count ?? 0) banned address(es), firewall \(report.enabled ? "enabled" : "disabled")")
            if report.drift.isEmpty {
                print("in sync with the configuration")
            } else {
                print("drift (`vosctl firewall apply` repairs it):")
                report.drift.forEach { print("  " + $0) }
            }
            printNotes(report)
        }
    }
}

struct FirewallBan: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ban", abstract: "Drop everything from an address for a while (default SS_FIREWALL_BAN_TIME).")
    @OptionGroup var access: FirewallAccess
    @Argument(help: "IPv4 or IPv6 address.") var address: String
    @Option(name: .customLong("for"), help: "How long: 600s, 10m, 1h, 1d (at most 7d).") var duration: String?
    @Option(help: "Why; shown by `vosctl firewall bans`.") var reason = "manual ban (vosctl)"

    func validate() throws {
        do { _ = try FirewallService.parseAddress(address) } catch { throw ValidationError(error.message) }
        if let duration {
            do { _ = try BanDuration.seconds(duration) } catch { throw ValidationError(error.description) }
        }
    }

    func run() throws {
        try runReportingErrors {
            var seconds: Int?
            if let duration {
                do { seconds = try BanDuration.seconds(duration) } catch { throw ValidationError("\(error)") }
            }
            let report = try access.perform(.ban, address: address, seconds: seconds, reason: reason)
            let entry = report.bans?.first
            print("banned \(entry?.address ?? address) for \(BanDuration.describe(entry?.timeoutSeconds ?? seconds ?? 0)): \(entry?.reason ?? reason)")
        }
    }
}

struct FirewallUnban: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unban", abstract: "Lift a ban.")
    @OptionGroup var access: FirewallAccess
    @Argument(help: "IPv4 or IPv6 address.") var address: String

    func validate() throws {
        do { _ = try FirewallService.parseAddress(address) } catch { throw ValidationError(error.message) }
    }

    func run() throws {
        try runReportingErrors {
            _ = try access.perform(.unban, address: address)
            print("unbanned \(address)")
        }
    }
}

struct FirewallBans: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bans", abstract: "Banned addresses: why, ban length, and when each expires.")
    @OptionGroup var access: FirewallAccess
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try runReportingErrors {
            let bans = try access.perform(.bans).bans ?? []
            if json { return try printJSON(bans) }
            printTable(["ADDRESS", "REASON", "BANNED FOR", "EXPIRES IN"], bans.map {
                [$0.address, $0.reason ?? "flood (kernel rate limit)", $0.timeoutSeconds.map(BanDuration.describe) ?? "-",
                 $0.expiresInSeconds.map(BanDuration.describe) ?? "-"]
            })
        }
    }
}

/// Gateways the firewall cannot trust and skipped values: said on stderr so scripts reading
/// stdout are not disturbed.
private func printNotes(_ report: FirewallReport) {
    for name in report.untrustedGatewayNames ?? [] {
        printError("note: gateway host \(name) is a DNS name and is not trusted by the firewall; use its IP address")
    }
    for warning in report.warnings ?? [] { printError("note: skipped \(warning)") }
}
