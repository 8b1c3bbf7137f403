import CLMDB
import VOSModel

/// The CDR report index (`Table.cdrReportFacts`): one compact binary `CDRReportFact` per CDR,
/// keyed by setup time, so `vosctl report --since/--until` is one range scan over small records
/// instead of decoding every CDR's JSON (about 800 bytes each: a million took over 30 s, the
/// index 0.5 s; docs/REPORTS.md has the figures). It owns the fact layout, the index upkeep and the scan; it
/// does no arithmetic (VOSModel's `CDRReportAccumulator` does) and never changes a CDR.
///
/// Exactly one fact per CDR: `appendCDR` writes it in the CDR's own transaction, and the key is
/// made of the CDR's immutable setup time and id, so rebuilding writes the same key again rather
/// than a second fact. Stores whose CDRs predate the index (or were written by an older
/// controller) are caught up by `Store.updateCDRReportIndex`, in batches decoded outside the
/// writer lock so a live controller's ledger never waits on it for long.
///
/// Key: setup time (milliseconds, sign bit flipped, big-endian: byte order is time order) then
/// the CDR id (big-endian), 16 bytes. Value, little-endian:
///
///     tag 0xC1 | flags (1: answered, 2: has PDD, 4: has routing gateway, 8: has account)
///     | SIP code u16 | PDD ms u32 | duration s u32 | billed s u32
///     | customer cost units i64 | vendor cost units i64
///     | end reason, mapping gateway[, routing gateway][, account]: each u16 length + UTF-8
enum CDRReportIndex {
    static let tag: UInt8 = 0xC1
    static let answeredFlag: UInt8 = 1
    static let delayFlag: UInt8 = 2
    static let routingFlag: UInt8 = 4
    static let accountFlag: UInt8 = 8
    static let fixedBytes = 32
    static let keyBytes = 16
    /// Meta key: every CDR with an id at or below it has its fact (set by the rebuild only).
    static let indexedThroughKey = "cdr_report_indexed_through"

    static func key(setupTime: Int64, id: UInt64) -> [UInt8] {
        let time = UInt64(bitPattern: setupTime) ^ (1 << 63)
        var key = [UInt8](repeating: 0, count: keyBytes)
        for index in 0..<8 {
            key[index] = UInt8(truncatingIfNeeded: time >> (56 - 8 * UInt64(index)))
            key[8 + index] = UInt8(truncatingIfNeeded: id >> (56 - 8 * UInt64(index)))
        }
        return key
    }

