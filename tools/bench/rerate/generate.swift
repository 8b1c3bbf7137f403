// Bench-only generator and checker for tools/bench/rerate/run.sh. run.sh compiles it with
// VOSModel's and VOSStore's sources (their `import VOSModel` removed, files needing swift-crypto
// left out) into one optimised program, so it needs no package target.
//
// Usage: generate STORE_DIR WORK_DIR ANSWERED UNANSWERED
//            a fresh store: rate tables, 200 customer accounts, 20 vendors (routing gateways and
//            their clearing accounts), 10 mapping gateways, then ANSWERED answered and UNANSWERED
//            unanswered CDRs of November 2026 through `appendCDR` (10,000 a transaction), charged
//            by `CallCharging` as settlement charges them; writes the changed rate tables to
//            WORK_DIR/retail-a.csv and WORK_DIR/wholesale-1.csv for `vosctl rate import`.
//        generate --check STORE_DIR
//            recomputes every answered CDR from the rate tables in the store with the rate
//            arithmetic directly (not through CallCharging or the re-rating code) and prints, as
//            JSON, the expected and original totals, the sums of the CDR adjustments and of the
//            `rerate` history entries, and the totals of the CDRs as charged now.
//
// Rates: 20 country codes x 50 two-digit subprefixes plus the country codes, 1,020 prefixes per
// table. Customers: retail-a (6/6) for odd accounts, retail-b (30/6) for even, 0.0100-0.0499/min.
// Vendors: wholesale-1..4 (1/1, numbers sent with a 00 prefix), 0.0060-0.0250/min. The change:
// retail-a every price +10 % (rounded to 4 decimals), wholesale-1 every price +0.0010.
#if canImport(Glibc)
import Glibc
#endif
import Foundation

extension SeededGenerator {
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("generate: \(message)\n".utf8))
    exit(1)
}

let countries = ["1", "7", "20", "27", "33", "34", "39", "44", "49", "52", "55", "61", "62", "63", "81", "82", "86", "90", "91", "234"]
let prefixes: [String] = countries + countries.flatMap { country in (20..<70).map { country + String($0) } }

func retail(_ index: Int, interval: (Int, Int)) -> RateEntry {
    RateEntry(prefix: prefixes[index], pricePerMinute: Money(units: Int64(100 + (index * 37) % 400)),
              firstInterval: interval.0, nextInterval: interval.1)
}

func wholesale(_ index: Int, table: Int) -> RateEntry {
    RateEntry(prefix: "00" + prefixes[index], pricePerMinute: Money(units: Int64(60 + (index * 13 + table * 29) % 190)),
              firstInterval: 1, nextInterval: 1)
}

func csv(_ entries: [RateEntry]) -> String {
    "prefix,price_per_minute,first_interval,next_interval\n"
        + entries.map { "\($0.prefix),\($0.pricePerMinute),\($0.firstInterval),\($0.nextInterval)\n" }.joined()
}

