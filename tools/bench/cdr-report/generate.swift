// Bench-only generator for tools/bench/cdr-report/run.sh: writes the same synthetic CDRs into a
// vos store (through `appendCDR`, exactly as the controller's ledger does, so the report index is
// written with them) and into a CSV file for PostgreSQL. run.sh compiles it with VOSModel's and
// VOSStore's sources (their `import VOSModel` removed, Backup.swift left out: it needs swift-crypto)
// into one optimised program, so it needs no package target.
//
// Usage: generate STORE_DIR CSV_FILE COUNT      write COUNT CDRs (deterministic: fixed seed)
//        generate --drop-index STORE_DIR        empty the report index, as a store from before it
//
// Traffic: November 2026 (30 days, UTC), setup times in order with up to 10 minutes of jitter
// (CDRs are appended when calls end); 10 mapping gateways, 200 accounts, 20 vendors whose answer
// rates run from 30 % to 68 %; 5 % no route; unanswered calls split busy 486, no answer 480
// (ringing timeout), caller cancel 487 (60 % of them after ringing), vendor 503, 404 and
// invite timeout 408. Customer prices 0.0100-0.0499/min on 6 s steps, vendor 0.0060-0.0250/min
// per second.
#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The tests' SplitMix64 (Tests/VOSTestSupport/SeededGenerator.swift, compiled in by run.sh), so a
/// run's CDRs replay exactly from the seed.
extension SeededGenerator {
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("generate: \(message)\n".utf8))
    exit(1)
}

let arguments = CommandLine.arguments
if arguments.count == 3, arguments[1] == "--drop-index" {
    do {
        let store = try Store(directory: arguments[2])
        try store.write(changesConfiguration: false) { transaction in
            try transaction.clear(.cdrReportFacts)
            try transaction.setMetaInteger(CDRReportIndex.indexedThroughKey, 0)
        }
        print("report index emptied")
    } catch { fail("\(error)") }
    exit(0)
}
guard arguments.count == 4, let count = Int(arguments[3]), count > 0 else {
    fail("usage: generate STORE_DIR CSV_FILE COUNT | generate --drop-index STORE_DIR")
}
let storeDirectory = arguments[1]
let csvPath = arguments[2]

let monthStart: Int64 = 1_793_491_200_000  // 2026-11-01T00:00:00Z
let monthMilliseconds: Int64 = 30 * 86_400_000
struct Vendor {
    var name: String
    var answer: Double
    var priceUnits: Int64
}

struct Customer {
    var name: String
    var mapping: String
    var priceUnits: Int64
}

let vendors: [Vendor] = (1...20).map { (number: Int) -> Vendor in
    Vendor(name: String(format: "ven%02d", number), answer: 0.30 + 0.02 * Double(number - 1), priceUnits: Int64(60 + 10 * number))
}
let mappings: [String] = (1...10).map { (number: Int) -> String in String(format: "cust%02d", number) }
let accounts: [Customer] = (1...200).map { (number: Int) -> Customer in
    Customer(name: String(format: "acct%03d", number), mapping: mappings[(number - 1) % 10], priceUnits: Int64(100 + 2 * number))
}

func csvField(_ text: String) -> String {
    text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
}