    static func encode(_ fact: CDRReportFact) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(fixedBytes + 64)
        var flags: UInt8 = 0
        if fact.answered { flags |= answeredFlag }
        if fact.postDialDelayMilliseconds != nil { flags |= delayFlag }
        if fact.routingGateway != nil { flags |= routingFlag }
        if fact.account != nil { flags |= accountFlag }
        bytes.append(tag)
        bytes.append(flags)
        func append<Value: FixedWidthInteger>(_ value: Value) {
            withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
        }
        append(UInt16(clamping: fact.sipCode))
        append(UInt32(clamping: fact.postDialDelayMilliseconds ?? 0))
        append(UInt32(clamping: fact.durationSeconds))
        append(UInt32(clamping: fact.billedSeconds))
        append(fact.customerCost.units)
        append(fact.vendorCost.units)
        func append(_ text: String) {
            let utf8 = text.utf8
            guard utf8.count > Int(UInt16.max) else {
                append(UInt16(utf8.count))
                return bytes.append(contentsOf: utf8)
            }
            // Names are validated short; a longer one is cut at a character boundary rather
            // than making the CDR's transaction fail.
            var cut = Array(utf8.prefix(Int(UInt16.max)))
            while !cut.isEmpty, String(validating: cut, as: UTF8.self) == nil { cut.removeLast() }
            append(UInt16(cut.count))
            bytes.append(contentsOf: cut)
        }
        append(fact.endReason.rawValue)
        append(fact.mappingGateway)
        if let routing = fact.routingGateway { append(routing) }
        if let account = fact.account { append(account) }
        return bytes
    }

    /// Reads a fact in place from LMDB's memory (no copy of the value).
    static func decode(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws -> CDRReportFact {
        func corrupt(_ reason: String) -> StoreError {
            StoreError.corruptRecord(table: Table.cdrReportFacts.rawValue, key: keyText(key), reason: reason)
        }
        guard key.count == keyBytes else { throw corrupt("key is \(key.count) bytes, expected \(keyBytes)") }
        guard value.count >= fixedBytes else { throw corrupt("record is \(value.count) bytes, shorter than its \(fixedBytes)-byte header") }
        guard value[0] == tag else { throw corrupt("unknown record layout 0x\(String(value[0], radix: 16)), expected 0x\(String(tag, radix: 16))") }
        let time = UInt64(bigEndian: key.loadUnaligned(fromByteOffset: 0, as: UInt64.self)) ^ (1 << 63)
        let id = UInt64(bigEndian: key.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        let flags = value[1]
        func load<Value: FixedWidthInteger>(_ offset: Int, _ type: Value.Type) -> Value {
            Value(littleEndian: value.loadUnaligned(fromByteOffset: offset, as: Value.self))
        }
        var offset = fixedBytes
        func text() throws -> String {
            guard value.count - offset >= 2 else { throw corrupt("record ends early (byte \(offset) of \(value.count))") }
            let length = Int(load(offset, UInt16.self))
            guard value.count - offset - 2 >= length else { throw corrupt("record ends early (byte \(offset) of \(value.count))") }
            defer { offset += 2 + length }
            return String(decoding: UnsafeRawBufferPointer(rebasing: value[(offset + 2)..<(offset + 2 + length)]), as: UTF8.self)
        }
        let reasonText = try text()
        guard let reason = EndReason(rawValue: reasonText) else {
            throw corrupt("unknown end reason '\(reasonText)' (written by a newer vos?)")
        }
        let mapping = try text()
        let routing = flags & routingFlag != 0 ? try text() : nil
        let account = flags & accountFlag != 0 ? try text() : nil
        guard offset == value.count else { throw corrupt("\(value.count - offset) bytes after the record") }
        return CDRReportFact(
            id: id, setupTime: Int64(bitPattern: time),
            postDialDelayMilliseconds: flags & delayFlag != 0 ? Int(load(4, UInt32.self)) : nil,
            answered: flags & answeredFlag != 0, durationSeconds: Int(load(8, UInt32.self)),
            billedSeconds: Int(load(12, UInt32.self)), sipCode: Int(load(2, UInt16.self)), endReason: reason,
            mappingGateway: mapping, routingGateway: routing, account: account,
            customerCost: Money(units: load(16, Int64.self)), vendorCost: Money(units: load(24, Int64.self)))
    }

    static func keyText(_ key: UnsafeRawBufferPointer) -> String {
        guard key.count == keyBytes else { return key.map { String($0, radix: 16) }.joined() }
        let time = Int64(bitPattern: UInt64(bigEndian: key.loadUnaligned(fromByteOffset: 0, as: UInt64.self)) ^ (1 << 63))
        return "setup \(time) id \(UInt64(bigEndian: key.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))"
    }
}

extension Transaction {
    /// Called by `appendCDR` only, inside the CDR's transaction.
    func putCDRReportFact(_ fact: CDRReportFact) throws {
        try put(.cdrReportFacts, CDRReportIndex.key(setupTime: fact.setupTime, id: fact.id), CDRReportIndex.encode(fact))
    }

    /// CDRs that have no fact yet: 0 once `Store.updateCDRReportIndex` has run (or for a store
    /// whose every CDR was written by this version).
    public func cdrReportIndexLag() throws -> Int {
        max(0, try count(.cdrs) - count(.cdrReportFacts))
    }

    /// Visits the facts of the CDRs set up in `since ..< until` (either open), in setup-time order.
    public func forEachCDRReportFact(since: Int64? = nil, until: Int64? = nil,
                                     _ visit: (CDRReportFact) throws -> Void) throws {
        var cursor: OpaquePointer?
        try Store.check(mdb_cursor_open(txn, store.database(.cdrReportFacts), &cursor), "open cursor on \(Table.cdrReportFacts.rawValue)")
        guard let cursor else { return }
        defer { mdb_cursor_close(cursor) }
        var key = MDB_val()
        var value = MDB_val()
        var start = CDRReportIndex.key(setupTime: since ?? .min, id: 0)
        var code = start.withUnsafeMutableBytes { raw in
            key = MDB_val(mv_size: raw.count, mv_data: raw.baseAddress)
            return mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE)
        }
        let end = until.map { UInt64(bitPattern: $0) ^ (1 << 63) }
        while code == 0 {
            let keyBytes = UnsafeRawBufferPointer(start: key.mv_data, count: key.mv_size)
            if let end, keyBytes.count >= 8, UInt64(bigEndian: keyBytes.loadUnaligned(as: UInt64.self)) >= end { return }
            try visit(try CDRReportIndex.decode(key: keyBytes, value: UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size)))
            code = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
        }
        if code != MDB_NOTFOUND { try Store.check(code, "iterate \(Table.cdrReportFacts.rawValue)") }
    }

    /// The report over the CDRs set up in `since ..< until`.
    public func cdrReport(grouping: CDRReportGrouping?, since: Int64? = nil, until: Int64? = nil,
                          topFailureCodes: Int = 3) throws -> CDRReport {
        var accumulator = CDRReportAccumulator(grouping: grouping, topFailureCodes: topFailureCodes)
        try forEachCDRReportFact(since: since, until: until) { accumulator.add($0) }
        return accumulator.report()
    }
}

