import VOSModel

/// The audit trail of CDR charge corrections (`Table.cdrAdjustments`, docs/BILLING.md "Re-rating
/// and corrections"): appending an adjustment, reading a CDR's adjustments back, the CDR as it is
/// charged now, and `vosctl cdr modify`. The CDR row is never rewritten. An adjustment is written
/// in one transaction with the balance change of the account it names, that account's history
/// entry (kind `rerate` or `cdr-modify`, with the CDR id), and the CDR's report fact, whose costs
/// and billed seconds are patched in place so `vosctl report` shows charges as they are now at no
/// cost per report.
///
/// Key: big-endian CDR id, then big-endian sequence (u32): one CDR's adjustments are one key
/// range, in the order they were made.
extension Transaction {
    static func cdrAdjustmentKey(cdrID: UInt64, sequence: UInt32) -> [UInt8] {
        BigEndianKey.bytes(cdrID) + (0..<4).map { UInt8(truncatingIfNeeded: sequence >> (24 - 8 * UInt32($0))) }
    }

    /// The CDR with id `id`, as appended (no adjustment applied).
    public func cdr(id: UInt64) throws -> CallDetailRecord? {
        guard let bytes = try get(.cdrs, BigEndianKey.bytes(id)) else { return nil }
        return try Transaction.decode(CallDetailRecord.self, from: bytes, table: .cdrs, key: String(id))
    }

    /// One CDR's adjustments, oldest first.
    public func cdrAdjustments(cdrID: UInt64) throws -> [CDRAdjustment] {
        let prefix = BigEndianKey.bytes(cdrID)
        var result: [CDRAdjustment] = []
        try scan(.cdrAdjustments, from: prefix) { key, value in
            guard key.starts(with: prefix) else { return false }
            result.append(try Transaction.decode(CDRAdjustment.self, from: value, table: .cdrAdjustments, key: "\(cdrID)/\(key.count)"))
            return true
        }
        return result
    }

    /// The CDR as it is charged now: its costs and billed seconds with its adjustments applied.
    public func effectiveCDR(_ record: CallDetailRecord) throws -> CallDetailRecord {
        record.adjusted(by: try cdrAdjustments(cdrID: record.id))
    }

    /// `effectiveCDR` of each; one statistics call when no CDR was ever adjusted.
    public func effectiveCDRs(_ records: [CallDetailRecord]) throws -> [CallDetailRecord] {
        guard try count(.cdrAdjustments) > 0 else { return records }
        return try records.map(effectiveCDR)
    }

    /// The sequence of CDR `cdrID`'s last adjustment, 0 for none (keys only, nothing decoded).
    func lastCDRAdjustmentSequence(cdrID: UInt64) throws -> UInt32 {
        let prefix = BigEndianKey.bytes(cdrID)
        var last: UInt32 = 0
        try scan(.cdrAdjustments, from: prefix) { key, _ in
            guard key.starts(with: prefix), key.count == 12 else { return false }
            last = key[8...].reduce(0) { $0 << 8 | UInt32($1) }
            return true
        }
        return last
    }

    /// The report fact of the CDR set up at `setupTime` with id `id`: its charges as they are now.
    func cdrReportFact(setupTime: Int64, id: UInt64) throws -> CDRReportFact? {
        let key = CDRReportIndex.key(setupTime: setupTime, id: id)
        guard let bytes = try get(.cdrReportFacts, key) else { return nil }
        return try key.withUnsafeBytes { keyBytes in
            try bytes.withUnsafeBytes { try CDRReportIndex.decode(key: keyBytes, value: $0) }
        }
    }

    /// Writes `adjustment` (its sequence must follow the CDR's last) and patches the report fact
    /// of the CDR (set up at `setupTime`) to `charges`, its charges with this adjustment applied.
    /// Balances are the caller's (`AdjustmentBook`), in the same transaction.
    func putCDRAdjustment(_ adjustment: CDRAdjustment, setupTime: Int64, charges: CDRCharges) throws {
        try put(.cdrAdjustments, Transaction.cdrAdjustmentKey(cdrID: adjustment.cdrID, sequence: adjustment.sequence),
                Transaction.encode(adjustment, table: .cdrAdjustments, key: "\(adjustment.cdrID)/\(adjustment.sequence)"))
        try patchCDRReportFact(setupTime: setupTime, id: adjustment.cdrID, charges: charges)
    }

