import Softswitch
import VOSModel
import VOSStore

/// Wholesale routing's share of a configuration generation (docs/ROUTING.md): the route index
/// with every vendor's rates and the route sort rules, the customers' rates margin protection
/// compares with, route schedules resolved per gateway, gateway groups, the time zone, and the
/// LRN table. Built once per generation off the SIP loop; the loop only reads it.
public struct RoutingConfiguration: Sendable {
    public let index: RouteIndex
    /// Rate tables by name, for the customer side of margin protection.
    public let rateTables: [String: RateIndex]
    /// Each scheduled routing gateway's schedule with its calendar, by gateway name.
    public let schedules: [String: ResolvedRouteSchedule]
    public let groups: [String: GatewayGroup]
    /// `SS_TIME_ZONE`; nil only when the zone could not be opened (schedules then read UTC).
    public let clock: LocalClock?
    public let lrnTable: LRNTable
    public let lrnPolicy: LRNPolicy

    /// `share`: a cluster node's part of gateway and group limits (`ClusterShare`).
    static func load(_ transaction: Transaction, share: ClusterShare = .whole) throws -> RoutingConfiguration {
        let parameters = try transaction.parameters()
        let gateways = try transaction.routingGateways().map(share.applied(to:))
        let accounts = try transaction.accounts()
        // Only the tables routing can ask for: vendors' (their clearing accounts') and customers'.
        let tableOfAccount = Dictionary(accounts.compactMap { account in account.rateTable.map { (account.name, $0) } },
                                        uniquingKeysWith: { first, _ in first })
        var names = Set(gateways.compactMap { gateway in gateway.clearingAccount.flatMap { tableOfAccount[$0] } })
        names.formUnion(accounts.filter(\.protectsMargin).compactMap(\.rateTable))
        var tables: [String: [RateEntry]] = [:]
        for name in names { tables[name] = try transaction.rateEntries(table: name) }
        return RoutingConfiguration(
            parameters: parameters, gateways: gateways, accounts: accounts, rateTables: tables,
            sortRules: try transaction.routeSortRules(), schedules: try transaction.routeScheduleBook(),
            groups: try transaction.gatewayGroups().map(share.applied(to:)), lrn: try transaction.lrnTable())
    }

    public init(parameters: ParameterSet, gateways: [RoutingGateway], accounts: [Account], rateTables: [String: [RateEntry]] = [:],
                sortRules: [RouteSortRule] = [], schedules: RouteScheduleBook = RouteScheduleBook(schedules: [], calendars: []),
                groups: [GatewayGroup] = [], lrn: LRNTable = LRNTable()) {
        var indexes: [String: RateIndex] = [:]
        for (name, entries) in rateTables { indexes[name] = RateIndex(name: name, entries: entries) }
        let tableOfAccount = Dictionary(accounts.compactMap { account in account.rateTable.map { (account.name, $0) } },
                                        uniquingKeysWith: { first, _ in first })
        index = RouteIndex(gateways: gateways, sortRules: sortRules) { gateway in
            gateway.clearingAccount.flatMap { tableOfAccount[$0] }.flatMap { indexes[$0] }
        }
        self.rateTables = indexes
        var resolved: [String: ResolvedRouteSchedule] = [:]
        for gateway in gateways {
            guard let name = gateway.schedule else { continue }
            // A schedule the store no longer has: the gateway is never active (RouteScheduleBook).
            resolved[gateway.name] = schedules.resolved(name)
                ?? ResolvedRouteSchedule(schedule: RouteSchedule(name: name, windows: []), calendar: nil)
        }
        self.schedules = resolved
        self.groups = Dictionary(groups.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        clock = (try? LocalClock(parameters: parameters)) ?? (try? LocalClock(zoneName: "UTC"))
        lrnTable = lrn
        lrnPolicy = LRNPolicy(parameters: parameters)
    }

    /// The local time schedules judge at `milliseconds` (UTC when no zone could be opened).
    public func localTime(at milliseconds: Int64) -> LocalTime? {
        clock?.localTime(at: milliseconds)
    }
}