extension Store {
    /// Gives every CDR its report fact, for CDRs written before the index existed, restored from
    /// an older backup, or appended by an older controller during an upgrade. Does nothing when
    /// the counts already match (one stat call). Each batch of `batchSize` CDRs is decoded in a
    /// read transaction and its facts written in a short write transaction, so a live
    /// controller's settlements wait milliseconds, not the seconds the JSON takes; a mark in
    /// `meta` says how far it got, so an interrupted run resumes there. Returns how many CDRs it
    /// indexed; `progress` gets the running total after each batch.
    @discardableResult
    public func updateCDRReportIndex(batchSize: Int = 20_000, progress: (Int) -> Void = { _ in }) throws -> Int {
        var indexed = 0
        var restartedFromTheStart = false
        while true {
            let (cdrs, facts, from) = try read { transaction in
                (try transaction.count(.cdrs), try transaction.count(.cdrReportFacts),
                 try transaction.metaInteger(CDRReportIndex.indexedThroughKey) ?? 0)
            }
            if facts == cdrs { return indexed }
            if facts > cdrs {
                // Facts without a CDR cannot be written by vos; start over rather than report
                // calls that are not in the log.
                try write(changesConfiguration: false) { transaction in
                    guard try transaction.count(.cdrReportFacts) > transaction.count(.cdrs) else { return }
                    try transaction.clear(.cdrReportFacts)
                    try transaction.setMetaInteger(CDRReportIndex.indexedThroughKey, 0)
                }
                continue
            }
            // CDRs never change once appended and a fact's key is made of the CDR's, so facts
            // made from this snapshot are the ones appendCDR would have written, with the charges
            // of the CDR's adjustments as putCDRAdjustment patches them.
            let batch: [CDRReportFact] = try read { transaction in
                var batch: [CDRReportFact] = []
                batch.reserveCapacity(min(max(1, batchSize), cdrs - facts))
                let anyAdjusted = try transaction.count(.cdrAdjustments) > 0
                try transaction.scan(.cdrs, from: BigEndianKey.bytes(from &+ 1)) { key, value in
                    guard batch.count < max(1, batchSize) else { return false }
                    let id = BigEndianKey.value(key)
                    let record = try Transaction.decode(CallDetailRecord.self, from: value, table: .cdrs, key: String(id))
                    batch.append(CDRReportFact(anyAdjusted ? try transaction.effectiveCDR(record) : record))
                    return true
                }
                return batch
            }
            guard let last = batch.last else {
                // The log's end was reached yet facts are missing below the mark: only a
                // hand-edited store gets here. One full pass from the start fixes it.
                guard !restartedFromTheStart else {
                    throw StoreError.conflict("the CDR report index holds \(facts) facts for \(cdrs) CDRs even after a full rebuild")
                }
                restartedFromTheStart = true
                try write(changesConfiguration: false) { try $0.setMetaInteger(CDRReportIndex.indexedThroughKey, 0) }
                continue
            }
            try write(changesConfiguration: false) { transaction in
                for fact in batch { try transaction.putCDRReportFact(fact) }
                try transaction.setMetaInteger(CDRReportIndex.indexedThroughKey, last.id)
            }
            indexed += batch.count
            progress(indexed)
        }
    }
}
