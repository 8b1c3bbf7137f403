import ArgumentParser
import Foundation
import VOSModel
import VOSStore

/// `vosctl lrn`: the number portability table (docs/ROUTING.md, "Number portability"). The
/// controller consults it when `SS_LRN_ENABLE` is 1; this command only edits and reads it.
struct LRNCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lrn", abstract: "The LRN (number portability) table routing consults before prefix matching.",
        subcommands: [LRNImport.self, LRNShow.self, LRNLookup.self, LRNClear.self])
}

struct LRNImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Load ported numbers and their LRNs from a CSV file.",
        discussion: """
        vosctl lrn import FILE [--merge]

        One NUMBER,LRN pair a line (comma, semicolon or spaces between them); blank lines, # comments
        and a first line `number,lrn` are skipped. A bad line, or one number given twice with
        different LRNs, is named and nothing is imported. The import replaces the table; with
        --merge it is added to it (its pairs win).
        """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The CSV file.") var file: String
    @Flag(help: "Add to the table instead of replacing it.") var merge = false

    func run() throws {
        try runReportingErrors {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw StoreError.io(path: file, reason: "cannot read the file; nothing was imported")
            }
            let table: LRNTable
            do { table = try LRNFile.parse(String(decoding: data, as: UTF8.self)) } catch {
                throw StoreError.io(path: file, reason: "\(error); nothing was imported")
            }
            let header = try global.openStore().write { transaction in
                try transaction.importLRNTable(table, merge: merge, source: file, at: Transaction.currentMilliseconds())
            }
            print("LRN table: \(merge ? "merged" : "imported") \(table.count) ported numbers from \(file); \(header.count) in the table")
        }
    }
}

struct LRNShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Size and origin of the table, and whether routing uses it.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    struct Summary: Encodable {
        let count: Int
        let importedAt: String?
        let source: String?
        let enabled: Bool
        let eatPrefixLength: Int
        let failureAction: String
        let routeOn: String
    }

    func run() throws {
        try runReportingErrors {
            let (header, parameters) = try global.openStore().read { (try $0.lrnTableHeader(), try $0.parameters()) }
            let policy = LRNPolicy(parameters: parameters)
            let summary = Summary(count: header?.count ?? 0, importedAt: header.map { CDRRows.time($0.importedAt) },
                                  source: header?.source, enabled: policy.enabled, eatPrefixLength: policy.eatPrefixLength,
                                  failureAction: policy.refuseUnknown ? "refuse (404 LRNNotFound)" : "route on the dialled number",
                                  routeOn: policy.routeOnLRN ? "the LRN" : "the dialled number (LRN sent as rn=)")
            if json { return try printJSON(summary) }
            printTable(["FIELD", "VALUE"], [
                ["ported numbers", String(summary.count)],
                ["imported", summary.importedAt ?? "-"], ["from", summary.source ?? "-"],
                ["SS_LRN_ENABLE", summary.enabled ? "1 (routing consults the table)" : "0 (the table is not consulted)"],
                ["SS_LRN_EAT_PREFIX_LENGTH", String(summary.eatPrefixLength)],
                ["not in the table", summary.failureAction], ["routing and rating use", summary.routeOn],
            ])
        }
    }
}

struct LRNLookup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lookup", abstract: "What routing would do with a callee (after the mapping gateway's dial plan).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The callee.") var number: String

    func run() throws {
        try runReportingErrors {
            try NumberPrefix.validate(number, field: "number")
            let (table, parameters) = try global.openStore().read { (try $0.lrnTable(), try $0.parameters()) }
            var policy = LRNPolicy(parameters: parameters)
            let enabled = policy.enabled
            policy.enabled = true
            switch policy.resolve(number, in: table) {
            case let .ported(lrn, matchOn):
                print("\(number) is ported: LRN \(lrn); routing and rating match \(matchOn)")
            case .notPorted:
                print("\(number) is not in the LRN table: routed on \(number)")
            case .refused:
                print("\(number) is not in the LRN table: refused with 404 (LRNNotFound, SS_LRN_FAILURE_ACTION 1)")
            case .notConsulted:
                break
            }
            if !enabled { print("(SS_LRN_ENABLE is 0: calls do not consult the table now)") }
        }
    }
}

struct LRNClear: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "clear", abstract: "Empty the table.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        try runReportingErrors {
            let removed = try global.openStore().write { try $0.clearLRNTable() }
            print("LRN table cleared (\(removed) ported numbers removed)")
        }
    }
}