func check(_ directory: String) throws {
    let store = try Store(directory: directory)
    struct Totals: Encodable {
        var answered = 0
        var expectedRevenue = Money.zero
        var expectedCost = Money.zero
        var originalRevenue = Money.zero
        var originalCost = Money.zero
        var effectiveRevenue = Money.zero
        var effectiveCost = Money.zero
        var adjustments = 0
        var adjustmentsCustomer = Money.zero
        var adjustmentsVendor = Money.zero
        var historyCustomer = Money.zero
        var historyVendor = Money.zero
        var unrated = 0
    }
    let totals: Totals = try store.read { transaction in
        var totals = Totals()
        var tables: [String: RateTable] = [:]
        for name in try transaction.rateTableNames().keys {
            tables[name] = RateTable(name: name, entries: try transaction.rateEntries(table: name))
        }
        let accounts = Dictionary(uniqueKeysWithValues: try transaction.accounts().map { ($0.name, $0) })
        let gateways = Dictionary(uniqueKeysWithValues: try transaction.routingGateways().map { ($0.name, $0) })
        var adjustments: [UInt64: [CDRAdjustment]] = [:]
        try transaction.scan(.cdrAdjustments) { _, value in
            let adjustment = try Transaction.decode(CDRAdjustment.self, from: value, table: .cdrAdjustments, key: "")
            adjustments[adjustment.cdrID, default: []].append(adjustment)
            totals.adjustments += 1
            if adjustment.field == .customerCost { totals.adjustmentsCustomer += adjustment.difference } else { totals.adjustmentsVendor += adjustment.difference }
            return true
        }
        try transaction.scan(.accountHistory) { _, value in
            let entry = try Transaction.decode(AccountHistoryEntry.self, from: value, table: .accountHistory, key: "")
            guard entry.kind == .rerate else { return true }
            if entry.account.hasPrefix("vacct") { totals.historyVendor += entry.amount } else { totals.historyCustomer += entry.amount }
            return true
        }
        func cost(_ table: RateTable?, _ number: String, _ seconds: Int) -> Money? {
            guard let rate = table?.lookup(number) else { return nil }
            return rate.cost(billedSeconds: rate.billedSeconds(forDuration: seconds))
        }
        try transaction.scan(.cdrs) { key, value in
            let record = try Transaction.decode(CallDetailRecord.self, from: value, table: .cdrs, key: "\(key)")
            let effective = record.adjusted(by: adjustments[record.id] ?? [])
            totals.effectiveRevenue += effective.customerCost
            totals.effectiveCost += effective.vendorCost
            totals.originalRevenue += record.customerCost
            totals.originalCost += record.vendorCost
            guard record.answerTime != nil else { return true }
            totals.answered += 1
            let customerTable = record.account.flatMap { accounts[$0]?.rateTable }.flatMap { tables[$0] }
            let vendorTable = record.routingGateway.flatMap { gateways[$0]?.clearingAccount }.flatMap { accounts[$0]?.rateTable }
                .flatMap { tables[$0] }
            guard let customer = cost(customerTable, record.calleeReceived, record.durationSeconds),
                  let vendor = cost(vendorTable, record.calleeSent, record.durationSeconds) else {
                totals.unrated += 1
                return true
            }
            totals.expectedRevenue += customer
            totals.expectedCost += vendor
            return true
        }
        return totals
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    print(String(decoding: try encoder.encode(totals), as: UTF8.self))
}

let arguments = CommandLine.arguments
if arguments.count == 3, arguments[1] == "--check" {
    do { try check(arguments[2]) } catch { fail("\(error)") }
    exit(0)
}
guard arguments.count == 5, let answeredCount = Int(arguments[3]), let unansweredCount = Int(arguments[4]),
      answeredCount >= 0, unansweredCount >= 0 else {
    fail("usage: generate STORE_DIR WORK_DIR ANSWERED UNANSWERED | generate --check STORE_DIR")
}
let storeDirectory = arguments[1]
let workDirectory = arguments[2]

let monthStart: Int64 = 1_793_491_200_000  // 2026-11-01T00:00:00Z
let monthMilliseconds: Int64 = 30 * 86_400_000

do {
    let store = try Store.initialize(directory: storeDirectory).store
    let retailA = prefixes.indices.map { retail($0, interval: (6, 6)) }
    let retailB = prefixes.indices.map { retail($0, interval: (30, 6)) }
    let wholesales = (1...4).map { table in prefixes.indices.map { wholesale($0, table: table) } }
    let policy: ReservationPolicy = try store.write { transaction in
        try transaction.replaceRates(table: "retail-a", with: retailA)
        try transaction.replaceRates(table: "retail-b", with: retailB)
        for (index, entries) in wholesales.enumerated() { try transaction.replaceRates(table: "wholesale-\(index + 1)", with: entries) }
        for number in 1...200 {
            var account = Account(name: String(format: "acct%03d", number), kind: .prepaid)
            account.balance = Money(whole: 100_000)
            account.rateTable = number % 2 == 1 ? "retail-a" : "retail-b"
            try transaction.addAccount(account)
        }
        for number in 1...20 {
            var account = Account(name: String(format: "vacct%02d", number), kind: .prepaid)
            account.balance = Money(whole: 100_000)
            account.rateTable = "wholesale-\((number - 1) % 4 + 1)"
            try transaction.addAccount(account)
            var gateway = RoutingGateway(name: String(format: "ven%02d", number), address: SIPAddress(host: "198.51.100.\(number)"),
                                         prefixes: countries)
            gateway.clearingAccount = account.name
            try transaction.addRoutingGateway(gateway)
        }
        for number in 1...10 {
            var gateway = MappingGateway(name: String(format: "cust%02d", number), ips: [try IPAddress(parsing: "192.0.2.\(number)")])
            gateway.account = String(format: "acct%03d", number)
            try transaction.addMappingGateway(gateway)
        }
        return ReservationPolicy(parameters: try transaction.parameters())
    }
    let tables = ["retail-a": RateTable(name: "retail-a", entries: retailA), "retail-b": RateTable(name: "retail-b", entries: retailB)]
    let vendorTables = wholesales.enumerated().map { RateTable(name: "wholesale-\($0.offset + 1)", entries: $0.element) }

    var random = SeededGenerator(seed: 20_261_201)
    let total = answeredCount + unansweredCount
    var written = 0
    let started = Date()
    while written < total {
        let size = min(10_000, total - written)
        try store.write(changesConfiguration: false) { transaction in
            for offset in 0..<size {
                let index = written + offset
                // Exactly ANSWERED answered calls, spread evenly among the others.
                let answered = (index + 1) * answeredCount / total > index * answeredCount / total
                let accountNumber = 1 + random.below(200)
                let vendorNumber = 1 + random.below(20)
                // Up to 10 minutes of jitter, all within the month the bench re-rates.
                let setup = monthStart + Int64(index) * (monthMilliseconds - 600_000) / Int64(max(1, total)) + Int64(random.below(600_000))
                let callee = prefixes[countries.count + random.below(prefixes.count - countries.count)] + String(1_000_000 + random.below(8_999_999))
                var record = CallDetailRecord(id: 0, callID: "rerate-\(index)@bench", setupTime: setup, endTime: setup + 5000,
                                              callerReceived: "4470\(1_000_000 + random.below(8_999_999))", calleeReceived: callee,
                                              mappingGateway: String(format: "cust%02d", 1 + (accountNumber - 1) % 10),
                                              endReason: answered ? .callerHangup : .vendorFailure, sipCode: answered ? 200 : 486,
                                              hangupSide: answered ? .caller : .system)
                record.account = String(format: "acct%03d", accountNumber)
                record.routingGateway = String(format: "ven%02d", vendorNumber)
                record.calleeSent = "00" + callee
                record.attempts = [GatewayAttempt(gateway: record.routingGateway ?? "", sipCode: answered ? 200 : 486,
                                                  reason: answered ? "connected" : "busy")]
                if answered {
                    let duration = max(1, min(3600, Int(-log(max(1e-9, random.unit())) * 110)))
                    record.answerTime = setup + 3000
                    record.ringingTime = setup + 1500
                    record.postDialDelayMilliseconds = 1500
                    record.endTime = setup + 3000 + Int64(duration) * 1000
                    record.durationSeconds = duration
                    record.callerCodec = "PCMA"
                    record.calleeCodec = "PCMA"
                    let table = tables[accountNumber % 2 == 1 ? "retail-a" : "retail-b"]
                    guard let rate = table?.lookup(callee),
                          let vendorRate = vendorTables[(vendorNumber - 1) % 4].lookup(record.calleeSent) else {
                        fail("no rate for \(callee)")
                    }
                    let customer = CallCharging.customer(connectedSeconds: duration, rate: rate, policy: policy)
                    record.billedSeconds = customer.billedSeconds
                    record.customerCost = customer.cost
                    record.vendorCost = CallCharging.vendor(connectedSeconds: duration, rate: vendorRate, policy: policy).cost
                }
                try transaction.appendCDR(record)
            }
        }
        written += size
    }
    let seconds = Date().timeIntervalSince(started)

    // The change the bench re-rates for.
    let newRetailA = retailA.map { entry -> RateEntry in
        var changed = entry
        changed.pricePerMinute = Money(units: Money.divideRoundingHalfAway(entry.pricePerMinute.units * 11, by: 10))
        return changed
    }
    let newWholesale1 = wholesales[0].map { entry -> RateEntry in
        var changed = entry
        changed.pricePerMinute += Money(units: 10)
        return changed
    }
    try csv(newRetailA).write(toFile: workDirectory + "/retail-a.csv", atomically: true, encoding: .utf8)
    try csv(newWholesale1).write(toFile: workDirectory + "/wholesale-1.csv", atomically: true, encoding: .utf8)
    print("generated \(written) CDRs in \(String(format: "%.1f", seconds)) s")
} catch {
    fail("\(error)")
}
