import ArgumentParser
import Foundation
import VOSModel
import VOSStore

/// `vosctl geofence`: the geofence ranges (requirements §7) — add, list, remove, import a
/// country-range file, and check what an address gets. Parsing and printing only: ranges are
/// validated by VOSModel (`GeofenceRange`, `GeofenceCSV`) and the store (overlaps), each change
/// in one write transaction, so a refused change leaves every range as it was.
struct GeofenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "geofence",
        abstract: "Geofencing: address ranges that are ignored, forbidden or allowed for signalling, SDP media and RTP sources.",
        discussion: """
            An address in a forbidden range is refused; once any allow range exists, an address in no range \
            is refused too; an address in an ignore range is never refused. Ranges may not overlap.
            """,
        subcommands: [GeofenceAdd.self, GeofenceList.self, GeofenceRemove.self, GeofenceImport.self, GeofenceCheck.self])
}

extension GeofenceRange.Mode: ExpressibleByArgument {}

enum GeofenceRows {
    static let headers = ["START", "LAST", "COUNT", "MODE", "LABEL"]

    static func row(_ range: GeofenceRange) -> [String] {
        [range.start.description, range.last.description, range.count, range.mode.rawValue, range.label ?? ""]
    }
}

struct GeofenceAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Add one range: --start with --count or --end, or --cidr.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "The range's first address.") var start: String?
    @Option(help: "How many addresses from --start (VOS3000's start + count).") var count: String?
    @Option(help: "The range's last address (included), instead of --count.") var end: String?
    @Option(help: "The range as a prefix, such as 203.0.113.0/24 or 2001:db8::/32.") var cidr: String?
    @Option(help: "ignore, forbidden or allow.") var mode: GeofenceRange.Mode
    @Option(help: "A label, such as a country code.") var label: String?

    func run() throws {
        try runReportingErrors {
            let range: GeofenceRange
            switch (start, count, end, cidr) {
            case let (start?, count?, nil, nil):
                guard let addresses = UInt128(count.trimmingSpaces) else {
                    throw ModelError.invalid(field: "--count", value: count, expected: "a whole number of addresses, 1 or more")
                }
                range = try GeofenceRange(start: IPAddress(parsing: start, field: "--start"), count: addresses, mode: mode, label: label)
            case let (start?, nil, end?, nil):
                range = try GeofenceRange(start: IPAddress(parsing: start, field: "--start"), last: IPAddress(parsing: end, field: "--end"),
                                          mode: mode, label: label)
            case let (nil, nil, nil, cidr?):
                range = try GeofenceRange(prefix: IPPrefix(parsing: cidr, field: "--cidr"), mode: mode, label: label)
            default:
                throw ValidationError("give --start with --count or --end, or --cidr alone")
            }
            try global.openStore().write { try $0.addGeofenceRanges([range]) }
            print("added geofence range \(range)")
        }
    }
}

struct GeofenceList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the ranges in address order.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Only ranges with this label (case ignored).") var label: String?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try runReportingErrors {
            var ranges = try global.openStore().read { try $0.geofenceRanges() }
            if let label { ranges = ranges.filter { $0.label?.lowercased() == label.lowercased() } }
            if json { return try printJSON(ranges) }
            printTable(GeofenceRows.headers, ranges.map(GeofenceRows.row))
        }
    }
}

struct GeofenceRemove: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Remove the range starting at --start, every range labelled --label, or --all.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "The first address of the range to remove.") var start: String?
    @Option(help: "Remove every range with this label (case ignored).") var label: String?
    @Flag(help: "Remove every range: geofencing off.") var all = false

    func run() throws {
        try runReportingErrors {
            switch (start, label, all) {
            case let (start?, nil, false):
                let address = try IPAddress(parsing: start, field: "--start")
                let removed = try global.openStore().write { try $0.removeGeofenceRange(start: address) }
                print("removed geofence range \(removed)")
            case let (nil, label?, false):
                let removed = try global.openStore().write { try $0.removeGeofenceRanges(label: label) }
                guard removed > 0 else { throw StoreError.notFound(kind: "geofence range labelled", name: label) }
                print("removed \(removed) geofence ranges labelled \(label)")
            case (nil, nil, true):
                let removed = try global.openStore().write { try $0.removeGeofenceRanges() }
                print("removed \(removed) geofence ranges")
            default:
                throw ValidationError("give one of --start, --label or --all")
            }
        }
    }
}

struct GeofenceImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Add the ranges of a country-range file, all or nothing.",
        discussion: """
            One range per line: CIDR[,label], START,END[,label], START,COUNT[,label], integer FROM,TO[,label] \
            (IP2Location), or an RIR delegated-stats line (registry|CC|ipv4|START|COUNT|...). A header line, \
            # comments and fields after the label are skipped. Any bad line, or a range overlapping another, \
            imports nothing.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The file to read.") var file: String
    @Option(help: "What the imported ranges do: ignore, forbidden or allow.") var mode: GeofenceRange.Mode = .forbidden
    @Option(help: "Import only lines with these labels (comma-separated country codes, case ignored).") var country: String?
    @Flag(help: "Drop every stored range first (in the same transaction).") var replace = false

    func run() throws {
        try runReportingErrors {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw StoreError.io(path: file, reason: "cannot read the file")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw StoreError.io(path: file, reason: "not UTF-8 text; nothing was imported")
            }
            let labels = country.map { Set(parseNameList($0)) }
            let ranges: [GeofenceRange]
            do { ranges = try GeofenceCSV.parse(text, mode: mode, labels: labels) } catch {
                throw StoreError.io(path: file, reason: "\(error); nothing was imported")
            }
            guard !ranges.isEmpty else {
                throw StoreError.io(path: file, reason: "no ranges found\(country.map { " labelled \($0)" } ?? ""); nothing was imported")
            }
            let replaced: Int
            do { replaced = try global.openStore().write { try $0.addGeofenceRanges(ranges, replacing: replace) } } catch let error as StoreError {
                guard case .invalid = error else { throw error }
                throw StoreError.io(path: file, reason: "\(error); nothing was imported")
            }
            print("imported \(ranges.count) geofence ranges (\(mode.rawValue)) from \(file)" + (replace ? " (replacing \(replaced))" : ""))
        }
    }
}

struct GeofenceCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "What geofencing does with an address: allowed, ignored or refused, and by which range.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "An IPv4 or IPv6 address.") var address: String
    @Flag(help: "Print JSON.") var json = false

    struct Result: Encodable {
        let address: IPAddress
        let refused: Bool
        let verdict: String
        let range: GeofenceRange?
    }

    func run() throws {
        try runReportingErrors {
            let ip = try IPAddress(parsing: address, field: "address")
            let fence = Geofence(try global.openStore().read { try $0.geofenceRanges() })
            let verdict = fence.verdict(for: ip)
            let range: GeofenceRange?
            let name: String
            switch verdict {
            case let .allowed(found): (name, range) = ("allowed", found)
            case let .ignored(found): (name, range) = ("ignored", found)
            case let .forbidden(found): (name, range) = ("forbidden", found)
            case .notAllowed: (name, range) = ("notAllowed", nil)
            }
            if json { return try printJSON(Result(address: ip, refused: verdict.refuses, verdict: name, range: range)) }
            print("\(ip): \(verdict.refuses ? "refused" : "passes"), \(verdict.explanation)")
        }
    }
}