    /// Rewrites the charge fields of one report fact in place (`CDRReportIndex`'s layout: billed
    /// seconds u32 at 12, customer and vendor cost units i64 at 16 and 24, little-endian). A
    /// missing fact is left missing: `Store.updateCDRReportIndex` makes it from the CDR with its
    /// adjustments.
    func patchCDRReportFact(setupTime: Int64, id: UInt64, charges: CDRCharges) throws {
        let key = CDRReportIndex.key(setupTime: setupTime, id: id)
        guard var bytes = try get(.cdrReportFacts, key), bytes.count >= CDRReportIndex.fixedBytes,
              bytes[0] == CDRReportIndex.tag else { return }
        func store<Value: FixedWidthInteger>(_ value: Value, at offset: Int) {
            withUnsafeBytes(of: value.littleEndian) { raw in
                for (index, byte) in raw.enumerated() { bytes[offset + index] = byte }
            }
        }
        store(UInt32(clamping: charges.billedSeconds), at: 12)
        store(charges.customerCost.units, at: 16)
        store(charges.vendorCost.units, at: 24)
        try put(.cdrReportFacts, key, bytes)
    }

    /// `vosctl cdr modify`: sets the customer and/or vendor cost of CDR `id` by hand, as audited
    /// adjustments (kind `modify`) with `reason`. The customer account is the CDR's; the vendor's
    /// is the clearing account its routing gateway has now. A cost already at the asked value is
    /// left alone; asking for no change at all is refused. An account that no longer exists gets
    /// no balance change and a warning.
    public func modifyCDR(id: UInt64, customerCost: Money?, vendorCost: Money?, reason: String, by: String,
                          at time: Int64 = Transaction.currentMilliseconds()) throws -> CDRModification {
        guard customerCost != nil || vendorCost != nil else {
            throw StoreError.invalid(.missing(field: "--customer-cost or --vendor-cost"))
        }
        let reasonText = reason.trimmingSpaces
        guard !reasonText.isEmpty else { throw StoreError.invalid(.missing(field: "--reason")) }
        for (value, field) in [(customerCost, "--customer-cost"), (vendorCost, "--vendor-cost")] {
            if let value, value < .zero {
                throw StoreError.invalid(.invalid(field: field, value: value.description, expected: "zero or more"))
            }
        }
        guard let original = try cdr(id: id) else { throw StoreError.notFound(kind: "CDR", name: String(id)) }
        let existing = try cdrAdjustments(cdrID: id)
        var effective = original.adjusted(by: existing)
        var sequence = existing.last?.sequence ?? 0
        var result = CDRModification(adjustments: [], warnings: [], record: effective)
        let book = AdjustmentBook(self)

        var changes: [(CDRAdjustment.Field, Money, String?)] = []
        if let customerCost, customerCost != effective.customerCost {
            guard let account = original.account else {
                throw StoreError.conflict("CDR \(id) has no customer account: there is no customer charge to correct")
            }
            changes.append((.customerCost, customerCost, account))
        }
        if let vendorCost, vendorCost != effective.vendorCost {
            guard let gatewayName = original.routingGateway else {
                throw StoreError.conflict("CDR \(id) reached no routing gateway: there is no vendor charge to correct")
            }
            var clearing: String?
            if let gateway = try routingGateway(named: gatewayName) {
                clearing = gateway.clearingAccount
                if clearing == nil {
                    result.warnings.append("routing gateway '\(gatewayName)' has no clearing account: no vendor balance changed")
                }
            } else {
                result.warnings.append("routing gateway '\(gatewayName)' no longer exists: no vendor balance changed")
            }
            changes.append((.vendorCost, vendorCost, clearing))
        }
        guard !changes.isEmpty else {
            throw StoreError.conflict("CDR \(id) already costs customer \(effective.customerCost), vendor \(effective.vendorCost): nothing to change")
        }
        for (field, value, accountName) in changes {
            sequence += 1
            var adjustment = CDRAdjustment(
                cdrID: id, sequence: sequence, time: time, kind: .modify, field: field,
                oldValue: field == .customerCost ? effective.customerCost : effective.vendorCost, newValue: value,
                account: accountName, reason: reasonText, by: by)
            if let accountName, try !book.book(adjustment, account: accountName, callID: original.callID,
                                               isCustomer: field == .customerCost) {
                result.warnings.append("account '\(accountName)' no longer exists: no balance changed")
                adjustment.account = nil
            }
            effective = effective.adjusted(by: [adjustment])
            try putCDRAdjustment(adjustment, setupTime: effective.setupTime, charges: CDRCharges(
                customerCost: effective.customerCost, vendorCost: effective.vendorCost, billedSeconds: effective.billedSeconds))
            result.adjustments.append(adjustment)
        }
        try book.flush()
        result.record = effective
        return result
    }
}

