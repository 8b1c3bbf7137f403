import Foundation
import Testing
import VOSModel

@Suite struct CustomerPackageTests {
    static func package(_ groups: [CustomerPackage.DestinationGroup]) -> CustomerPackage {
        CustomerPackage(name: "gold", monthlyRent: Money(whole: 10), minimumConsumption: Money(whole: 50), groups: groups)
    }

    @Test func theLongestPrefixPicksTheGroup() throws {
        let package = Self.package([
            .init(name: "china", prefixes: ["86"], freeMinutes: 100),
            .init(name: "china-mobile", prefixes: ["8613", "8615"], freeMinutes: 30),
        ])
        try package.validate()
        #expect(package.group(for: "8613800138000")?.name == "china-mobile")
        #expect(package.group(for: "8610800138000")?.name == "china")
        #expect(package.group(for: "4420") == nil)
        #expect(package.group(named: "china")?.freeSeconds == 6000)
    }

    @Test func groupsParseFromTheCommandLineForm() throws {
        let group = try CustomerPackage.DestinationGroup(parsing: "mobile=8613, 8615:300")
        #expect(group == .init(name: "mobile", prefixes: ["8613", "8615"], freeMinutes: 300))
        #expect(try CustomerPackage.DestinationGroup(parsing: group.text) == group)
        for bad in ["mobile", "mobile=8613", "=8613:10", "mobile:8613=10", "mobile=8613:ten"] {
            #expect(throws: ModelError.self, "\(bad)") { try CustomerPackage.DestinationGroup(parsing: bad) }
        }
    }

    @Test func negativePackageMinutesAreRefusedNamingTheGroup() throws {
        let group = try CustomerPackage.DestinationGroup(parsing: "mobile=8613:-5")
        let error = try #require(throws: ModelError.self) { try Self.package([group]).validate() }
        #expect(error.description.contains("free minutes of group 'mobile'"))
        #expect(error.description.contains("-5"))
    }

    @Test func badPackagesAreRefusedNamingTheField() throws {
        let cases: [(CustomerPackage, String)] = [
            (CustomerPackage(name: "gold", monthlyRent: Money(units: -1)), "monthly rent"),
            (CustomerPackage(name: "gold", minimumConsumption: Money(whole: -3)), "minimum consumption"),
            (CustomerPackage(name: "bad name"), "package name"),
            (Self.package([.init(name: "a", prefixes: ["86"], freeMinutes: 1), .init(name: "a", prefixes: ["44"], freeMinutes: 1)]),
             "group 'a' appears twice"),
            (Self.package([.init(name: "a", prefixes: ["86"], freeMinutes: 1), .init(name: "b", prefixes: ["86"], freeMinutes: 1)]),
             "prefix 86 is in both group 'a' and group 'b'"),
            (Self.package([.init(name: "a", prefixes: ["86x"], freeMinutes: 1)]), "prefix of group 'a'"),
            (Self.package([.init(name: "a", prefixes: [], freeMinutes: 1)]), "prefixes of group 'a'"),
            (Self.package([.init(name: "a", prefixes: ["86"], freeMinutes: CustomerPackage.maximumFreeMinutes + 1)]), "free minutes of group 'a'"),
        ]
        for (package, field) in cases {
            let error = try #require(throws: ModelError.self, "\(field)") { try package.validate() }
            #expect(error.description.contains(field), "\(error.description)")
        }
    }

    @Test func packagesAndGrantsRoundTripThroughJSON() throws {
        let package = Self.package([.init(name: "mobile", prefixes: ["8613"], freeMinutes: 300)])
        #expect(try JSONRoundTrip.decode(CustomerPackage.self, JSONRoundTrip.encode(package)) == package)
        var account = Account(name: "acme", kind: .prepaid)
        account.package = "gold"
        #expect(try JSONRoundTrip.decode(Account.self, JSONRoundTrip.encode(account)).package == "gold")
        // An account stored before packages existed reads with none.
        let old = try JSONRoundTrip.decode(Account.self, Data(#"{"name":"old","kind":"prepaid","balance":"1.0000","limitMoney":"0.0000","status":"Normal","antiOverdraft":true,"concurrentLimit":0}"#.utf8))
        #expect(old.package == nil)
    }

    @Test func usageLeavesWhatNobodyUsedOrHolds() {
        #expect(PackageUsage(usedSeconds: 100, heldSeconds: 50).available(of: 600) == 450)
        #expect(PackageUsage(usedSeconds: 500, heldSeconds: 200).available(of: 600) == 0)
    }
}