func makeRecord(_ index: Int, _ random: inout SeededGenerator) -> CallDetailRecord {
    let account = accounts[random.below(accounts.count)]
    let jitter = Int64(random.below(600_000))
    let setup = monthStart + Int64(index) * monthMilliseconds / Int64(count) + jitter
    let caller = "44\(7_000_000_000 + random.below(999_999_999))"
    let callee = "86\(13_000_000_000 + random.below(999_999_999))"
    var endReason = EndReason.callerHangup
    var sipCode = 200
    var hangup = HangupSide.caller
    var vendor: Vendor?
    var ringing: Int64?
    var answer: Int64?
    var duration = 0
    if random.below(100) < 5 {
        endReason = .noAvailableRouter
        sipCode = 503
        hangup = .system
    } else {
        let chosen = vendors[random.below(vendors.count)]
        vendor = chosen
        let delay = Int64(800 + random.below(5200))
        if random.unit() < chosen.answer {
            ringing = setup + delay
            answer = setup + delay + Int64(2000 + random.below(15_000))
            duration = max(1, min(3600, Int(-log(max(1e-9, random.unit())) * 110)))
            if random.below(2) == 0 { endReason = .calleeHangup; hangup = .callee }
        } else {
            let roll = random.below(100)
            hangup = .system
            switch roll {
            case 0..<25: endReason = .vendorFailure; sipCode = 486; ringing = random.below(2) == 0 ? setup + delay : nil
            case 25..<35: endReason = .ringingTimeout; sipCode = 480; ringing = setup + delay
            case 35..<55:
                endReason = .callerCancel; sipCode = 487; hangup = .caller
                ringing = random.below(10) < 6 ? setup + delay : nil
            case 55..<80: endReason = .vendorFailure; sipCode = 503
            case 80..<90: endReason = .vendorFailure; sipCode = 404
            default: endReason = .inviteTimeout; sipCode = 408
            }
        }
    }
    let end = (answer ?? ringing ?? setup + 3000) + Int64(duration) * 1000
    var record = CallDetailRecord(id: 0, callID: "bench-\(index)@127.0.0.1", setupTime: setup, endTime: end,
                                  callerReceived: caller, calleeReceived: callee, mappingGateway: account.mapping,
                                  endReason: endReason, sipCode: sipCode, hangupSide: hangup)
    record.account = account.name
    record.routingGateway = vendor?.name
    record.ringingTime = ringing ?? answer
    record.answerTime = answer
    record.postDialDelayMilliseconds = CallDetailRecord.postDialDelay(setupTime: setup, ringingTime: record.ringingTime)
    if let vendor {
        record.calleeSent = "00" + callee
        record.attempts = [GatewayAttempt(gateway: vendor.name, sipCode: sipCode, reason: answer != nil ? "connected" : "failed")]
        if answer != nil {
            record.callerCodec = "PCMA"
            record.calleeCodec = random.below(3) == 0 ? "G729" : "PCMA"
            record.callerDTMF = "rfc2833"
            record.calleeDTMF = "rfc2833"
        }
    }
    record.durationSeconds = duration
    let billed = duration == 0 ? 0 : (duration + 5) / 6 * 6
    record.billedSeconds = billed
    record.customerCost = Money(units: Money.divideRoundingHalfAway(Int64(billed) * account.priceUnits, by: 60))
    record.vendorCost = Money(units: Money.divideRoundingHalfAway(Int64(duration) * (vendor?.priceUnits ?? 0), by: 60))
    return record
}

func csvLine(_ r: CallDetailRecord) -> String {
    func opt(_ value: Int64?) -> String { value.map(String.init) ?? "" }
    let fields: [String] = [
        String(r.id), r.callID, String(r.setupTime), opt(r.ringingTime), opt(r.answerTime), String(r.endTime),
        r.postDialDelayMilliseconds.map(String.init) ?? "", String(r.durationSeconds), String(r.billedSeconds),
        r.callerReceived, r.calleeReceived, r.callerSent, r.calleeSent, r.account ?? "", r.mappingGateway,
        r.routingGateway ?? "", r.callerCodec ?? "", r.calleeCodec ?? "", r.endReason.rawValue, String(r.sipCode),
        r.hangupSide.rawValue, r.customerCost.description, r.vendorCost.description,
    ]
    return fields.map(csvField).joined(separator: ",") + "\n"
}

do {
    let store = try Store.initialize(directory: storeDirectory).store
    // open(2), not FileManager.createFile: that writes a new file and renames it over the path,
    // which replaces a device such as /dev/null with a regular file.
    let descriptor = open(csvPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard descriptor >= 0 else { fail("cannot create \(csvPath): \(String(cString: strerror(errno)))") }
    let csv = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
    var random = SeededGenerator(seed: 20_261_130)
    let batch = 10_000
    var written = 0
    let started = Date()
    while written < count {
        let size = min(batch, count - written)
        let text: String = try store.write(changesConfiguration: false) { transaction in
            var text = ""
            text.reserveCapacity(size * 220)
            for offset in 0..<size {
                let record = try transaction.appendCDR(makeRecord(written + offset, &random))
                text += csvLine(record)
            }
            return text
        }
        csv.write(Data(text.utf8))
        written += size
    }
    try csv.close()
    let seconds = Date().timeIntervalSince(started)
    print("generated \(written) CDRs in \(String(format: "%.1f", seconds)) s")
} catch {
    fail("\(error)")
}
