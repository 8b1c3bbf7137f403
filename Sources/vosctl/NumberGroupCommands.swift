import ArgumentParser
import VOSModel
import VOSStore

/// `vosctl number-group`: named prefix sets that gateways' prefix filters use as `@GROUP`
/// (`--caller-allow 44,@uk-mobile`).
struct NumberGroupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "number-group", abstract: "Number groups: prefix sets used in gateway filters as @GROUP.",
        subcommands: [NumberGroupAdd.self, NumberGroupShow.self, NumberGroupRemove.self, NumberGroupDelete.self])
}

/// `--prefixes P1,P2,...`: at least one, each a dial prefix.
func parseGroupPrefixes(_ text: String) throws -> [String] {
    let prefixes = try parseNumberList(text, option: "--prefixes")
    guard !prefixes.isEmpty else { throw ValidationError("--prefixes needs at least one prefix, comma-separated") }
    return prefixes
}

struct NumberGroupAdd: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add prefixes to a number group, creating it.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Group name.") var group: String
    @Option(help: "Prefixes, comma-separated.") var prefixes: String

    func run() throws {
        try runReportingErrors {
            let given = try parseGroupPrefixes(prefixes)
            let (added, stored) = try global.openStore().write { try $0.addPrefixes(given, toGroup: group) }
            print("number group \(group): added \(added) prefixes" + (given.count > added ? " (\(given.count - added) already in it)" : "")
                  + "; \(stored.prefixes.count) in all")
        }
    }
}

struct NumberGroupRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove prefixes from a number group.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Group name.") var group: String
    @Option(help: "Prefixes, comma-separated.") var prefixes: String

    func run() throws {
        try runReportingErrors {
            let given = try parseGroupPrefixes(prefixes)
            let (removed, stored) = try global.openStore().write { try $0.removePrefixes(given, fromGroup: group) }
            print("number group \(group): removed \(removed) prefixes" + (given.count > removed ? " (\(given.count - removed) not in it)" : "")
                  + "; \(stored.prefixes.count) left")
        }
    }
}

struct NumberGroupDelete: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete a number group (refused while a gateway filter names it).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Group name.") var group: String

    func run() throws {
        try runReportingErrors {
            try global.openStore().write { try $0.deleteNumberGroup(named: group) }
            print("deleted number group \(group)")
        }
    }
}

struct NumberGroupShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Every number group (size, gateways using it), or one group's prefixes.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "A group whose prefixes to show; without it, every group.") var group: String?
    @Option(help: "Prefixes shown of one group; 0 shows them all.") var limit: Int = 100
    @Flag(help: "Print JSON.") var json = false

    struct Shown: Encodable {
        let name: String
        let count: Int
        let gateways: [String]
        /// One group's prefixes (the first `limit`); absent from the list of all groups.
        let prefixes: [String]?
        let truncated: Bool?
    }

    func run() throws {
        try runReportingErrors {
            guard limit >= 0 else { throw ValidationError("--limit must be 0 (all) or more") }
            let store = try global.openStore()
            guard let group else {
                let groups = try store.read { transaction in
                    try transaction.numberGroups().map { stored in
                        Shown(name: stored.name, count: stored.prefixes.count, gateways: try transaction.gatewaysUsing(group: stored.name),
                              prefixes: nil, truncated: nil)
                    }
                }
                if json { return try printJSON(groups) }
                return printTable(["GROUP", "PREFIXES", "GATEWAYS"], groups.map {
                    [$0.name, String($0.count), $0.gateways.isEmpty ? "-" : $0.gateways.joined(separator: ",")]
                })
            }
            let (stored, gateways) = try store.read { (try $0.numberGroup(named: group), try $0.gatewaysUsing(group: group)) }
            guard let stored else { throw StoreError.notFound(kind: "number group", name: group) }
            let prefixes = Array(stored.prefixes.prefix(limit == 0 ? .max : limit))
            let shown = Shown(name: stored.name, count: stored.prefixes.count, gateways: gateways, prefixes: prefixes,
                              truncated: prefixes.count < stored.prefixes.count)
            if json { return try printJSON(shown) }
            printTable(["FIELD", "VALUE"], [["name", stored.name], ["prefixes", String(stored.prefixes.count)],
                                            ["gateways", gateways.isEmpty ? "-" : gateways.joined(separator: ",")]])
            print("")
            printTable(["PREFIX"], prefixes.map { [$0] })
            if prefixes.count < stored.prefixes.count {
                print("(the first \(prefixes.count) of \(stored.prefixes.count); --limit N shows more, --limit 0 all)")
            }
        }
    }
}
