import VOSModel

/// Re-rating (`vosctl cdr rerate`, docs/BILLING.md "Re-rating and corrections"): the answered CDRs
/// of a setup-time window charged again with the rate tables as they are now, through the same
/// rule settlement uses (`CallCharging`), and every difference from what the CDR costs now
/// written as a `CDRAdjustment` with its balance change and history entry. A CDR that already
/// costs what the tables say gets nothing, so a second run finds nothing to do.
///
/// Built for a month of traffic: the window comes from the report index (unanswered calls are
/// counted there without reading their CDR), accounts, gateways and every rate table are read
/// once into memory (`RateTable`), CDR JSON (the fields rating needs) is decoded in a read
/// transaction, what each CDR costs now is read from its report fact (binary, adjustments
/// applied) rather than from its adjustments, and the adjustments of each batch are written in
/// one short write transaction, so a running controller's ledger waits for one batch at most.
public struct RerateRequest: Sendable {
    /// Setup-time window, epoch milliseconds: `since` inclusive, `until` exclusive.
    public var since: Int64?
    public var until: Int64?
    /// Only this customer account's CDRs.
    public var account: String?
    /// Compute and count, write nothing.
    public var dryRun: Bool
    public var reason: String
    public var by: String
    /// When the adjustments and history entries are booked, epoch milliseconds.
    public var time: Int64
    /// CDRs per write transaction.
    public var batchSize: Int

    public init(since: Int64?, until: Int64?, account: String? = nil, dryRun: Bool = false,
                reason: String = "re-rated with the current rate tables", by: String,
                time: Int64 = Transaction.currentMilliseconds(), batchSize: Int = 5000) {
        self.since = since
        self.until = until
        self.account = account
        self.dryRun = dryRun
        self.reason = reason
        self.by = by
        self.time = time
        self.batchSize = batchSize
    }
}

public struct RerateSummary: Sendable, Hashable, Codable {
    public var dryRun: Bool
    /// CDRs set up in the window (of the account, with `--account`).
    public var examined = 0
    /// Of those, unanswered: they cost nothing and are not read.
    public var unanswered = 0
    /// CDRs given at least one adjustment (would be, in a dry run).
    public var changed = 0
    public var customerAdjustments = 0
    public var vendorAdjustments = 0
    /// Sum of the customer charges' differences: revenue gained (negative: refunded).
    public var customerDelta = Money.zero
    /// Sum of the vendor charges' differences: cost gained.
    public var vendorDelta = Money.zero
    /// Balance change per account (customers pay `customerDelta`, clearing accounts hold
    /// `vendorDelta` less).
    public var balanceChanges: [String: Money] = [:]
    /// CDR sides not re-rated, by reason, with how many.
    public var skipped: [String: Int] = [:]

    public init(dryRun: Bool) { self.dryRun = dryRun }

    public var skippedTotal: Int { skipped.values.reduce(0, +) }
}

/// The fields of a CDR re-rating reads. Decoding only these skips the attempts, codecs and media
/// statistics: CDR JSON decoding is the largest part of a re-rate (tools/bench/rerate). Keys
/// are `CallDetailRecord`'s.
struct RatedCDR: Decodable {
    var id: UInt64
    var callID: String
    var setupTime: Int64
    var endReason: EndReason
    var durationSeconds: Int
    var billedSeconds: Int
    var calleeReceived: String
    var calleeSent: String
    var mappingGateway: String
    var routingGateway: String?
    var account: String?
    var customerCost: Money
    var vendorCost: Money
    var routingNumber: String?
    var packageSeconds: Int?
}

/// What re-rating needs besides the CDRs, read once: the charge rule's parameters, the accounts
/// and gateways as they are now, and every rate table an account names, as in-memory lookups.
struct RatingContext {
    let policy: ReservationPolicy
    let accounts: [String: Account]
    let mappingGateways: [String: MappingGateway]
    let routingGateways: [String: RoutingGateway]
    let tables: [String: RateTable]

