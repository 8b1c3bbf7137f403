import ArgumentParser
import VOSStore

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create the store in the data directory (idempotent).")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        try runReportingErrors {
            let directory = global.resolvedDataDirectory
            let (store, created) = try Store.initialize(directory: directory)
            let generation = try store.generation()
            print(created
                ? "initialised vos store at \(directory) (schema \(Store.schemaVersion))"
                : "vos store at \(directory) already initialised (schema \(Store.schemaVersion), generation \(generation))")
        }
    }
}
