import Foundation
import Testing
import VOSTestSupport
import VOSModel
import VOSStore

/// `vosctl package`, `account set --package`, `account show` usage, `account charge-monthly` and
/// the package seconds `cdr list` shows.
@Suite struct PackageCommandTests {
    func prepare(_ vosctl: Vosctl, _ scratch: Scratch) throws {
        try vosctl.ok("init")
        try vosctl.ok("param", "set", "SS_TIME_ZONE", "UTC")
        let rates = try scratch.write("rates.csv", "prefix,price,first,next\n86,1.0,6,6\n")
        try vosctl.ok("rate", "import", "retail", rates)
        try vosctl.ok("account", "add", "acme", "--type", "prepaid", "--balance", "20", "--rate-table", "retail")
        try vosctl.ok("package", "add", "gold", "--rent", "10", "--minimum", "5", "--group", "china=86:100", "--group", "mobile=8613,8615:1")
    }

    @Test func packagesAreAddedChangedShownAndRemoved() throws {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try prepare(vosctl, scratch)
        let shown = try #require(try vosctl.json("package", "show", "gold") as? [String: Any])
        let package = try #require(shown["package"] as? [String: Any])
        #expect(package["monthlyRent"] as? String == "10.0000")
        #expect((package["groups"] as? [[String: Any]])?.map { $0["name"] as? String } == ["china", "mobile"])
        #expect(shown["accounts"] as? [String] == [])
        try vosctl.ok("package", "set", "gold", "--group", "mobile=8613:30", "--remove-group", "china", "--minimum", "0")
        let listed = try #require(try vosctl.json("package", "list") as? [[String: Any]])
        let groups = try #require(listed.first?["groups"] as? [[String: Any]])
        #expect(groups.map { $0["freeMinutes"] as? Int } == [30])
        #expect(listed.first?["minimumConsumption"] as? String == "0.0000")
        try vosctl.ok("account", "set", "acme", "--package", "gold")
        #expect(try vosctl.fails("package", "remove", "gold").contains("used by account 'acme'"))
        try vosctl.ok("account", "set", "acme", "--no-package")
        try vosctl.ok("package", "remove", "gold")
        #expect(try vosctl.ok("package", "list").contains("gold") == false)
    }

    @Test func badPackagesAreRefusedNamingTheFieldAndChangeNothing() throws {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try prepare(vosctl, scratch)
        #expect(try vosctl.fails("package", "add", "silver", "--group", "mobile=8613:-5").contains("free minutes of group 'mobile'"))
        #expect(try vosctl.fails("package", "set", "gold", "--group", "china=86:-1").contains("free minutes of group 'china'"))
        #expect(try vosctl.fails("package", "add", "silver", "--rent=-1").contains("monthly rent"))
        #expect(try vosctl.fails("package", "add", "silver", "--group", "mobile").contains("--group"))
        #expect(try vosctl.fails("package", "add", "silver", "--group", "a=86:1", "--group", "b=86:2").contains("prefix 86 is in both group 'a' and group 'b'"))
        #expect(try vosctl.fails("account", "set", "acme", "--package", "platinum").contains("package 'platinum' does not exist"))
        #expect(try vosctl.fails("account", "set", "acme", "--package", "gold", "--no-package").contains("contradict"))
        let listed = try #require(try vosctl.json("package", "list") as? [[String: Any]])
        #expect(listed.map { $0["name"] as? String } == ["gold"])
        let groups = try #require(listed.first?["groups"] as? [[String: Any]])
        #expect(groups.map { $0["freeMinutes"] as? Int } == [100, 1])
        #expect((try vosctl.json("account", "show", "acme") as? [String: Any])?["package"] == nil)
    }

    @Test func accountShowAndCDRListShowThePackageUsage() throws {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try prepare(vosctl, scratch)
        try vosctl.ok("account", "set", "acme", "--package", "gold")
        // A 90 s call now to a mobile (one free minute, then 30 s of money), settled as the controller would.
        let now = Transaction.currentMilliseconds()
        let store = try Store(directory: vosctl.dataDirectory)
        try store.write(changesConfiguration: false) { transaction in
            let request = CallAuthorizationRequest(key: "a", callID: "cid-a", account: "acme", caller: "1001",
                                                   callee: "8613800138000", mappingGateway: "gw", now: now)
            guard try transaction.authorizeCall(request).deadline != nil else { throw Failure("call refused") }
            _ = try transaction.markAnswered("a", at: now)
            var draft = CallDetailRecord(id: 0, callID: "cid-a", setupTime: now, endTime: now + 90_000, callerReceived: "1001",
                                         calleeReceived: "8613800138000", mappingGateway: "gw", endReason: .callerHangup,
                                         sipCode: 200, hangupSide: .caller)
            draft.answerTime = now
            _ = try transaction.settleCall("a", draft: draft)
        }
        let shown = try #require(try vosctl.json("account", "show", "acme") as? [String: Any])
        #expect(shown["package"] as? String == "gold")
        #expect(shown["balance"] as? String == "19.5000")
        let usage = try #require(shown["packageUsage"] as? [[String: Any]])
        #expect(usage.map { $0["group"] as? String } == ["china", "mobile"])
        #expect(usage.map { $0["usedSeconds"] as? Int } == [0, 60])
        #expect(usage.map { $0["leftSeconds"] as? Int } == [6000, 0])
        let text = try vosctl.ok("account", "show", "acme")
        #expect(text.contains("package: gold"))
        let cdrs = try vosctl.ok("cdr", "list")
        #expect(cdrs.contains("90 (pkg 60)"))
        let records = try #require(try vosctl.json("cdr", "list") as? [[String: Any]])
        #expect(records.first?["packageName"] as? String == "gold")
        #expect(records.first?["packageSeconds"] as? Int == 60)
        #expect(records.first?["billingMethod"] as? String == "prepaid")
    }

    @Test func chargeMonthlyBooksRentOncePerMonth() throws {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try prepare(vosctl, scratch)
        try vosctl.ok("account", "set", "acme", "--package", "gold")
        let booked = try #require(try vosctl.json("account", "charge-monthly", "--at", "2026-11-15T10:00:00Z") as? [[String: Any]])
        #expect(booked.map { $0["kind"] as? String } == ["rent"])
        #expect(booked.map { $0["amount"] as? String } == ["-10.0000"])
        #expect(try vosctl.ok("account", "charge-monthly", "--at", "2026-11-20T10:00:00Z").contains("nothing due"))
        // December: November's minimum (no calls: 5.0000), then December's rent.
        let december = try #require(try vosctl.json("account", "charge-monthly", "--at", "2026-12-01T00:00:00Z") as? [[String: Any]])
        #expect(december.map { $0["kind"] as? String } == ["minimum-consumption", "rent"])
        #expect(december.map { $0["amount"] as? String } == ["-5.0000", "-10.0000"])
        #expect((try vosctl.json("account", "show", "acme") as? [String: Any])?["balance"] as? String == "-5.0000")
        #expect(try vosctl.fails("account", "charge-monthly", "--at", "yesterday").contains("--at"))
    }
}
