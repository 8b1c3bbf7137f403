import Foundation
import Testing
import VOSModel
import VOSStore
import VOSTestSupport

@Suite struct BackupCommandTests {
    @Test func backupAndRestoreCompareCounts() throws {
        let scratch = try Scratch()
        let source = Vosctl(dataDirectory: scratch.child("old-node"))
        try source.ok("init")
        try source.ok("rate", "import", "retail", try scratch.write("r.csv", (1...200).map { "\($0),0.01,60,60" }.joined(separator: "\n")))
        try source.ok("account", "add", "acme", "--type", "prepaid", "--rate-table", "retail", "--balance", "50")
        try source.ok("gateway", "add", "mapping", "cust1", "--ip", "203.0.113.5", "--account", "acme")
        try source.ok("gateway", "add", "routing", "ven1", "--address", "198.51.100.7", "--prefix", "44")
        try source.ok("param", "set", "SS_MAX_CPS", "800")
        let output = try source.ok("backup", scratch.child("node.vosbak"))
        #expect(output.contains("schema 1") && output.contains("rates"))

        let target = Vosctl(dataDirectory: scratch.child("new-node"))
        let restored = try target.ok("restore", scratch.child("node.vosbak"))
        let ratesLine = restored.split(separator: "\n").first { $0.hasPrefix("rates") }
        #expect(ratesLine?.split(separator: " ", omittingEmptySubsequences: true) == ["rates", "0", "200", "200"])
        #expect(try target.ok("param", "get", "SS_MAX_CPS") == "800\n")
        #expect((try target.json("account", "show", "acme") as? [String: Any])?["balance"] as? String == "50.0000")
        // A restored node on a new IP only needs its address settings changed.
        try target.ok("gateway", "set", "ven1", "--address", "198.51.100.8:5060")
    }

    @Test func corruptBackupIsRefusedAndTheStoreUntouched() throws {
        let scratch = try Scratch()
        let source = Vosctl(dataDirectory: scratch.child("old-node"))
        try source.ok("init")
        try source.ok("account", "add", "acme", "--type", "prepaid")
        try source.ok("backup", scratch.child("node.vosbak"))
        var bytes = try Data(contentsOf: URL(fileURLWithPath: scratch.child("node.vosbak")))
        bytes[bytes.count - 10] ^= 0x55
        try bytes.write(to: URL(fileURLWithPath: scratch.child("bad.vosbak")))
        let target = Vosctl(dataDirectory: scratch.child("new-node"))
        #expect(try target.fails("restore", scratch.child("bad.vosbak")).contains("checksum"))
        #expect(try target.fails("restore", scratch.child("missing.vosbak")).contains("cannot open"))
        try bytes.prefix(200).write(to: URL(fileURLWithPath: scratch.child("short.vosbak")))
        #expect(try target.fails("restore", scratch.child("short.vosbak")).contains("truncated"))
        // Into a store that already has data: refused, and it keeps its data.
        #expect(try source.fails("restore", scratch.child("node.vosbak")).contains("not empty"))
        #expect((try source.json("account", "list") as? [Any])?.count == 1)
    }

    @Test func backupWhileAnotherProcessWrites() throws {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try vosctl.ok("init")
        let writer = try ShellLoop.start("for i in $(seq 1 40); do \(Vosctl.path) --data-dir \(scratch.child("var")) account add w$i --type prepaid >/dev/null || exit 1; done")
        for index in 0..<3 { try vosctl.ok("backup", scratch.child("live-\(index).vosbak")) }
        #expect(writer.wait() == 0)
        for index in 0..<3 {
            let restored = Vosctl(dataDirectory: scratch.child("restored-\(index)"))
            try restored.ok("restore", scratch.child("live-\(index).vosbak"))
            let count = (try restored.json("account", "list") as? [Any])?.count ?? -1
            #expect((0...40).contains(count), "each backup is a consistent snapshot")
        }
    }
}

