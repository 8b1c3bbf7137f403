import ArgumentParser
import Foundation
import VOSModel
import VOSStore

struct RateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rate", abstract: "Rate tables: import from CSV, list, look up a number.",
        subcommands: [RateImport.self, RateList.self, RateLookup.self])
}

enum RateRows {
    static let headers = ["PREFIX", "PRICE/MIN", "FIRST", "NEXT", "CONNECT-FEE", "DESCRIPTION"]

    static func row(_ entry: RateEntry) -> [String] {
        [entry.prefix, entry.pricePerMinute.description, "\(entry.firstInterval)s", "\(entry.nextInterval)s",
         entry.connectionFee.description, entry.description]
    }
}

struct RateImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Replace a rate table with a CSV file, all or nothing.",
        discussion: "CSV: prefix,price_per_minute,first_interval,next_interval[,connection_fee[,description]] (header line optional).")

    @OptionGroup var global: GlobalOptions
    @Argument var table: String
    @Argument var file: String

    func run() throws {
        try runReportingErrors {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw StoreError.io(path: file, reason: "cannot read the file")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw StoreError.io(path: file, reason: "not UTF-8 text; nothing was imported")
            }
            let entries: [RateEntry]
            do { entries = try RateCSV.parse(text) } catch {
                throw StoreError.io(path: file, reason: "\(error); nothing was imported")
            }
            guard !entries.isEmpty else { throw StoreError.io(path: file, reason: "no rates found; nothing was imported") }
            let replaced = try global.openStore().write { try $0.replaceRates(table: table, with: entries) }
            print("imported \(entries.count) rates into \(table)" + (replaced > 0 ? " (replacing \(replaced))" : ""))
        }
    }
}

struct RateList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List a rate table's entries.")

    @OptionGroup var global: GlobalOptions
    @Argument var table: String
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try runReportingErrors {
            let entries = try global.openStore().read { try $0.rateEntries(table: table) }
            guard !entries.isEmpty else { throw StoreError.notFound(kind: "rate table", name: table) }
            if json { return try printJSON(entries) }
            printTable(RateRows.headers, entries.map(RateRows.row))
        }
    }
}

struct RateLookup: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lookup", abstract: "Which rate applies to a number, and what a call costs.")

    @OptionGroup var global: GlobalOptions
    @Argument var table: String
    @Argument var number: String
    @Option(help: "Price a call of this many seconds.") var seconds: Int = 60
    @Flag(help: "Print JSON.") var json = false

    struct Result: Encodable {
        let table: String
        let number: String
        let rate: RateEntry
        let seconds: Int
        let billedSeconds: Int
        let cost: Money
    }

    func run() throws {
        try runReportingErrors {
            guard seconds >= 0 else { throw ValidationError("--seconds must be 0 or more") }
            let (entry, parameters, exists) = try global.openStore().read { transaction in
                (try transaction.rateLookup(table: table, number: number), try transaction.parameters(),
                 !(try transaction.rateEntries(table: table, limit: 1).isEmpty))
            }
            guard exists else { throw StoreError.notFound(kind: "rate table", name: table) }
            guard let entry else { throw StoreError.notFound(kind: "rate for number in table \(table)", name: number) }
            let billed = entry.billedSeconds(forDuration: seconds)
            let cost = entry.cost(billedSeconds: billed, fractionDigits: parameters.int(.moneyPrecision))
            let result = Result(table: table, number: number, rate: entry, seconds: seconds, billedSeconds: billed, cost: cost)
            if json { return try printJSON(result) }
            printTable(["NUMBER"] + RateRows.headers + ["SECONDS", "BILLED", "COST"],
                       [[number] + RateRows.row(entry) + [String(seconds), String(billed), cost.description]])
        }
    }
}
