import CLMDB
import Foundation
import Testing
import VOSModel
@testable import VOSStore

@Suite struct StoreTests {
    func makeStore(_ directory: TemporaryDirectory) throws -> Store {
        try Store.initialize(directory: directory.child("data")).store
    }

    @Test func openingAnUninitialisedDirectoryIsRefused() throws {
        let directory = try TemporaryDirectory()
        #expect {
            try Store(directory: directory.child("nothing"))
        } throws: { error in
            "\(error)".contains("run `vosctl --data-dir") && "\(error)".contains("init")
        }
    }

    @Test func initialiseIsIdempotent() throws {
        let directory = try TemporaryDirectory()
        do {
            let first = try Store.initialize(directory: directory.child("data"))
            #expect(first.created)
            try first.store.write { try $0.addAccount(Account(name: "acme", kind: .prepaid)) }
        }
        let second = try Store.initialize(directory: directory.child("data"))
        #expect(!second.created)
        #expect(try second.store.read { try $0.accounts().count } == 1)
    }

    @Test func aNewerSchemaIsRefused() throws {
        let directory = try TemporaryDirectory()
        do {
            let store = try makeStore(directory)
            try store.write { try $0.setMetaInteger(MetaKey.schemaVersion, 99) }
        }
        #expect {
            try Store(directory: directory.child("data"))
        } throws: { error in
            "\(error)".contains("schema version 99") && "\(error)".contains("understands 1")
        }
    }

    @Test func aFailedTransactionLeavesNothingBehind() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        let generation = try store.generation()
        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try store.write { transaction in
                try transaction.addAccount(Account(name: "ghost", kind: .prepaid))
                throw Abort()
            }
        }
        #expect(try store.read { try $0.account(named: "ghost") } == nil)
        #expect(try store.generation() == generation)
    }

    @Test func validationFailureKeepsTheStoreUnchanged() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        try store.write { try $0.addAccount(Account(name: "acme", kind: .prepaid)) }
        var gateway = MappingGateway(name: "cust", ips: [try IPAddress(parsing: "203.0.113.5")])
        gateway.account = "nobody"
        #expect(throws: StoreError.self) { try store.write { try $0.addMappingGateway(gateway) } }
        #expect(try store.read { try $0.mappingGateways() }.isEmpty)
        gateway.account = "acme"
        try store.write { try $0.addMappingGateway(gateway) }
        #expect(throws: StoreError.self) { try store.write { try $0.addMappingGateway(gateway) } }
        var clash = RoutingGateway(name: "cust", address: SIPAddress(host: "198.51.100.7"), prefixes: ["44"])
        #expect(throws: StoreError.self) { try store.write { try $0.addRoutingGateway(clash) } }
        clash.name = "ven"
        try store.write { try $0.addRoutingGateway(clash) }
        #expect(try store.read { try $0.counts() }[.routingGateways] == 1)
    }

    @Test func generationMovesOnConfigurationWritesOnly() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        let start = try store.generation()
        try store.write { try $0.setParameter(.qosRTP, to: "40") }
        #expect(try store.generation() == start + 1)
        try store.write(changesConfiguration: false) { transaction in
            _ = try transaction.appendCDR(CallDetailRecord(id: 0, callID: "c1", setupTime: 1, endTime: 2, callerReceived: "1",
                                                           calleeReceived: "2", mappingGateway: "m", endReason: .noAvailableRouter,
                                                           sipCode: 503, hangupSide: .system))
        }
        #expect(try store.generation() == start + 1)
    }

    @Test func parametersPersistAndReset() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        #expect(throws: StoreError.self) { try store.write { try $0.setParameter(.qosRTP, to: "64") } }
        try store.write { try $0.setParameter(.qosRTP, to: "34") }
        #expect(try store.read { try $0.parameters() }.int(.qosRTP) == 34)
        try store.write { try $0.resetParameter(.qosRTP) }
        #expect(try store.read { try $0.parameters() }.int(.qosRTP) == 46)
    }

    @Test func ratesReplaceAtomicallyAndLookUpLongestPrefix() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        let first = [RateEntry(prefix: "44", pricePerMinute: Money(units: 100)), RateEntry(prefix: "4477", pricePerMinute: Money(units: 500))]
        try store.write { try $0.replaceRates(table: "retail", with: first) }
        try store.write { try $0.replaceRates(table: "wholesale", with: [RateEntry(prefix: "4", pricePerMinute: Money(units: 1))]) }
        #expect(try store.read { try $0.rateLookup(table: "retail", number: "447712") }?.prefix == "4477")
        #expect(try store.read { try $0.rateLookup(table: "retail", number: "4412") }?.prefix == "44")
        #expect(try store.read { try $0.rateLookup(table: "retail", number: "33") } == nil)
        let duplicate = [RateEntry(prefix: "33", pricePerMinute: .zero), RateEntry(prefix: "33", pricePerMinute: .zero)]
        #expect(throws: StoreError.self) { try store.write { try $0.replaceRates(table: "retail", with: duplicate) } }
        #expect(try store.read { try $0.rateEntries(table: "retail") }.map(\.prefix) == ["44", "4477"])
        try store.write { try $0.replaceRates(table: "retail", with: [RateEntry(prefix: "1", pricePerMinute: .zero)]) }
        #expect(try store.read { try $0.rateEntries(table: "retail") }.map(\.prefix) == ["1"])
        #expect(try store.read { try $0.rateTableNames() } == ["retail": 1, "wholesale": 1])
    }

    @Test func topUpUnlocksAboveTheLimit() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        var account = Account(name: "acme", kind: .prepaid)
        account.balance = Money(whole: -10)
        account.limitMoney = Money(whole: 10)
        account.status = .locked
        try store.write { try $0.addAccount(account) }
        let stillLocked = try store.write { try $0.topUp(account: "acme", amount: Money(units: 1)) }
        #expect(stillLocked.status == .normal, "-9.9999 is above -10")
        try store.write { try $0.setAccountStatus("acme", to: .locked) }
        #expect(throws: StoreError.self) { try store.write { try $0.topUp(account: "acme", amount: Money(whole: -5)) } }
    }

    @Test func cdrIDsAreSequentialAndFilterable() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        for index in 0..<5 {
            try store.write(changesConfiguration: false) { transaction in
                var record = CallDetailRecord(id: 0, callID: "call-\(index)", setupTime: Int64(index), endTime: Int64(index),
                                              callerReceived: "1", calleeReceived: "2", mappingGateway: index % 2 == 0 ? "even" : "odd",
                                              endReason: .callerHangup, sipCode: 200, hangupSide: .caller)
                record.account = "acme"
                try transaction.appendCDR(record)
            }
        }
        let all = try store.read { try $0.cdrs() }
        #expect(all.map(\.id) == [1, 2, 3, 4, 5])
        #expect(try store.read { try $0.cdrs(matching: { $0.mappingGateway == "even" }) }.count == 3)
        #expect(try store.read { try $0.cdrs(afterID: 3) }.map(\.id) == [4, 5])
    }

    @Test func readersSeeASnapshot() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        try store.read { snapshot in
            try store.write { try $0.addAccount(Account(name: "later", kind: .postpaid)) }
            #expect(try snapshot.account(named: "later") == nil)
        }
        #expect(try store.read { try $0.account(named: "later") } != nil)
    }

    /// Accounts decoded once per transaction (the ledger's batches) must still read as they now
    /// are after every change inside that transaction, and a new transaction sees other commits.
    @Test func anAccountReadsAsItNowIsWithinATransaction() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        try store.write { try $0.addAccount(Account(name: "acme", kind: .prepaid)) }
        try store.write { transaction in
            #expect(try transaction.account(named: "acme")?.balance == .zero)
            var account = try #require(try transaction.account(named: "acme"))
            account.balance = Money(whole: 5)
            try transaction.putRecord(account, in: .accounts, key: "acme")
            #expect(try transaction.account(named: "acme")?.balance == Money(whole: 5))
            try transaction.put(.accounts, Array("acme".utf8), Transaction.encode(Account(name: "acme", kind: .postpaid), table: .accounts, key: "acme"))
            #expect(try transaction.account(named: "acme")?.kind == .postpaid, "a raw write is not hidden by what was decoded before")
            _ = try transaction.delete(.accounts, Array("acme".utf8))
            #expect(try transaction.account(named: "acme") == nil)
        }
        #expect(try store.read { try $0.account(named: "acme") } == nil)
    }
}