@Suite struct CDRCommandTests {
    @Test func listFilterAndExport() throws {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try vosctl.ok("init")
        do {
            let store = try Store(directory: scratch.child("var"))
            try store.write(changesConfiguration: false) { transaction in
                for (index, reason) in [EndReason.callerHangup, .noAvailableRouter, .calleeHangup].enumerated() {
                    var record = CallDetailRecord(id: 0, callID: "call-\(index)", setupTime: 1_790_000_000_000 + Int64(index) * 1000,
                                                  endTime: 1_790_000_060_000, callerReceived: "1001", calleeReceived: "4477009",
                                                  mappingGateway: "cust1", endReason: reason, sipCode: reason == .noAvailableRouter ? 503 : 200,
                                                  hangupSide: .caller)
                    record.account = index == 2 ? "other" : "acme"
                    record.routingGateway = reason == .noAvailableRouter ? nil : "ven1"
                    record.customerCost = Money(units: 1234)
                    record.vendorCost = Money(units: 1000)
                    if index == 0 {
                        var caller = LegMediaStatistics()
                        caller.quality = .warning
                        caller.rtcpLossPercent = 1.171875
                        caller.rtcpJitterMilliseconds = 10
                        caller.roundTripMilliseconds = 80.25
                        caller.oneWayAudio = false
                        var callee = LegMediaStatistics()
                        callee.quality = .critical
                        callee.rtcpLossPercent = 0
                        callee.rtcpJitterMilliseconds = 60
                        callee.roundTripMilliseconds = 200
                        callee.oneWayAudio = true
                        record.callerMedia = caller
                        record.calleeMedia = callee
                    }
                    try transaction.appendCDR(record)
                }
            }
        }
        #expect((try vosctl.json("cdr", "list") as? [Any])?.count == 3)
        #expect((try vosctl.json("cdr", "list", "--account", "acme") as? [Any])?.count == 2)
        #expect((try vosctl.json("cdr", "list", "--reason", "noavailablerouter") as? [[String: Any]])?.first?["sipCode"] as? Int == 503)
        #expect((try vosctl.json("cdr", "list", "--gateway", "ven1") as? [Any])?.count == 2)
        #expect((try vosctl.json("cdr", "list", "--since", "1790000001") as? [Any])?.count == 2)
        #expect(try vosctl.ok("cdr", "list").contains("NoAvailableRouter"))
        #expect(try vosctl.fails("cdr", "list", "--reason", "Bogus").contains("unknown end reason"))
        #expect(try vosctl.fails("cdr", "list", "--since", "yesterday").contains("not a time"))
        try vosctl.ok("cdr", "export", "--csv", scratch.child("cdrs.csv"))
        let csv = try String(contentsOfFile: scratch.child("cdrs.csv"), encoding: .utf8)
        let lines = csv.split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("id,call_id,setup"))
        #expect(lines[0].hasSuffix("margin,caller_quality,callee_quality,caller_rtcp_loss_pct,callee_rtcp_loss_pct,"
                                   + "caller_rtcp_jitter_ms,callee_rtcp_jitter_ms,caller_rtt_ms,callee_rtt_ms,caller_one_way,callee_one_way"))
        // Costs, then the media quality columns (caller, callee), empty for a call without media statistics.
        #expect(lines[1].hasSuffix("0.1234,0.1000,0.0234,warning,critical,1.17,0.00,10.00,60.00,80.25,200.00,0,1"), "\(lines[1])")
        #expect(lines[3].hasSuffix("0.1234,0.1000,0.0234" + String(repeating: ",", count: 10)), "\(lines[3])")
        let table = try vosctl.ok("cdr", "list")
        #expect(table.contains("QUALITY") && table.contains("ONE-WAY") && table.contains("warning/critical"), "\(table)")
        let first = try #require((try vosctl.json("cdr", "list") as? [[String: Any]])?.first)
        #expect((first["calleeMedia"] as? [String: Any])?["oneWayAudio"] as? Bool == true)
        #expect((first["callerMedia"] as? [String: Any])?["quality"] as? String == "warning")
    }
}
