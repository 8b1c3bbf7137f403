import VOSModel

/// The CDR log: append-only, keyed by a big-endian sequence so key order is time order.
extension Transaction {
    /// Assigns the next id and appends. Call inside the same write transaction as the balance
    /// and counters the call touched, so a crash keeps all or none of them.
    @discardableResult
    public func appendCDR(_ record: CallDetailRecord) throws -> CallDetailRecord {
        var record = record
        let id = (try metaInteger(MetaKey.nextCDRID) ?? 1)
        record.id = id
        try setMetaInteger(MetaKey.nextCDRID, id + 1)
        try put(.cdrs, BigEndianKey.bytes(id), Transaction.encode(record, table: .cdrs, key: String(id)))
        try putCDRReportFact(CDRReportFact(record))
        return record
    }

    /// CDRs in id order from `afterID` (exclusive), at most `limit`, those `matching`.
    public func cdrs(afterID: UInt64 = 0, limit: Int = .max,
                     matching include: (CallDetailRecord) -> Bool = { _ in true }) throws -> [CallDetailRecord] {
        var result: [CallDetailRecord] = []
        try scan(.cdrs, from: BigEndianKey.bytes(afterID &+ 1)) { key, value in
            guard result.count < limit else { return false }
            let record = try Transaction.decode(CallDetailRecord.self, from: value, table: .cdrs, key: String(BigEndianKey.value(key)))
            if include(record) { result.append(record) }
            return true
        }
        return result
    }
}