    init(_ transaction: Transaction) throws {
        policy = ReservationPolicy(parameters: try transaction.parameters())
        let accounts = try transaction.accounts()
        self.accounts = Dictionary(accounts.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        mappingGateways = Dictionary(try transaction.mappingGateways().map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        routingGateways = Dictionary(try transaction.routingGateways().map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var tables: [String: RateTable] = [:]
        for name in Set(accounts.compactMap(\.rateTable)) {
            tables[name] = RateTable(name: name, entries: try transaction.rateEntries(table: name))
        }
        self.tables = tables
    }

    /// A side of a CDR re-rated: its new charge and the account it is booked to, or why not.
    enum Outcome {
        case charge(CallCharge, rate: String, account: String)
        /// Nothing to rate (no account, no vendor): the side costs nothing either way.
        case none
        case skipped(String)
    }

    /// The number vos rated the customer on: the LRN routing number when the call had one, else
    /// the callee as received through its mapping gateway's callee dial plan (as it is now).
    func customerNumber(_ record: RatedCDR) -> String {
        if let routing = record.routingNumber { return routing }
        guard let gateway = mappingGateways[record.mappingGateway] else { return record.calleeReceived }
        switch gateway.calleeRewrite.apply(to: record.calleeReceived) {
        case let .number(number): return number
        case .denied: return record.calleeReceived
        }
    }

    /// The connected seconds to charge: a limited call released late was billed only to the last
    /// whole step its credit paid (billed < duration), and a re-rate does not charge past that
    /// either. Billing whole steps, billed < duration means exactly that; when a partial last
    /// step may be dropped (`SERVER_BILLING_UNIT_PRECISION`) it also happens to calls charged in
    /// full, so there only a call ended for its credit (BalanceExhausted) counts as cut short.
    func chargedSeconds(_ record: RatedCDR) -> Int {
        guard record.billedSeconds > 0 && record.billedSeconds < record.durationSeconds,
              policy.unitPrecision == .whole || record.endReason == .balanceExhausted else { return record.durationSeconds }
        return record.billedSeconds
    }

    func customer(_ record: RatedCDR) -> Outcome {
        guard let name = record.account else { return .none }
        guard let account = accounts[name] else { return .skipped("customer account '\(name)' no longer exists") }
        guard let tableName = account.rateTable, let table = tables[tableName] else {
            return .skipped("customer account '\(name)' has no rate table")
        }
        let number = customerNumber(record)
        guard let rate = table.lookup(number) else {
            return .skipped("no customer rate in table '\(tableName)' for the callee (account '\(name)')")
        }
        let charge = CallCharging.customer(connectedSeconds: chargedSeconds(record), rate: rate, policy: policy,
                                           freeSeconds: record.packageSeconds ?? 0)
        return .charge(charge, rate: "\(tableName)/\(rate.prefix)", account: name)
    }

    /// The vendor side: the clearing account the CDR's routing gateway has now, that account's
    /// rate for the number sent. A call to a registered user (its "routing gateway" is a mapping
    /// gateway) has no vendor. `vendorCost` is what the vendor side costs now.
    func vendor(_ record: RatedCDR, vendorCost: Money) -> Outcome {
        guard let name = record.routingGateway else { return .none }
        guard let gateway = routingGateways[name] else {
            if mappingGateways[name] != nil { return .none }
            return .skipped("routing gateway '\(name)' no longer exists")
        }
        guard let clearing = gateway.clearingAccount else {
            // Settlement rates no vendor side without a clearing account.
            return vendorCost == .zero ? .none : .skipped("routing gateway '\(name)' has no clearing account")
        }
        guard let account = accounts[clearing] else {
            return .skipped("clearing account '\(clearing)' of routing gateway '\(name)' no longer exists")
        }
        guard let tableName = account.rateTable, let table = tables[tableName] else {
            return .skipped("clearing account '\(clearing)' has no rate table")
        }
        guard let rate = table.lookup(record.calleeSent) else {
            return .skipped("no vendor rate in table '\(tableName)' for the number sent (routing gateway '\(name)')")
        }
        let charge = CallCharging.vendor(connectedSeconds: record.durationSeconds, rate: rate, policy: policy)
        return .charge(charge, rate: "\(tableName)/\(rate.prefix)", account: clearing)
    }
}

extension Store {
    /// Re-rates the answered CDRs set up in the request's window (docs/BILLING.md). `progress`
    /// gets (CDRs done, answered CDRs in all) after each batch.
    public func rerateCDRs(_ request: RerateRequest, progress: (Int, Int) -> Void = { _, _ in }) throws -> RerateSummary {
        var summary = RerateSummary(dryRun: request.dryRun)
        // The window is read from the report index; CDRs an older controller appended without
        // their facts are indexed first.
        try updateCDRReportIndex()
        let (ids, context) = try read { transaction -> ([UInt64], RatingContext) in
            var ids: [UInt64] = []
            try transaction.forEachCDRReportFact(since: request.since, until: request.until) { fact in
                if let account = request.account, fact.account != account { return }
                summary.examined += 1
                if fact.answered { ids.append(fact.id) } else { summary.unanswered += 1 }
            }
            return (ids, try RatingContext(transaction))
        }
        let batchSize = max(1, request.batchSize)
        var done = 0
        while done < ids.count {
            let batch = ids[done..<min(ids.count, done + batchSize)]
            // JSON decoding, the slow part, outside the writer lock; CDR rows never change.
            let records = try read { transaction in
                try batch.compactMap { id -> RatedCDR? in
                    guard let bytes = try transaction.get(.cdrs, BigEndianKey.bytes(id)) else { return nil }
                    return try Transaction.decode(RatedCDR.self, from: bytes, table: .cdrs, key: String(id))
                }
            }
            let rerate = { (transaction: Transaction) throws in
                try Self.rerate(records, context: context, request: request, in: transaction, summary: &summary)
            }
            if request.dryRun { try read(rerate) } else { try write(changesConfiguration: false, rerate) }
            done += batch.count
            progress(done, ids.count)
        }
        return summary
    }

    private static func rerate(_ records: [RatedCDR], context: RatingContext, request: RerateRequest,
                               in transaction: Transaction, summary: inout RerateSummary) throws {
        let book = request.dryRun ? nil : AdjustmentBook(transaction)
        for record in records {
            var charges = try transaction.currentCharges(of: record)
            var sequence: UInt32?
            var changed = false
            for field in CDRAdjustment.Field.allCases {
                let outcome = field == .customerCost ? context.customer(record) : context.vendor(record, vendorCost: charges.vendorCost)
                guard case let .charge(charge, rate, accountName) = outcome else {
                    if case let .skipped(reason) = outcome {
                        summary.skipped[(field == .customerCost ? "customer: " : "vendor: ") + reason, default: 0] += 1
                    }
                    continue
                }
                let old = field == .customerCost ? charges.customerCost : charges.vendorCost
                guard charge.cost != old else { continue }
                let billedChanged = field == .customerCost && charge.billedSeconds != charges.billedSeconds
                let next = try sequence ?? transaction.lastCDRAdjustmentSequence(cdrID: record.id)
                sequence = next + 1
                var adjustment = CDRAdjustment(
                    cdrID: record.id, sequence: next + 1, time: request.time, kind: .rerate, field: field,
                    oldValue: old, newValue: charge.cost,
                    oldBilledSeconds: billedChanged ? charges.billedSeconds : nil,
                    newBilledSeconds: billedChanged ? charge.billedSeconds : nil,
                    account: accountName, rate: rate, reason: request.reason, by: request.by)
                if let book, try !book.book(adjustment, account: accountName, callID: record.callID,
                                            isCustomer: field == .customerCost) {
                    // Deleted since the run began: the charge is corrected, no balance is.
                    adjustment.account = nil
                    summary.skipped["\(field == .customerCost ? "customer" : "vendor"): account '\(accountName)' deleted during the re-rate (charge corrected, no balance changed)", default: 0] += 1
                }
                charges.apply(adjustment)
                if book != nil { try transaction.putCDRAdjustment(adjustment, setupTime: record.setupTime, charges: charges) }
                changed = true
                if let booked = adjustment.account { summary.balanceChanges[booked, default: .zero] -= adjustment.difference }
                if field == .customerCost {
                    summary.customerAdjustments += 1
                    summary.customerDelta += adjustment.difference
                } else {
                    summary.vendorAdjustments += 1
                    summary.vendorDelta += adjustment.difference
                }
            }
            if changed { summary.changed += 1 }
        }
        try book?.flush()
    }
}

extension Transaction {
    /// What `record` costs now: its report fact carries the charges with every adjustment
    /// applied (one binary read); without one, the CDR's own charges plus its adjustments.
    fileprivate func currentCharges(of record: RatedCDR) throws -> CDRCharges {
        if let fact = try cdrReportFact(setupTime: record.setupTime, id: record.id) {
            return CDRCharges(customerCost: fact.customerCost, vendorCost: fact.vendorCost, billedSeconds: fact.billedSeconds)
        }
        var charges = CDRCharges(customerCost: record.customerCost, vendorCost: record.vendorCost, billedSeconds: record.billedSeconds)
        for adjustment in try cdrAdjustments(cdrID: record.id) { charges.apply(adjustment) }
        return charges
    }
}
