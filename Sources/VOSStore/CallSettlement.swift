import VOSModel

/// Exactly-once charging of finished calls (requirements §4). The live-call record is the token:
/// settling reads it, and in the same transaction charges the customer, debits the vendor's
/// clearing account, releases the reservation, appends the CDR and the history entries, and
/// deletes the record. Either all of that commits or none of it, and a settle that finds no
/// record charges nothing.
extension Transaction {
    /// Settles the live call `key` with the controller's CDR `draft` (its `endTime`, `answerTime`,
    /// end reason, SIP code, gateways, codecs and media statistics). Fills in account, duration,
    /// billed seconds, both costs and the CDR id. Returns nil when `key` is not live, e.g. it was
    /// already settled.
    @discardableResult
    public func settleCall(_ key: String, draft: CallDetailRecord, policy: ReservationPolicy? = nil) throws -> CallDetailRecord? {
        guard let call = try liveCall(key: key) else { return nil }
        return try settle(call, draft: draft, bookedAt: draft.endTime, policy: policy ?? ReservationPolicy(parameters: parameters()))
    }

    func settle(_ call: LiveCall, draft: CallDetailRecord, bookedAt time: Int64, policy: ReservationPolicy) throws -> CallDetailRecord {
        var record = draft
        record.account = call.account
        record.answerTime = draft.answerTime ?? call.answerTime
        if record.routingGateway == nil { record.routingGateway = call.vendor?.gateway }
        let duration = CallCharging.connectedSeconds(answer: record.answerTime, end: record.endTime, policy: policy)
        record.durationSeconds = duration

        var account = try requireAccount(named: call.account)
        let totals = try accountReservation(call.account)
        // A limited call may use its own reservation and any credit nobody holds; billing stops
        // there, so a release that came late cannot push the balance past -limitMoney.
        let allowance: Money? = call.isLimited
            ? call.reserved + max(.zero, account.availableCredit(reserved: totals.reserved))
            : nil
        // Once its hold is released, the call may use every free second of its group nobody used
        // or holds (its grant among them: more when it ran past a slice, or others have ended),
        // and never less than its grant, even if the package changed meanwhile.
        var freeSeconds = 0
        if let grant = call.package {
            try holdPackageSeconds(-grant.seconds, of: grant, account: call.account)
            freeSeconds = max(grant.seconds, try packageSecondsAvailable(to: account, in: grant))
        }
        let customer = CallCharging.customer(connectedSeconds: duration, rate: call.rate, policy: policy,
                                             freeSeconds: freeSeconds, allowance: allowance)
        record.billedSeconds = customer.billedSeconds
        record.customerCost = customer.cost
        record.vendorCost = CallCharging.vendor(connectedSeconds: duration, rate: call.vendorRate, policy: policy).cost
        record.billingMethod = account.kind.rawValue
        if let grant = call.package, customer.packageSeconds > 0 {
            var usage = try packageUsage(account: call.account, period: grant.period, group: grant.group)
            usage.usedSeconds += customer.packageSeconds
            try savePackageUsage(usage, account: call.account, period: grant.period, group: grant.group)
            record.packageName = grant.package
            record.packageSeconds = customer.packageSeconds
        }

        try removeLiveCall(call)
        record = try appendCDR(record)

        account.balance -= customer.cost
        // Reaching the limit locks the account; `topUp` unlocks it once above the limit again. A
        // cluster node's balance is only its credit lease (docs/CLUSTER.md "Money"): spending it
        // means leasing more, and the cluster database's lease refuses an account at its limit.
        if customer.cost > .zero && account.balance <= -account.limitMoney, try clusterNode() == nil {
            account.status = .locked
        }
        try putRecord(account, in: .accounts, key: account.name)
        if customer.cost != .zero {
            try appendHistory(AccountHistoryEntry(account: account.name, time: time, kind: .charge, amount: -customer.cost,
                                                  balanceAfter: account.balance, callID: record.callID, cdrID: record.id))
        }
        try debitVendor(call.vendor?.clearingAccount, amount: record.vendorCost, record: record, at: time)
        return record
    }

    /// A vendor clearing account holds what we prepaid to that vendor, so carrying a call lowers
    /// it; `SERVER_VERIFY_CLEARING_CUSTOMER` then stops routing to a vendor we no longer have
    /// money with. A clearing account deleted since the call started is skipped rather than
    /// making the call impossible to settle.
    private func debitVendor(_ name: String?, amount: Money, record: CallDetailRecord, at time: Int64) throws {
        guard let name, amount != .zero, var vendor = try account(named: name) else { return }
        vendor.balance -= amount
        try putRecord(vendor, in: .accounts, key: vendor.name)
        try appendHistory(AccountHistoryEntry(account: vendor.name, time: time, kind: .vendorCharge, amount: -amount,
                                              balanceAfter: vendor.balance, callID: record.callID, cdrID: record.id))
    }
}
