import ArgumentParser
import VOSModel
import VOSStore

/// `vosctl route`: routing as a whole rather than one gateway. `route sort` holds the per-prefix
/// sort modes that override SS_ROUTING_SORT (the longest matching prefix wins).
struct RouteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "route", abstract: "Routing: per-prefix sort modes, and why a call goes where it goes.",
        subcommands: [RouteSortCommand.self, RouteExplain.self])
}

struct RouteSortCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sort", abstract: "Sort modes per callee prefix, overriding SS_ROUTING_SORT.",
        discussion: """
        Modes: priority (prefix length, priority, load), lcr (the vendor's rate for the number, \
        from its clearing account's rate table; priority breaks ties), quality (windowed ASR, \
        SS_GATEWAY_QUALITY_*), mix (rate per answered call). A callee takes the rule with the \
        longest prefix it starts with; with none, SS_ROUTING_SORT.
        """,
        subcommands: [RouteSortAdd.self, RouteSortSet.self, RouteSortRemove.self, RouteSortList.self])
}

extension RoutingSort: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}

struct RouteSortAdd: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Sort callees with PREFIX by MODE.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Callee prefix.") var prefix: String
    @Argument(help: "priority, lcr, quality or mix.") var mode: RoutingSort

    func run() throws {
        try runReportingErrors {
            try global.openStore().write { try $0.addRouteSortRule(RouteSortRule(prefix: prefix, sort: mode)) }
            print("callees with prefix \(prefix) sort by \(mode.rawValue)")
        }
    }
}

struct RouteSortSet: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "set", abstract: "Change the mode of an existing prefix rule.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Callee prefix.") var prefix: String
    @Argument(help: "priority, lcr, quality or mix.") var mode: RoutingSort

    func run() throws {
        try runReportingErrors {
            try global.openStore().write { transaction in
                guard var rule = try transaction.routeSortRule(prefix: prefix) else {
                    throw StoreError.notFound(kind: "route sort rule for prefix", name: prefix)
                }
                rule.sort = mode
                try transaction.saveRouteSortRule(rule)
            }
            print("callees with prefix \(prefix) sort by \(mode.rawValue)")
        }
    }
}

struct RouteSortRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a prefix rule (its callees follow SS_ROUTING_SORT or a shorter rule).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Callee prefix.") var prefix: String

    func run() throws {
        try runReportingErrors {
            try global.openStore().write { try $0.removeRouteSortRule(prefix: prefix) }
            print("removed route sort rule for prefix \(prefix)")
        }
    }
}

struct RouteSortList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List prefix rules and the system-wide mode.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON (the rules only).") var json = false

    func run() throws {
        try runReportingErrors {
            let (rules, parameters) = try global.openStore().read { (try $0.routeSortRules(), try $0.parameters()) }
            if json { return try printJSON(rules) }
            print("\(SystemParameter.routingSort.rawValue): \(RoutingSort(parameter: parameters.text(.routingSort)).rawValue) (callees no rule matches)")
            printTable(["PREFIX", "MODE"], rules.map { [$0.prefix, $0.sort.rawValue] })
        }
    }
}
