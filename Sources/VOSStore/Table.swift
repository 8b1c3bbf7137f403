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
    case numberLists = "number_lists"
    /// Key: the controller's call key; value: `LiveCall`. A row is a call holding credit.
    case liveCalls = "live_calls"
    /// Key: account name; value: `AccountReservation`, the sum over that account's live calls.
    case accountReservations = "account_reservations"
    /// Key: account name, NUL, big-endian entry id; value: `AccountHistoryEntry`.
    case accountHistory = "account_history"

    /// Tables an operator migrates and compares after restore (meta is bookkeeping).
    public static var dataTables: [Table] { allCases.filter { $0 != .meta } }
}
