import ArgumentParser
import VOSModel
import VOSStore

/// `vosctl group`: gateway groups, a line limit shared by the routing gateways that name the
/// group (`gateway set NAME --group G`), with lines reserved for named customer accounts.
struct GatewayGroupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group", abstract: "Gateway groups: a shared line limit with lines reserved for customers.",
        discussion: """
        A customer with a reservation uses its reserved lines first; beyond them, and for every \
        other customer, calls share the rest (--lines less every reservation). A reserved line \
        is never given to another customer: a call finding no free line gets AllGatewayBusy.
        """,
        subcommands: [GatewayGroupAdd.self, GatewayGroupSet.self, GatewayGroupShow.self, GatewayGroupList.self, GatewayGroupRemove.self])
}

enum GatewayGroupRows {
    static let headers = ["GROUP", "LINES", "RESERVED", "SHARED", "RESERVATIONS", "MEMBERS"]

    static func reservations(_ group: GatewayGroup) -> String {
        GatewayRows.list(group.reservations.map { "\($0.account)=\($0.lines)" })
    }

    static func summary(_ group: GatewayGroup, members: [String]) -> [String] {
        [group.name, String(group.lineLimit), String(group.reservedLines), String(group.sharedLines), reservations(group),
         GatewayRows.list(members)]
    }

    /// `ACCOUNT=LINES`; 0 lines removes a reservation (in `group set`).
    static func parseReservation(_ text: String) throws -> GatewayGroup.Reservation {
        let parts = text.split(separator: "=", omittingEmptySubsequences: false).map { $0.trimmingSpaces }
        guard parts.count == 2, !parts[0].isEmpty, let lines = Int(parts[1]), lines >= 0 else {
            throw ValidationError("--reserve '\(text)': expected ACCOUNT=LINES such as acme=5 (0 removes the reservation in `group set`)")
        }
        return GatewayGroup.Reservation(account: parts[0], lines: lines)
    }

    static func apply(_ texts: [String], to group: inout GatewayGroup, removing: Bool) throws {
        var seen: Set<String> = []
        for text in texts {
            let reservation = try parseReservation(text)
            if reservation.lines == 0 && !removing {
                throw ValidationError("--reserve \(text) reserves nothing: leave it out")
            }
            if reservation.lines == 0 && group.reservation(for: reservation.account) == 0 {
                throw ValidationError("--reserve \(text): group '\(group.name)' reserves no lines for account '\(reservation.account)'")
            }
            guard seen.insert(reservation.account).inserted else {
                throw ValidationError("--reserve names account '\(reservation.account)' twice")
            }
            group.reserve(reservation.lines, for: reservation.account)
        }
    }
}

struct GatewayGroupAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Add a group.",
        discussion: "vosctl group add uk-carriers --lines 30 --reserve acme=5 --reserve globex=2")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Group name.") var name: String
    @Option(help: "Concurrent calls across the member gateways, reserved lines included.") var lines: Int
    @Option(name: .customLong("reserve"), help: "ACCOUNT=LINES kept for that customer account; repeat for more.") var reserve: [String] = []

    func run() throws {
        try runReportingErrors {
            var group = GatewayGroup(name: name, lineLimit: lines)
            try GatewayGroupRows.apply(reserve, to: &group, removing: false)
            try global.openStore().write { try $0.addGatewayGroup(group) }
            print("added group \(name): \(group.lineLimit) lines, \(group.reservedLines) reserved")
        }
    }
}

struct GatewayGroupSet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Change a group; reservations not named keep their lines.",
        discussion: "--reserve ACCOUNT=0 removes that account's reservation; --no-reservations removes them all (before any --reserve).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Group name.") var name: String
    @Option(help: "Concurrent calls across the member gateways.") var lines: Int?
    @Option(name: .customLong("reserve"), help: "ACCOUNT=LINES; repeat for more; 0 removes.") var reserve: [String] = []
    @Flag(name: .customLong("no-reservations"), help: "Drop every reservation first.") var noReservations = false

    func run() throws {
        try runReportingErrors {
            guard lines != nil || !reserve.isEmpty || noReservations else {
                throw ValidationError("nothing to change: give --lines, --reserve or --no-reservations")
            }
            let group = try global.openStore().write { transaction in
                var group = try transaction.requireGatewayGroup(named: name)
                if let lines { group.lineLimit = lines }
                if noReservations { group.removeAllReservations() }
                try GatewayGroupRows.apply(reserve, to: &group, removing: true)
                try transaction.saveGatewayGroup(group)
                return group
            }
            print("updated group \(name): \(group.lineLimit) lines, \(group.reservedLines) reserved")
        }
    }
}

struct GatewayGroupShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a group: lines, reservations and member gateways.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Group name.") var name: String
    @Flag(help: "Print JSON.") var json = false

    struct Shown: Encodable {
        let group: GatewayGroup
        let members: [String]

        enum Keys: String, CodingKey { case members, sharedLines }

        func encode(to encoder: any Encoder) throws {
            try group.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(members, forKey: .members)
            try container.encode(group.sharedLines, forKey: .sharedLines)
        }
    }

    func run() throws {
        try runReportingErrors {
            let shown = try global.openStore().read { transaction in
                Shown(group: try transaction.requireGatewayGroup(named: name), members: try transaction.gatewayGroupMembers(named: name))
            }
            if json { return try printJSON(shown) }
            let group = shown.group
            printTable(["FIELD", "VALUE"], [["name", group.name], ["lines", String(group.lineLimit)],
                                            ["shared lines", String(group.sharedLines)]]
                + group.reservations.map { ["reserve", "\($0.account)=\($0.lines)"] }
                + [["members", GatewayRows.list(shown.members, empty: "none")]])
        }
    }
}

struct GatewayGroupList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List groups.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try runReportingErrors {
            let (groups, gateways) = try global.openStore().read { (try $0.gatewayGroups(), try $0.routingGateways()) }
            if json { return try printJSON(groups) }
            printTable(GatewayGroupRows.headers, groups.map { group in
                GatewayGroupRows.summary(group, members: gateways.filter { $0.group == group.name }.map(\.name))
            })
        }
    }
}

struct GatewayGroupRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a group no gateway is in.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Group name.") var name: String

    func run() throws {
        try runReportingErrors {
            try global.openStore().write { try $0.removeGatewayGroup(named: name) }
            print("removed group \(name)")
        }
    }
}
