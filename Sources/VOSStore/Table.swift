/// The named LMDB databases of one vos store. Renaming a case is a schema change.
public enum Table: String, Sendable, CaseIterable, Codable {
    /// Schema version, change generation, sequence counters.
    case meta
    case mappingGateways = "mapping_gateways"
    case routingGateways = "routing_gateways"
    case accounts
    /// Key: rate table name, NUL, prefix.
    case rates
    /// Key: SS_* name; value: canonical text. Only explicit settings are stored.
    case parameters
    /// Key: big-endian CDR id.
    case cdrs
    /// Key: setup time and CDR id (`CDRReportIndex`); value: the CDR's report fact, compact
    /// binary. Written with each CDR, so reports range-scan by time without decoding CDR JSON.
    case cdrReportFacts = "cdr_report_facts"
    /// Key: list name; value: JSON header (kind, target, count). The numbers are in `numberListNumbers`.
    case numberLists = "number_lists"
    /// Key: list name; value: the list's `NumberSet` in its binary form (16 bytes a number).
    case numberListNumbers = "number_list_numbers"
    /// Key: number group name; value: `NumberGroup`.
    case numberGroups = "number_groups"
    /// Key: the controller's call key; value: `LiveCall`. A row is a call holding credit.
    case liveCalls = "live_calls"
    /// Key: account name; value: `AccountReservation`, the sum over that account's live calls.
    case accountReservations = "account_reservations"
    /// Key: account name, NUL, big-endian entry id; value: `AccountHistoryEntry`.
    case accountHistory = "account_history"
    /// Key: username, NUL, Contact URI; value: `RegistrationBinding`. Written by the controller
    /// (not a configuration change); expired rows are ignored and purged.
    case registrations
    /// Key: mapping gateway name; value: `GatewaySuspension`. Written by the controller after
    /// too many failed authentications, deleted by `vosctl gateway unsuspend`; both reload it.
    case gatewaySuspensions = "gateway_suspensions"
    /// Key: rule name; value: `DynamicBlacklistRule` (configuration: a change bumps the generation).
    case dynamicBlacklistRules = "dynamic_blacklist_rules"
    /// Key: `DynamicBlacklistEntry.Key.storeKey`; value: `DynamicBlacklistEntry`. Written by the
    /// controller when an entry is made (not a configuration change); removed by vosctl (which
    /// bumps the generation so the controller drops it too); expired rows are ignored and purged.
    case dynamicBlacklistEntries = "dynamic_blacklist_entries"
    /// Key: address family (4 or 6), then the start address (network order); value: compact
    /// binary (`GeofenceRangeCoding`), since a country import holds ~200k rows and the controller
    /// loads them all on each configuration change.
    case geofenceRanges = "geofence_ranges"
    /// Key: rule name; value: `AlarmRule` (configuration: a change bumps the generation).
    case alarmRules = "alarm_rules"
    /// Key: webhook name; value: `WebhookTarget` (configuration).
    case webhookTargets = "webhook_targets"
    /// Key: rule, NUL, subject; value: `ActiveAlarm`. Written by the controller when an alarm is
    /// raised or cleared (not a configuration change), so a restart neither repeats nor forgets one.
    case activeAlarms = "active_alarms"
    /// Key: prefix; value: `RouteSortRule` (configuration): the sort mode for callees with that prefix.
    case routeSortRules = "route_sort_rules"
    /// Key: schedule name; value: `RouteSchedule` (configuration).
    case routeSchedules = "route_schedules"
    /// Key: calendar name; value: `WorkCalendar` (configuration).
    case workCalendars = "work_calendars"
    /// Key: group name; value: `GatewayGroup` (configuration).
    case gatewayGroups = "gateway_groups"
    /// Key: "table" (one LRN table); value: JSON header (count, imported at, source file). The
    /// pairs are in `lrnNumbers`, binary, so a table of millions of ported numbers loads without JSON.
    case lrnTable = "lrn_table"
    /// Key: "table"; value: `LRNTable.binary` (sorted number/LRN pairs, 32 bytes each).
    case lrnNumbers = "lrn_numbers"
    /// Key: package name; value: `CustomerPackage` (configuration).
    case packages
    /// Key: account, NUL, period (YYYY-MM), NUL, destination group; value: `PackageUsage`, the
    /// free seconds used and those granted to live calls. Written with the authorization that
    /// grants them and the settlement that uses them.
    case packageUsage = "package_usage"
    /// Key: account, NUL, period (YYYY-MM), NUL, charge kind; value: `MonthlyCharge` (what was
    /// booked and its history entry). Makes monthly rent and minimum consumption idempotent.
    case monthlyCharges = "monthly_charges"
    /// Key: big-endian CDR id, big-endian adjustment number; value: `CDRAdjustment`. The audit
    /// trail of re-rating and CDR modification; the CDR row itself never changes.
    case cdrAdjustments = "cdr_adjustments"
    /// Cluster mode only. Key: big-endian account-history id; value: the history row's key. The
    /// balance changes this node has not yet shipped to PostgreSQL, written in the transaction
    /// that made them and deleted once shipped (docs/CLUSTER.md).
    case clusterOutbox = "cluster_outbox"

    /// Tables an operator migrates and compares after restore (meta is bookkeeping).
    public static var dataTables: [Table] { allCases.filter { $0 != .meta } }

    /// Tables whose rows are configuration: written by vosctl, read by the daemons, and in cluster
    /// mode kept in PostgreSQL and copied to every node. Everything else is a node's own state
    /// (live calls, reservations, CDRs, history, registrations, alarms, package usage).
    public static let configurationTables: [Table] = [
        .mappingGateways, .routingGateways, .accounts, .rates, .parameters, .numberLists, .numberListNumbers,
        .numberGroups, .dynamicBlacklistRules, .geofenceRanges, .alarmRules, .webhookTargets, .routeSortRules,
        .routeSchedules, .workCalendars, .gatewayGroups, .lrnTable, .lrnNumbers, .packages,
    ]

    public var isConfiguration: Bool { Table.configurationTables.contains(self) }
}
