import ArgumentParser
import VOSModel
import VOSStore

struct ParamCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "param", abstract: "System parameters (SS_*, SERVER_*), checked against their ranges.",
        subcommands: [ParamList.self, ParamGet.self, ParamSet.self, ParamReset.self])
}

struct ParameterView: Encodable {
    let key: String
    let value: String
    let defaultValue: String
    let isDefault: Bool
    let allowed: String
    let summary: String

    init(_ parameter: SystemParameter, in set: ParameterSet) {
        key = parameter.rawValue
        value = set.text(parameter)
        defaultValue = parameter.definition.defaultValue
        isDefault = set.isDefault(parameter)
        allowed = parameter.definition.kind.allowed
        summary = parameter.definition.summary
    }

    var row: [String] { [key, value.isEmpty ? "\"\"" : value, isDefault ? "" : "*", allowed, summary] }
}

struct ParamList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Every parameter with value, range and meaning (* = changed).")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try runReportingErrors {
            let set = try global.openStore().read { try $0.parameters() }
            let views = SystemParameter.allCases.sorted().map { ParameterView($0, in: set) }
            if json { return try printJSON(views) }
            printTable(["KEY", "VALUE", "SET", "ALLOWED", "MEANING"], views.map(\.row))
        }
    }
}

struct ParamGet: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Print one parameter's value.")

    @OptionGroup var global: GlobalOptions
    @Argument var key: String
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try runReportingErrors {
            let parameter = try SystemParameter(key: key)
            let set = try global.openStore().read { try $0.parameters() }
            if json { return try printJSON(ParameterView(parameter, in: set)) }
            print(set.text(parameter))
        }
    }
}

struct ParamSet: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "set", abstract: "Set a parameter (takes effect without restart).")

    @OptionGroup var global: GlobalOptions
    @Argument var key: String
    @Argument var value: String

    func run() throws {
        try runReportingErrors {
            let parameter = try SystemParameter(key: key)
            let stored = try global.openStore().write { try $0.setParameter(parameter, to: value) }
            print("\(parameter.rawValue) = \(stored)")
        }
    }
}

struct ParamReset: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reset", abstract: "Return a parameter to its default.")

    @OptionGroup var global: GlobalOptions
    @Argument var key: String

    func run() throws {
        try runReportingErrors {
            let parameter = try SystemParameter(key: key)
            try global.openStore().write { try $0.resetParameter(parameter) }
            print("\(parameter.rawValue) = \(parameter.definition.defaultValue) (default)")
        }
    }
}
