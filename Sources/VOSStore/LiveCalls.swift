import VOSModel

/// Live calls and the per-account totals of what they reserve. Every change to a live call goes
/// through `storeLiveCall`/`removeLiveCall`, which adjust the account's total in the same
/// transaction, so the total always equals the sum over its live calls.
extension Transaction {
    public func liveCall(key: String) throws -> LiveCall? {
        try get(.liveCalls, Array(key.utf8)).map { try LiveCallRecordCoding.decodeLiveCall($0, key: key) }
    }

    public func liveCalls() throws -> [LiveCall] {
        var calls: [LiveCall] = []
        try scan(.liveCalls) { key, value in
            calls.append(try LiveCallRecordCoding.decodeLiveCall(value, key: String(decoding: key, as: UTF8.self)))
            return true
        }
        return calls
    }

    public func accountReservation(_ account: String) throws -> AccountReservation {
        try get(.accountReservations, Array(account.utf8)).map { try LiveCallRecordCoding.decodeReservation($0, key: account) } ?? .none
    }

    /// Inserts or replaces `call`, moving the account total by the change in its reservation.
    func storeLiveCall(_ call: LiveCall, replacing previous: LiveCall?) throws {
        var totals = try accountReservation(call.account)
        totals.reserved += call.reserved - (previous?.reserved ?? .zero)
        if previous == nil { totals.liveCalls += 1 }
        try saveReservation(totals, account: call.account)
        try put(.liveCalls, Array(call.key.utf8), LiveCallRecordCoding.encode(call))
    }

    /// Deletes `call` and gives its reservation back to the account.
    func removeLiveCall(_ call: LiveCall) throws {
        var totals = try accountReservation(call.account)
        totals.reserved -= call.reserved
        totals.liveCalls -= 1
        try saveReservation(totals, account: call.account)
        try delete(.liveCalls, Array(call.key.utf8))
    }

    private func saveReservation(_ totals: AccountReservation, account: String) throws {
        guard totals.liveCalls >= 0 else {
            throw StoreError.conflict("account '\(account)' would have \(totals.liveCalls) live calls: the live-call totals are inconsistent")
        }
        if totals.liveCalls == 0 {
            // No live call left means nothing may stay reserved; a leftover would leak credit.
            guard totals.reserved == .zero else {
                throw StoreError.conflict("account '\(account)' has no live call left but \(totals.reserved) still reserved: the live-call totals are inconsistent")
            }
            try delete(.accountReservations, Array(account.utf8))
        } else {
            try put(.accountReservations, Array(account.utf8), LiveCallRecordCoding.encode(totals))
        }
    }
}
