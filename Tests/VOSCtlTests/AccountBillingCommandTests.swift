import Foundation
import Testing
import VOSTestSupport
import VOSModel
import VOSStore

@Suite struct AccountBillingCommandTests {
    /// A store with one prepaid account, one settled call and one live call, made through the
    /// billing API as the controller would, then closed before vosctl reads it.
    func prepare(_ vosctl: Vosctl, _ scratch: Scratch) throws {
        try vosctl.ok("init")
        let rates = try scratch.write("rates.csv", "prefix,price,first,next\n86,1.0,6,6\n")
        try vosctl.ok("rate", "import", "retail", rates)
        try vosctl.ok("account", "add", "acme", "--type", "prepaid", "--balance", "5", "--limit-money", "1", "--rate-table", "retail")
        try vosctl.ok("account", "topup", "acme", "2.5")
        let start: Int64 = 1_700_000_000_000
        let store = try Store(directory: vosctl.dataDirectory)
        try store.write(changesConfiguration: false) { transaction in
            for key in ["done", "live"] {
                let request = CallAuthorizationRequest(key: key, callID: "cid-\(key)", account: "acme", caller: "1001",
                                                       callee: "8613800138000", mappingGateway: "gw", now: start)
                guard try transaction.authorizeCall(request).deadline != nil else { throw Failure("call \(key) refused") }
                _ = try transaction.markAnswered(key, at: start)
            }
            var draft = CallDetailRecord(id: 0, callID: "cid-done", setupTime: start, endTime: start + 30_000,
                                         callerReceived: "1001", calleeReceived: "8613800138000", mappingGateway: "gw",
                                         endReason: .callerHangup, sipCode: 200, hangupSide: .caller)
            draft.answerTime = start
            _ = try transaction.settleCall("done", draft: draft)
        }
    }

    @Test func showIncludesReservedAvailableAndLiveCalls() throws {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try prepare(vosctl, scratch)
        // 7.5 - 0.5 charged = 7.0; the live call reserves 66 s = 1.1.
        let shown = try #require(try vosctl.json("account", "show", "acme") as? [String: Any])
        #expect(shown["balance"] as? String == "7.0000")
        #expect(shown["reserved"] as? String == "1.1000")
        #expect(shown["available"] as? String == "6.9000")
        #expect(shown["liveCalls"] as? Int == 1)
        #expect(shown["limitMoney"] as? String == "1.0000")
        #expect(shown["status"] as? String == "Normal")
        let text = try vosctl.ok("account", "show", "acme")
        #expect(text.contains("reserved        1.1000"))
        #expect(text.contains("available       6.9000"))
        #expect(text.contains("live calls      1"))
    }

    @Test func historyListsTopUpsAndCharges() throws {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try prepare(vosctl, scratch)
        let entries = try #require(try vosctl.json("account", "history", "acme") as? [[String: Any]])
        #expect(entries.map { $0["kind"] as? String } == ["topup", "charge"])
        #expect(entries.map { $0["amount"] as? String } == ["2.5000", "-0.5000"])
        #expect(entries.map { $0["balanceAfter"] as? String } == ["7.5000", "7.0000"])
        #expect(entries.last?["callID"] as? String == "cid-done")
        #expect(entries.last?["cdrID"] as? Int == 1)
        let text = try vosctl.ok("account", "history", "acme")
        #expect(text.hasPrefix("TIME"))
        #expect(text.contains("charge") && text.contains("cid-done") && text.contains("-0.5000"))
        let newest = try #require(try vosctl.json("account", "history", "acme", "--limit", "1") as? [[String: Any]])
        #expect(newest.count == 1 && newest.first?["kind"] as? String == "charge")
        #expect(try vosctl.fails("account", "history", "nobody").contains("account 'nobody' does not exist"))
        #expect(try vosctl.ok("cdr", "list").contains("0.5000"))
    }
}
