import Foundation
import Testing
import VOSModel
import VOSStore
import VOSTestSupport

/// vosctl in cluster mode, as an operator runs it: configuration written through one data
/// directory's mirror is seen by another's, two writers at once both land, and a node's own data
/// directory refuses local writes. Synchronous tests: `Vosctl` and `ShellLoop` use Process.
@Suite("vosctl --cluster-dsn against a real PostgreSQL", .serialized)
struct ClusterCommandTests {
    @Test func configurationWrittenThroughOneMirrorIsSeenByAnotherAndByClusterStatus() throws {
        let postgres = try TemporaryPostgres()
        defer { postgres.destroy() }
        let scratch = try Scratch()
        let environment = ["VOS_CLUSTER_DSN": postgres.dsn]
        let first = Vosctl(dataDirectory: scratch.child("first"))
        let second = Vosctl(dataDirectory: scratch.child("second"))

        try ok(first, ["cluster", "init"], environment)
        try ok(first, ["account", "add", "acme", "--type", "prepaid", "--balance", "10", "--limit-money", "2"], environment)
        try ok(first, ["gateway", "add", "mapping", "cust", "--ip", "203.0.113.5", "--account", "acme"], environment)
        try ok(first, ["account", "topup", "acme", "5"], environment)

        let status = try jsonObject(try ok(first, ["cluster", "status", "--json"], environment))
        #expect(status["schemaVersion"] as? Int == 1)
        let accounts = try #require(status["accounts"] as? [[String: Any]])
        #expect(accounts.count == 1)
        #expect(accounts.first?["account"] as? String == "acme")
        #expect(accounts.first?["balance"] as? String == Money(whole: 15).description)
        let table = try ok(first, ["cluster", "status"], environment)
        #expect(table.contains("acme"))

        let shown = try jsonObject(try ok(second, ["account", "show", "acme", "--json"], environment))
        #expect(shown["balance"] as? String == Money(whole: 15).description)
        #expect(shown["limitMoney"] as? String == Money(whole: 2).description)
        #expect(try ok(second, ["gateway", "list"], environment).contains("cust"))
        let history = try ok(second, ["account", "history", "acme", "--json"], environment)
        #expect(history.contains("topup"))
        // The data directory itself stays untouched: the mirror lives beside it.
        #expect(FileManager.default.fileExists(atPath: scratch.child("second") + "/cluster-mirror/data.mdb"))
    }

    @Test func twoWritersAtOnceBothLandAndTheBalanceIsExactlyTheSum() throws {
        let postgres = try TemporaryPostgres()
        defer { postgres.destroy() }
        let scratch = try Scratch()
        let environment = ["VOS_CLUSTER_DSN": postgres.dsn]
        let first = Vosctl(dataDirectory: scratch.child("first"))
        try ok(first, ["cluster", "init"], environment)
        try ok(first, ["account", "add", "acme", "--type", "prepaid"], environment)

        let topUps = 25
        func loop(_ directory: String, _ extra: String = "") throws -> ShellLoop {
            try ShellLoop.start("""
                export VOS_CLUSTER_DSN='\(postgres.dsn)'
                for i in $(seq 1 \(topUps)); do \(Vosctl.path) --data-dir \(directory) account topup acme 1 >/dev/null || exit 1; \(extra) done
                """)
        }
        // Two processes on one data directory's mirror and one on another's, all at once.
        let loops = [try loop(scratch.child("first")), try loop(scratch.child("first")), try loop(scratch.child("second"))]
        let gateways = try ShellLoop.start("""
            export VOS_CLUSTER_DSN='\(postgres.dsn)'
            for i in $(seq 1 10); do \(Vosctl.path) --data-dir \(scratch.child("second")) gateway add routing r$i --address 198.51.100.7 --prefix $i >/dev/null || exit 1; done
            """)
        for loop in loops { #expect(loop.wait() == 0) }
        #expect(gateways.wait() == 0)

        #expect(try postgres.sql("SELECT balance FROM balances WHERE account = 'acme'") == String(loops.count * topUps * 10_000))
        #expect(try postgres.sql("SELECT count(*) FROM account_history WHERE node = 'vosctl'") == String(loops.count * topUps))
        let shown = try jsonObject(try ok(first, ["account", "show", "acme", "--json"], environment))
        #expect(shown["balance"] as? String == Money(whole: Int64(loops.count * topUps)).description)
        let history = try #require(try JSONSerialization.jsonObject(
            with: Data(try ok(first, ["account", "history", "acme", "--json"], environment).utf8)) as? [Any])
        #expect(history.count == loops.count * topUps)
        let listed = try jsonObject(try ok(first, ["gateway", "list", "--json"], environment))
        #expect((listed["routing"] as? [Any])?.count == 10)
    }

    @Test func aPlainWriteOnAClusterNodesDataDirectoryIsRefusedButReadsWork() throws {
        let scratch = try Scratch()
        let node = Vosctl(dataDirectory: scratch.child("node"))
        try node.ok("init")
        try node.ok("account", "add", "acme", "--type", "prepaid")
        do {
            let store = try Store(directory: scratch.child("node"))
            try store.write(changesConfiguration: false) { try $0.joinCluster(as: "node-a") }
        }
        let refused = try node.fails("account", "add", "other", "--type", "prepaid")
        #expect(refused.contains("this data directory is cluster node node-a: change configuration with --cluster-dsn"))
        #expect(try node.ok("account", "list").contains("acme"))
        #expect(!(try node.ok("account", "list").contains("other")))
    }

    @Test func aCommandChangingNodeStateIsRefusedInClusterMode() throws {
        let postgres = try TemporaryPostgres()
        defer { postgres.destroy() }
        let scratch = try Scratch()
        let environment = ["VOS_CLUSTER_DSN": postgres.dsn]
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try ok(vosctl, ["cluster", "init"], environment)
        try ok(vosctl, ["package", "add", "basic", "--rent", "5"], environment)
        try ok(vosctl, ["account", "add", "acme", "--type", "prepaid", "--balance", "10"], environment)
        try ok(vosctl, ["account", "set", "acme", "--package", "basic"], environment)
        let result = try vosctl.run(["account", "charge-monthly"], environment: environment)
        #expect(result.status == 1)
        #expect(result.stderr.contains("not supported in cluster mode yet"), "\(result.stderr)")
        #expect(try postgres.sql("SELECT balance FROM balances WHERE account = 'acme'") == "100000")
    }

    @discardableResult
    func ok(_ vosctl: Vosctl, _ arguments: [String], _ environment: [String: String]) throws -> String {
        let result = try vosctl.run(arguments, environment: environment)
        guard result.status == 0 else {
            throw Failure("vosctl \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)")
        }
        return result.stdout
    }

    func jsonObject(_ text: String) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw Failure("not a JSON object: \(text)")
        }
        return object
    }
}
