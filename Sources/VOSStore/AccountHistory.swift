import Foundation
import VOSModel

/// The per-account ledger of balance changes, keyed `ACCOUNT NUL big-endian id` so one account's
/// entries are a contiguous range in time order.
extension Transaction {
    static let nextHistoryIDKey = "next_account_history_id"

    static func historyKey(account: String, id: UInt64) -> [UInt8] {
        Array(account.utf8) + [0] + BigEndianKey.bytes(id)
    }

    /// Assigns the next id and appends. Written in the transaction that changed the balance.
    @discardableResult
    func appendHistory(_ entry: AccountHistoryEntry) throws -> AccountHistoryEntry {
        var entry = entry
        let id = try metaInteger(Transaction.nextHistoryIDKey) ?? 1
        entry.id = id
        try setMetaInteger(Transaction.nextHistoryIDKey, id + 1)
        try put(.accountHistory, Transaction.historyKey(account: entry.account, id: id),
                Transaction.encode(entry, table: .accountHistory, key: "\(entry.account)/\(id)"))
        try queueForCluster(entry)
        return entry
    }

    /// The newest `limit` entries of `account`, oldest first.
    public func accountHistory(account: String, limit: Int = .max) throws -> [AccountHistoryEntry] {
        let entries = try records(AccountHistoryEntry.self, in: .accountHistory, keyPrefix: Array(account.utf8) + [0])
        return Array(entries.suffix(max(0, limit)))
    }

    /// Wall-clock now in epoch milliseconds, for entries an operator makes by hand.
    public static func currentMilliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }
}
