import VOSModel

/// The stored form of the live-call journal: `LiveCall` and `AccountReservation` records, which
/// the controller writes two or three times per call (authorize, answer, settle) and nobody edits
/// by hand. They are a compact binary layout instead of JSON: their JSON coding was 12 % of the
/// controller's CPU at 600 calls/s with media (tools/bench/sip-cps/profile.sh). Configuration,
/// accounts and CDRs stay JSON, readable with any LMDB tool.
///
/// Layout: one tag byte (which record, which layout version), then the fields in declaration
/// order: integers as 8 bytes little-endian, strings as a 4-byte length and UTF-8, Money as its
/// units, Bool as one byte, an optional as a presence byte and the value. A record that starts
/// with `{` is the JSON written before this layout existed and is still read, so live calls of a
/// controller that ran the older version settle after an upgrade.
enum LiveCallRecordCoding {
    static let liveCallTag: UInt8 = 0xB1
    /// A live call holding a customer package grant (issue 16): the 0xB1 fields, then the grant.
    /// Calls without one keep 0xB1, byte for byte what earlier versions wrote and read.
    static let liveCallWithPackageTag: UInt8 = 0xB3
    static let reservationTag: UInt8 = 0xB2
    static let jsonOpening = UInt8(ascii: "{")

    static func encode(_ call: LiveCall) -> [UInt8] {
        var writer = BinaryRecordWriter(tag: call.package == nil ? liveCallTag : liveCallWithPackageTag)
        writer.string(call.key)
        writer.string(call.callID)
        writer.string(call.account)
        writer.string(call.caller)
        writer.string(call.callee)
        writer.string(call.mappingGateway)
        writer.integer(call.setupTime)
        writer.rate(call.rate)
        writer.optional(call.vendor) { writer, vendor in
            writer.string(vendor.gateway)
            writer.optional(vendor.clearingAccount) { $0.string($1) }
            writer.string(vendor.callee)
        }
        writer.optional(call.vendorRate) { $0.rate($1) }
        writer.optional(call.answerTime) { $0.integer($1) }
        writer.money(call.reserved)
        writer.integer(Int64(call.coveredSeconds))
        writer.bool(call.isLimited)
        writer.bool(call.isFinal)
        writer.integer(Int64(call.checkpointSeconds))
        writer.optional(call.checkpointTime) { $0.integer($1) }
        if let grant = call.package {
            writer.string(grant.package)
            writer.string(grant.group)
            writer.string(grant.period)
            writer.integer(Int64(grant.seconds))
        }
        return writer.bytes
    }

    static func decodeLiveCall(_ bytes: [UInt8], key: String) throws -> LiveCall {
        if bytes.first == jsonOpening { return try Transaction.decode(LiveCall.self, from: bytes, table: .liveCalls, key: key) }
        var reader = BinaryRecordReader(bytes, table: .liveCalls, key: key)
        let tag = try reader.expectTag(liveCallTag, or: liveCallWithPackageTag)
        var call = LiveCall(key: try reader.string(), callID: try reader.string(), account: try reader.string(),
                            caller: try reader.string(), callee: try reader.string(), mappingGateway: try reader.string(),
                            setupTime: try reader.integer(), rate: try reader.rate(), reserved: .zero, coveredSeconds: 0,
                            isLimited: false, isFinal: false)
        call.vendor = try reader.optional { reader in
            VendorLeg(gateway: try reader.string(), clearingAccount: try reader.optional { try $0.string() }, callee: try reader.string())
        }
        call.vendorRate = try reader.optional { try $0.rate() }
        call.answerTime = try reader.optional { try $0.integer() }
        call.reserved = try reader.money()
        call.coveredSeconds = Int(try reader.integer())
        call.isLimited = try reader.bool()
        call.isFinal = try reader.bool()
        call.checkpointSeconds = Int(try reader.integer())
        call.checkpointTime = try reader.optional { try $0.integer() }
        if tag == liveCallWithPackageTag {
            call.package = PackageGrant(package: try reader.string(), group: try reader.string(), period: try reader.string(),
                                        seconds: Int(try reader.integer()))
        }
        try reader.expectEnd()
        return call
    }

