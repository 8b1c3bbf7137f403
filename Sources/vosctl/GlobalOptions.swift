import ArgumentParser
import VOSRuntime
import VOSStore

struct GlobalOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Data directory (default: $VOS_DATA_DIR, else ./var).")
    var dataDirectory: String?

    var resolvedDataDirectory: String { DataDirectory.resolve(dataDirectory) }

    func openStore() throws -> Store { try Store(directory: resolvedDataDirectory) }
}

/// Runs a command body and turns any failure into one line on stderr: exit status 64 for a bad
/// argument combination, 1 for anything refused or failed, so scripts can tell them apart.
func runReportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch let error as ValidationError {
        printError("vosctl: \(error.message)")
        throw ExitCode(64)
    } catch {
        printError("vosctl: \(error)")
        throw ExitCode(1)
    }
}
