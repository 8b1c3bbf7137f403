import Foundation
import Testing
import VOSModel
@testable import VOSStore

/// Number lists and groups in the store: the two-record layout, the checks between them and
/// gateways, and the records of the first layout.
@Suite struct NumberListStoreTests {
    func makeStore(_ directory: TemporaryDirectory) throws -> Store {
        try Store.initialize(directory: directory.child("data")).store
    }

    func numbers(_ texts: [String]) throws -> NumberSet { try NumberSet(validating: texts, field: "n") }

    @Test func addingCreatesThenGrowsAList() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        let first = try store.write { try $0.addNumbers(try numbers(["1001", "1002"]), toList: "fraud", kind: .black, target: nil) }
        #expect(first.changed == 2 && first.unchanged == 0 && first.count == 2 && first.list.target == .both)
        let second = try store.write { try $0.addNumbers(try numbers(["1002", "1003"]), toList: "fraud", kind: .black, target: .both) }
        #expect(second.changed == 1 && second.unchanged == 1 && second.count == 3)
        let list = try #require(try store.read { try $0.numberList(named: "fraud") })
        #expect(list.numbers.numbers() == ["1001", "1002", "1003"] && list.kind == .black)
        #expect(try store.read { try $0.numberListHeaders() }.map(\.count) == [3], "the header counts without reading the numbers")
        let removed = try store.write { try $0.removeNumbers(try numbers(["1001", "9999"]), fromList: "fraud") }
        #expect(removed.changed == 1 && removed.unchanged == 1 && removed.count == 2)
    }

    @Test func aListKeepsItsKindAndTargetUnlessToldOtherwise() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        try store.write { _ = try $0.addNumbers(try numbers(["1001"]), toList: "vip", kind: .white, target: .caller) }
        let generation = try store.generation()
        #expect { try store.write { _ = try $0.addNumbers(try numbers(["1002"]), toList: "vip", kind: .black, target: nil) } } throws: {
            "\($0)".contains("number list 'vip' is a white list")
        }
        #expect { try store.write { _ = try $0.addNumbers(try numbers(["1002"]), toList: "vip", kind: .white, target: .callee) } } throws: {
            "\($0)".contains("vosctl list set vip --target callee")
        }
        #expect(try store.generation() == generation, "a refused change changes nothing")
        try store.write { try $0.setNumberListTarget("vip", to: .callee) }
        let list = try #require(try store.read { try $0.numberList(named: "vip") })
        #expect(list.target == .callee && list.numbers.numbers() == ["1001"])
    }

    @Test func gatewaysNameOnlyListsAndGroupsThatExist() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        var customer = MappingGateway(name: "cust", ips: [try IPAddress(parsing: "192.0.2.10")])
        customer.listGroups = ["fraud"]
        #expect { try store.write { try $0.addMappingGateway(customer) } } throws: { "\($0)".contains("number list 'fraud' does not exist") }
        var vendor = RoutingGateway(name: "ven", address: SIPAddress(host: "198.51.100.7"), prefixes: ["44"])
        vendor.calleeFilter.denyGroups = ["premium"]
        #expect { try store.write { try $0.addRoutingGateway(vendor) } } throws: { "\($0)".contains("number group 'premium' does not exist") }

        try store.write { transaction in
            _ = try transaction.addNumbers(try numbers(["1001"]), toList: "fraud", kind: .black, target: nil)
            _ = try transaction.addPrefixes(["449", "4470"], toGroup: "premium")
            try transaction.addMappingGateway(customer)
            vendor.listGroups = ["fraud"]
            try transaction.addRoutingGateway(vendor)
        }
        #expect(try store.read { try $0.gatewaysAssigned(list: "fraud") } == ["cust", "ven"])
        #expect(try store.read { try $0.gatewaysUsing(group: "premium") } == ["ven"])
        #expect { try store.write { try $0.deleteNumberList(named: "fraud") } } throws: {
            "\($0)".contains("number list 'fraud' is assigned to gateways cust, ven")
        }
        #expect { try store.write { try $0.deleteNumberGroup(named: "premium") } } throws: {
            "\($0)".contains("number group 'premium' is used by the filters of gateway ven")
        }
        #expect(try store.read { try $0.numberList(named: "fraud") } != nil && store.read { try $0.numberGroup(named: "premium") } != nil)

        try store.write { transaction in
            customer.listGroups = []
            vendor.listGroups = []
            vendor.calleeFilter = PrefixFilter()
            try transaction.saveMappingGateway(customer)
            try transaction.saveRoutingGateway(vendor)
            try transaction.deleteNumberList(named: "fraud")
            try transaction.deleteNumberGroup(named: "premium")
        }
        #expect(try store.read { [try $0.count(.numberLists), try $0.count(.numberListNumbers), try $0.count(.numberGroups)] } == [0, 0, 0])
    }

    @Test func aFirstLayoutRecordStillLoads() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        try store.write { try $0.put(.numberLists, Array("old".utf8), Array(#"{"kind":"black","name":"old","numbers":["666","1001"],"target":"caller"}"#.utf8)) }
        let list = try #require(try store.read { try $0.numberList(named: "old") })
        #expect(list.kind == .black && list.target == .caller && list.numbers.numbers() == ["1001", "666"])
        #expect(try store.read { try $0.numberListHeaders() }.first?.count == 2)
        try store.write { _ = try $0.addNumbers(try numbers(["777"]), toList: "old", kind: .black, target: nil) }
        let grown = try #require(try store.read { try $0.numberList(named: "old") })
        #expect(grown.numbers.numbers() == ["1001", "666", "777"], "written back in the binary layout")
        let header = try #require(try store.read { try $0.get(.numberLists, Array("old".utf8)) })
        #expect(!String(decoding: header, as: UTF8.self).contains("numbers"))
    }

    @Test func aDamagedNumberRecordIsReportedNotGuessed() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        try store.write { _ = try $0.addNumbers(try numbers(["1001"]), toList: "fraud", kind: .black, target: nil) }
        try store.write { try $0.put(.numberListNumbers, Array("fraud".utf8), Array("VNS1\0\0\0\0short".utf8)) }
        #expect { try store.read { try $0.numberLists() } } throws: {
            "\($0)".contains("record 'fraud' in table number_list_numbers cannot be read")
        }
    }

    @Test func aMillionNumbersAreOneRecordReadBack() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        let million = NumberSet(unordered: (0..<1_000_000).compactMap { PackedNumber("4477\(10_000_000 + $0)") })
        try store.write { _ = try $0.addNumbers(million, toList: "big", kind: .black, target: nil) }
        let lists = try store.read { try $0.numberLists() }
        #expect(lists.first?.numbers.count == 1_000_000)
        #expect(lists.first?.numbers.contains("447710999999") == true && lists.first?.numbers.contains("447711000000") == false)
        // How fast the controller reloads it: tools/bench/number-lists (reload_ms), not a timed test.
    }
}
