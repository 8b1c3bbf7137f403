import ArgumentParser
import VOSStore

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Write a consistent backup (safe while the daemons run).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Backup file to write.") var file: String

    func run() throws {
        try runReportingErrors {
            let manifest = try Backup.create(from: try global.openStore(), to: file)
            print("backup \(file): schema \(manifest.schemaVersion), \(manifest.dataBytes) bytes, sha256 \(manifest.sha256)")
            printTable(["TABLE", "ROWS"], manifest.tables.keys.sorted().map { [$0, String(manifest.tables[$0] ?? 0)] })
        }
    }
}

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore", abstract: "Restore a backup into an empty data directory (checks version and checksum first).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Backup file to read.") var file: String

    func run() throws {
        try runReportingErrors {
            let report = try Backup.restore(from: file, into: global.resolvedDataDirectory)
            print("restored \(file) into \(global.resolvedDataDirectory)")
            printTable(["TABLE", "BEFORE", "IN-BACKUP", "AFTER"], report.inBackup.keys.sorted().map { table in
                [table, String(report.before[table] ?? 0), String(report.inBackup[table] ?? 0), String(report.after[table] ?? 0)]
            })
            // Addresses are the part of a configuration that belongs to a host, not to the business.
            print("")
            print("settings that name this host's addresses (the only ones a new host may need changed):")
            printTable(["SETTING", "VALUE", "ON THIS HOST"], try HostSettings.rows(try global.openStore()))
        }
    }
}
