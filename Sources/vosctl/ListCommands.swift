import ArgumentParser
import Foundation
import VOSModel
import VOSStore

/// `vosctl list`: black and white number lists (full numbers), assigned to gateways of either
/// kind with `gateway add|set --list-groups`. docs/SUBSCRIBERS-AND-FRAUD.md says how calls are judged.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Black and white number lists, assigned to gateways with --list-groups.",
        subcommands: [ListAdd.self, ListShow.self, ListRemove.self, ListSet.self, ListDelete.self])
}

extension NumberList.Kind: ExpressibleByArgument {}
extension NumberList.Target: ExpressibleByArgument {}

/// `--numbers N,...` or `--file F`, exactly one.
struct NumberInput: ParsableArguments {
    @Option(help: "Numbers, comma-separated.") var numbers: String?
    @Option(help: "A file with one number per line; blank lines and # comments are skipped.") var file: String?

    /// The numbers given; a bad one (or a bad line, named) refuses the whole command.
    func read(nothingDone: String) throws -> NumberSet {
        switch (numbers, file) {
        case let (text?, nil):
            do { return try NumberSet(validating: parseNameList(text), field: "--numbers number") } catch {
                throw ModelError.inconsistent("\(error); \(nothingDone)")
            }
        case let (nil, path?):
            return try NumberInput.readFile(path, nothingDone: nothingDone)
        default:
            throw ValidationError("give the numbers with either --numbers N,... or --file FILE")
        }
    }

    static func readFile(_ path: String, nothingDone: String) throws -> NumberSet {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StoreError.io(path: path, reason: "cannot read the file; \(nothingDone)")
        }
        let parsed = data.withUnsafeBytes { raw in
            Result { () throws(NumberListFile.LineError) in try NumberListFile.parse(raw.bindMemory(to: UInt8.self)) }
        }
        switch parsed {
        case let .success(numbers): return NumberSet(unordered: numbers)
        case let .failure(error): throw StoreError.io(path: path, reason: "\(error); \(nothingDone)")
        }
    }
}

func describe(_ list: NumberListHeader) -> String {
    "\(list.kind.rawValue) list \(list.name) (\(list.target == .both ? "caller and callee" : list.target.rawValue))"
}

struct ListAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Add numbers to a list, creating it.",
        discussion: """
        vosctl list add GROUP --kind black|white [--target caller|callee|both] (--numbers N,... | --file F)

        A number in a black list refuses the call (403, end reason Blacklisted); a white list lets
        only its numbers through for its target. Adding to an existing list needs its kind. A file
        holds one number per line (1-32 characters of 0-9, +, *, #); blank lines and # comments
        are skipped; a bad line is named and nothing is imported.
        """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "List name.") var group: String
    @Option(help: "black or white.") var kind: NumberList.Kind
    @Option(help: "Whose number the list judges: caller, callee or both (a new list's default: both).") var target: NumberList.Target?
    @OptionGroup var input: NumberInput

    func run() throws {
        try runReportingErrors {
            try GatewayName.validate(group, field: "list name")
            let numbers = try input.read(nothingDone: "nothing was imported")
            let change = try global.openStore().write { try $0.addNumbers(numbers, toList: group, kind: kind, target: target) }
            print("\(describe(change.list)): added \(change.changed) numbers"
                  + (change.unchanged > 0 ? " (\(change.unchanged) already in it)" : "") + "; \(change.count) in all")
        }
    }
}

struct ListRemove: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Remove numbers from a list (the list stays; `list delete` removes it).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "List name.") var group: String
    @OptionGroup var input: NumberInput

    func run() throws {
        try runReportingErrors {
            let numbers = try input.read(nothingDone: "nothing was removed")
            let change = try global.openStore().write { try $0.removeNumbers(numbers, fromList: group) }
            print("\(describe(change.list)): removed \(change.changed) numbers"
                  + (change.unchanged > 0 ? " (\(change.unchanged) not in it)" : "") + "; \(change.count) left")
        }
    }
}

struct ListSet: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "set", abstract: "Change whose number a list judges.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "List name.") var group: String
    @Option(help: "caller, callee or both.") var target: NumberList.Target

    func run() throws {
        try runReportingErrors {
            try global.openStore().write { try $0.setNumberListTarget(group, to: target) }
            print("number list \(group) now judges \(target == .both ? "caller and callee" : target.rawValue) numbers")
        }
    }
}

struct ListDelete: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete a list (refused while a gateway has it in --list-groups).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "List name.") var group: String

    func run() throws {
        try runReportingErrors {
            try global.openStore().write { try $0.deleteNumberList(named: group) }
            print("deleted number list \(group)")
        }
    }
}

struct ListShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Every list (kind, target, size, gateways), or one list's numbers.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "A list whose numbers to show; without it, every list.") var group: String?
    @Option(help: "Numbers shown of one list, in order; 0 shows them all.") var limit: Int = 100
    @Flag(help: "Print JSON.") var json = false

    struct Summary: Encodable {
        let name: String
        let kind: NumberList.Kind
        let target: NumberList.Target
        let count: Int
        let gateways: [String]
    }

    struct Detail: Encodable {
        let name: String
        let kind: NumberList.Kind
        let target: NumberList.Target
        let count: Int
        let gateways: [String]
        /// The first `limit` numbers in order.
        let numbers: [String]
        let truncated: Bool
    }

    func run() throws {
        try runReportingErrors {
            guard limit >= 0 else { throw ValidationError("--limit must be 0 (all) or more") }
            let store = try global.openStore()
            guard let group else {
                let lists = try store.read { transaction in
                    try transaction.numberListHeaders().map { header in
                        Summary(name: header.name, kind: header.kind, target: header.target, count: header.count,
                                gateways: try transaction.gatewaysAssigned(list: header.name))
                    }
                }
                if json { return try printJSON(lists) }
                return printTable(["LIST", "KIND", "TARGET", "NUMBERS", "GATEWAYS"], lists.map {
                    [$0.name, $0.kind.rawValue, $0.target.rawValue, String($0.count), $0.gateways.isEmpty ? "-" : $0.gateways.joined(separator: ",")]
                })
            }
            let (list, gateways) = try store.read { transaction in
                (try transaction.numberList(named: group), try transaction.gatewaysAssigned(list: group))
            }
            guard let list else { throw StoreError.notFound(kind: "number list", name: group) }
            let shown = list.numbers.numbers(limit: limit == 0 ? .max : limit)
            let detail = Detail(name: list.name, kind: list.kind, target: list.target, count: list.numbers.count,
                                gateways: gateways, numbers: shown, truncated: shown.count < list.numbers.count)
            if json { return try printJSON(detail) }
            printTable(["FIELD", "VALUE"], [["name", detail.name], ["kind", detail.kind.rawValue], ["target", detail.target.rawValue],
                                            ["numbers", String(detail.count)],
                                            ["gateways", gateways.isEmpty ? "-" : gateways.joined(separator: ",")]])
            print("")
            printTable(["NUMBER"], shown.map { [$0] })
            if detail.truncated {
                print("(the first \(shown.count) of \(detail.count); --limit N shows more, --limit 0 all)")
            }
        }
    }
}
