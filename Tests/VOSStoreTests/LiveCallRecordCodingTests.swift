import Foundation
import Testing
import VOSModel
@testable import VOSStore

/// The live-call journal's binary records: every field survives, records written as JSON by
/// earlier versions still read (a controller upgraded with calls up settles them), and a damaged
/// record is refused with the table, key and reason, never misread.
@Suite struct LiveCallRecordCodingTests {
    static func sampleCall(full: Bool) -> LiveCall {
        var call = LiveCall(key: "a84b#1700000000000#7", callID: "a84b@192.0.2.10", account: "acme ü",
                            caller: "+8801711000000", callee: "4420123", mappingGateway: "customer-1", setupTime: 1_700_000_000_000,
                            rate: RateEntry(prefix: "44", pricePerMinute: Money(units: 123), firstInterval: 30, nextInterval: 6,
                                            connectionFee: Money(units: -5), description: "UK fixed"),
                            reserved: Money(units: 9_999), coveredSeconds: 90, isLimited: true, isFinal: false)
        if full {
            call.vendor = VendorLeg(gateway: "vendor-a", clearingAccount: "vendor-a-clearing", callee: "004420123")
            call.vendorRate = RateEntry(prefix: "0044", pricePerMinute: Money(units: 80))
            call.answerTime = 1_700_000_003_500
            call.isFinal = true
            call.checkpointSeconds = 25
            call.checkpointTime = 1_700_000_028_500
        }
        return call
    }

    @Test(arguments: [false, true])
    func everyFieldSurvives(full: Bool) throws {
        let call = Self.sampleCall(full: full)
        let bytes = LiveCallRecordCoding.encode(call)
        #expect(bytes.first == LiveCallRecordCoding.liveCallTag)
        #expect(try LiveCallRecordCoding.decodeLiveCall(bytes, key: call.key) == call)
        let reservation = AccountReservation(reserved: Money(units: 123_456), liveCalls: 3)
        #expect(try LiveCallRecordCoding.decodeReservation(LiveCallRecordCoding.encode(reservation), key: "acme") == reservation)
    }

    @Test func jsonRecordsOfEarlierVersionsStillRead() throws {
        let call = Self.sampleCall(full: true)
        #expect(try LiveCallRecordCoding.decodeLiveCall(Array(JSONEncoder().encode(call)), key: call.key) == call)
        let reservation = AccountReservation(reserved: Money(units: 5), liveCalls: 1)
        #expect(try LiveCallRecordCoding.decodeReservation(Array(JSONEncoder().encode(reservation)), key: "acme") == reservation)
    }

    @Test func aLiveCallStoredAsJSONSettlesAfterAnUpgrade() throws {
        let directory = try TemporaryDirectory()
        let store = try Store.initialize(directory: directory.child("data")).store
        let call = Self.sampleCall(full: false)
        try store.write(changesConfiguration: false) { transaction in
            try transaction.put(.liveCalls, Array(call.key.utf8), Array(JSONEncoder().encode(call)))
            try transaction.put(.accountReservations, Array(call.account.utf8),
                                Array(JSONEncoder().encode(AccountReservation(reserved: call.reserved, liveCalls: 1))))
        }
        #expect(try store.read { try $0.liveCall(key: call.key) } == call)
        #expect(try store.read { try $0.liveCalls() } == [call])
        #expect(try store.read { try $0.accountReservation(call.account) } == AccountReservation(reserved: call.reserved, liveCalls: 1))
    }

    @Test(arguments: [
        ([UInt8](), "record ends early"),
        ([0x07], "unknown record layout 0x7"),
        (Array(LiveCallRecordCoding.encode(sampleCall(full: true)).dropLast()), "record ends early"),
        (LiveCallRecordCoding.encode(sampleCall(full: false)) + [0], "1 bytes after the record"),
    ])
    func damagedRecordsAreRefusedWithTheReason(bytes: [UInt8], reason: String) {
        #expect {
            try LiveCallRecordCoding.decodeLiveCall(bytes, key: "k1")
        } throws: { error in
            guard case let StoreError.corruptRecord(table, key, found) = error else { return false }
            return table == "live_calls" && key == "k1" && found.contains(reason)
        }
    }
}