    static func encode(_ reservation: AccountReservation) -> [UInt8] {
        var writer = BinaryRecordWriter(tag: reservationTag)
        writer.money(reservation.reserved)
        writer.integer(Int64(reservation.liveCalls))
        return writer.bytes
    }

    static func decodeReservation(_ bytes: [UInt8], key: String) throws -> AccountReservation {
        if bytes.first == jsonOpening {
            return try Transaction.decode(AccountReservation.self, from: bytes, table: .accountReservations, key: key)
        }
        var reader = BinaryRecordReader(bytes, table: .accountReservations, key: key)
        try reader.expectTag(reservationTag)
        let reservation = AccountReservation(reserved: try reader.money(), liveCalls: Int(try reader.integer()))
        try reader.expectEnd()
        return reservation
    }
}

struct BinaryRecordWriter {
    private(set) var bytes: [UInt8] = []

    init(tag: UInt8) {
        bytes.reserveCapacity(256)
        bytes.append(tag)
    }

    mutating func integer(_ value: Int64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func string(_ value: String) {
        let utf8 = value.utf8
        withUnsafeBytes(of: UInt32(utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: utf8)
    }

    mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    mutating func money(_ value: Money) { integer(value.units) }

    mutating func optional<Value>(_ value: Value?, _ write: (inout BinaryRecordWriter, Value) -> Void) {
        guard let value else { return bytes.append(0) }
        bytes.append(1)
        write(&self, value)
    }

    mutating func rate(_ rate: RateEntry) {
        string(rate.prefix)
        money(rate.pricePerMinute)
        integer(Int64(rate.firstInterval))
        integer(Int64(rate.nextInterval))
        money(rate.connectionFee)
        string(rate.description)
    }
}

struct BinaryRecordReader {
    private let bytes: [UInt8]
    private var offset = 0
    private let table: Table
    private let key: String

    init(_ bytes: [UInt8], table: Table, key: String) {
        self.bytes = bytes
        self.table = table
        self.key = key
    }

    private func corrupt(_ reason: String) -> StoreError {
        StoreError.corruptRecord(table: table.rawValue, key: key, reason: "\(reason) (byte \(offset) of \(bytes.count))")
    }

    private mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, bytes.count - offset >= count else { throw corrupt("record ends early") }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    /// Reads the tag, either of two layout versions a reader knows, and returns it.
    mutating func expectTag(_ tag: UInt8, or other: UInt8) throws -> UInt8 {
        let found = try take(1).first ?? 0
        guard found == tag || found == other else {
            throw corrupt("unknown record layout 0x\(String(found, radix: 16)), expected 0x\(String(tag, radix: 16)) or 0x\(String(other, radix: 16))")
        }
        return found
    }

    mutating func expectTag(_ tag: UInt8) throws {
        let found = try take(1).first ?? 0
        guard found == tag else { throw corrupt("unknown record layout 0x\(String(found, radix: 16)), expected 0x\(String(tag, radix: 16))") }
    }

    mutating func expectEnd() throws {
        guard offset == bytes.count else { throw corrupt("\(bytes.count - offset) bytes after the record") }
    }

    mutating func integer() throws -> Int64 {
        try take(8).reversed().reduce(0) { $0 << 8 | Int64($1) }
    }

    mutating func string() throws -> String {
        let length = try take(4).reversed().reduce(0) { $0 << 8 | Int($1) }
        return String(decoding: try take(length), as: UTF8.self)
    }

    mutating func bool() throws -> Bool {
        switch try take(1).first {
        case 0: return false
        case 1: return true
        default: throw corrupt("a flag is neither 0 nor 1")
        }
    }

    mutating func money() throws -> Money { Money(units: try integer()) }

    mutating func optional<Value>(_ read: (inout BinaryRecordReader) throws -> Value) throws -> Value? {
        guard try bool() else { return nil }
        return try read(&self)
    }

    mutating func rate() throws -> RateEntry {
        RateEntry(prefix: try string(), pricePerMinute: try money(), firstInterval: Int(try integer()),
                  nextInterval: Int(try integer()), connectionFee: try money(), description: try string())
    }
}
