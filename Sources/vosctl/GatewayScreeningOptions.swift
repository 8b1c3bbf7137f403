import ArgumentParser
import VOSModel

/// The `gateway add|set` options that screen numbers, the same on both kinds of gateway: prefix
/// filters (whose entries may name number groups as `@GROUP`) and the number lists assigned
/// (`--list-groups`; `--blacklist-groups` is its older name). `''` clears each. Whether the
/// lists and groups exist is the store's check when the gateway is saved.
struct GatewayScreeningOptions: ParsableArguments {
    @Option(name: .customLong("caller-allow"), help: "Caller prefixes accepted, comma-separated; @GROUP names a number group; '' for all.")
    var callerAllow: String?
    @Option(name: .customLong("caller-deny"), help: "Caller prefixes refused, comma-separated; @GROUP names a number group; '' for none.")
    var callerDeny: String?
    @Option(name: .customLong("callee-allow"), help: "Callee prefixes accepted, comma-separated; @GROUP names a number group; '' for all.")
    var calleeAllow: String?
    @Option(name: .customLong("callee-deny"), help: "Callee prefixes refused, comma-separated; @GROUP names a number group; '' for none.")
    var calleeDeny: String?
    @Option(name: .customLong("list-groups"), help: "Black and white number lists (vosctl list) judging caller and callee, comma-separated, '' for none.")
    var listGroups: String?
    @Option(name: .customLong("blacklist-groups"), help: .hidden) var blacklistGroups: String?

    var given: [(String, Bool)] {
        [("--caller-allow", callerAllow != nil), ("--caller-deny", callerDeny != nil), ("--callee-allow", calleeAllow != nil),
         ("--callee-deny", calleeDeny != nil), ("--list-groups", listGroups != nil), ("--blacklist-groups", blacklistGroups != nil)]
    }

    func apply<Gateway: ScreenedGateway>(to gateway: inout Gateway) throws {
        if listGroups != nil && blacklistGroups != nil {
            throw ValidationError("--blacklist-groups is the older name of --list-groups: give one of them")
        }
        if let callerAllow { (gateway.callerFilter.allow, gateway.callerFilter.allowGroups) = try Self.entries(callerAllow, option: "--caller-allow") }
        if let callerDeny { (gateway.callerFilter.deny, gateway.callerFilter.denyGroups) = try Self.entries(callerDeny, option: "--caller-deny") }
        if let calleeAllow { (gateway.calleeFilter.allow, gateway.calleeFilter.allowGroups) = try Self.entries(calleeAllow, option: "--callee-allow") }
        if let calleeDeny { (gateway.calleeFilter.deny, gateway.calleeFilter.denyGroups) = try Self.entries(calleeDeny, option: "--callee-deny") }
        if let names = listGroups ?? blacklistGroups { gateway.listGroups = parseNameList(names) }
    }

    /// `44,+880,@uk-mobile`: prefixes, and number groups after `@`; empty text clears both.
    static func entries(_ text: String, option: String) throws -> (prefixes: [String], groups: [String]) {
        var prefixes: [String] = [], groups: [String] = []
        for entry in parseNameList(text) {
            if entry.hasPrefix("@") {
                let name = String(entry.dropFirst())
                try GatewayName.validate(name, field: "\(option) number group")
                groups.append(name)
            } else {
                try NumberPrefix.validate(entry, field: option)
                prefixes.append(entry)
            }
        }
        return (prefixes, groups)
    }

    /// How `gateway show` writes a filter side: prefixes, then @groups.
    static func text(_ prefixes: [String], _ groups: [String], empty: String) -> String {
        let entries = prefixes + groups.map { "@" + $0 }
        return entries.isEmpty ? empty : entries.joined(separator: ",")
    }

    /// The `gateway show` rows, named like the options.
    static func rows(caller: PrefixFilter, callee: PrefixFilter, lists: [String]) -> [[String]] {
        [["caller-allow", text(caller.allow, caller.allowGroups, empty: "- (all)")],
         ["caller-deny", text(caller.deny, caller.denyGroups, empty: "-")],
         ["callee-allow", text(callee.allow, callee.allowGroups, empty: "- (all)")],
         ["callee-deny", text(callee.deny, callee.denyGroups, empty: "-")],
         ["list-groups", lists.isEmpty ? "-" : lists.joined(separator: ",")]]
    }
}

/// The fields `GatewayScreeningOptions` sets, which both kinds of gateway have.
protocol ScreenedGateway {
    var callerFilter: PrefixFilter { get set }
    var calleeFilter: PrefixFilter { get set }
    var listGroups: [String] { get set }
}

extension MappingGateway: ScreenedGateway {}
extension RoutingGateway: ScreenedGateway {}