/// What a CDR costs now: its charges with its adjustments applied.
struct CDRCharges: Sendable, Hashable {
    var customerCost: Money
    var vendorCost: Money
    var billedSeconds: Int

    /// As `CallDetailRecord.adjusted(by:)` applies one adjustment.
    mutating func apply(_ adjustment: CDRAdjustment) {
        switch adjustment.field {
        case .customerCost:
            customerCost += adjustment.difference
            if let billed = adjustment.newBilledSeconds { billedSeconds = billed }
        case .vendorCost:
            vendorCost += adjustment.difference
        }
    }
}

/// What `modifyCDR` did.
public struct CDRModification: Sendable, Hashable, Codable {
    public var adjustments: [CDRAdjustment]
    /// Accounts that could not be charged or credited, and why.
    public var warnings: [String]
    /// The CDR as it is charged now.
    public var record: CallDetailRecord
}

/// Books the balance changes of adjustments made in one write transaction: each account is read
/// once and written once at `flush`, however many of its CDRs change (a re-rate touches thousands
/// per transaction), and each change gets its history entry with the running balance. A customer
/// charged more whose balance reaches -limitMoney is locked, as settlement does; vendor clearing
/// accounts never are (docs/BILLING.md "Vendor side").
final class AdjustmentBook {
    private let transaction: Transaction
    private var accounts: [String: Account] = [:]
    private var absent: Set<String> = []
    private var touched: [String] = []

    init(_ transaction: Transaction) { self.transaction = transaction }

    /// Moves `name`'s balance by `-adjustment.difference` with a history entry. False, changing
    /// nothing, when the account does not exist.
    func book(_ adjustment: CDRAdjustment, account name: String, callID: String?, isCustomer: Bool) throws -> Bool {
        guard !absent.contains(name) else { return false }
        var account: Account
        if let known = accounts[name] {
            account = known
        } else if let stored = try transaction.account(named: name) {
            account = stored
            touched.append(name)
        } else {
            absent.insert(name)
            return false
        }
        accounts[name] = account
        guard adjustment.difference != .zero else { return true }
        account.balance -= adjustment.difference
        if isCustomer && adjustment.difference > .zero && account.balance <= -account.limitMoney {
            account.status = .locked
        }
        accounts[name] = account
        try transaction.appendHistory(AccountHistoryEntry(
            account: name, time: adjustment.time, kind: adjustment.kind.historyKind, amount: -adjustment.difference,
            balanceAfter: account.balance, callID: callID, cdrID: adjustment.cdrID))
        return true
    }

    func flush() throws {
        for name in touched {
            guard let account = accounts[name] else { continue }
            try transaction.putRecord(account, in: .accounts, key: name)
        }
        touched.removeAll()
        accounts.removeAll()
        absent.removeAll()
    }
}
