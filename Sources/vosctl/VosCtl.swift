import ArgumentParser

/// vosctl: the operator's command line for one vos store. Commands are thin: they parse, call
/// VOSStore/VOSModel, and print a table (or `--json` with stable field names).
@main
struct VosCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vosctl",
        abstract: "Operate a vos softswitch: gateways, accounts, rates, parameters, CDRs, backups.",
        subcommands: [
            InitCommand.self, GatewayCommand.self, ParamCommand.self, AccountCommand.self,
            RateCommand.self, CDRCommand.self, CallsCommand.self, BackupCommand.self, RestoreCommand.self, MediaCommand.self,
            FirewallCommand.self, RegistrationsCommand.self,
            GeofenceCommand.self,
            BlacklistCommand.self,
            ListCommand.self, NumberGroupCommand.self,
        ])

    @OptionGroup var global: GlobalOptions
}
