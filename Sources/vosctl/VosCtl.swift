import ArgumentParser
import VOSModel

/// vosctl: the operator's command line for one vos store. Commands are thin: they parse, call
/// VOSStore/VOSModel, and print a table (or `--json` with stable field names).
@main
struct VosCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vosctl",
        abstract: "Operate a vos softswitch: gateways, accounts, rates, parameters, CDRs, backups.",
        version: VOSVersion.number,
        subcommands: [
            InitCommand.self, GatewayCommand.self, ParamCommand.self, AccountCommand.self,
            RateCommand.self, CDRCommand.self, ReportCommand.self, CallsCommand.self, BackupCommand.self, RestoreCommand.self, MediaCommand.self,
            FirewallCommand.self, RegistrationsCommand.self,
            GeofenceCommand.self,
            BlacklistCommand.self,
            AlarmCommand.self,
            ListCommand.self, NumberGroupCommand.self,
            RouteCommand.self, ScheduleCommand.self, CalendarCommand.self, GatewayGroupCommand.self,
            PackageCommand.self,
            LRNCommand.self,
            ReconcileCommand.self,
            TraceCommand.self,
            ClusterCommand.self,
            VersionCommand.self,
        ])

    @OptionGroup var global: GlobalOptions
}
