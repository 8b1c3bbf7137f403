import Foundation
import Testing
import VOSTestSupport

/// Cluster mode as installed (issue 17, docs/CLUSTER.md): `tools/lab/cluster.sh` puts a real
/// PostgreSQL, two vos nodes (vos-mediad and vos-controller each, started with the units'
/// ExecStart lines and VOS_CLUSTER_DSN), a sipp customer and a sipp vendor in network namespaces.
/// The assertions are what the operator sees in the cluster database: CDR rows, balances, leases.
@Suite(.serialized) struct ClusterLabTests {
    /// 100 calls of one prepaid account at once, 50 to each node, each wanting 20 s at 0.60/min
    /// (0.20 a call, 20.00 in all) against 2.00 of balance and 1.00 of overdraft: the cluster must
    /// admit only what 3.00 pays for, and the money must add up.
    @Test func hundredConcurrentCallsOfOnePrepaidAccountOverTwoNodesNeverPassTheLimitAndAddUp() throws {
        let lab = try ClusterLab()
        defer { lab.down() }
        try lab.bringUp()

        let first = lab.startCalls(node: 1, count: 50, seconds: 20)
        let second = lab.startCalls(node: 2, count: 50, seconds: 20)
        _ = (first.wait(), second.wait())

        // Every call has a CDR (answered, cut or refused), shipped from the node that handled it.
        #expect(lab.waitForSQL("SELECT count(*) FROM cdrs", equals: "100", seconds: 30),
                "CDRs in PostgreSQL: \(lab.sqlOrError("SELECT node, count(*) FROM cdrs GROUP BY node"))\(lab.logs())")
        #expect(lab.waitForSQL("SELECT count(DISTINCT node) FROM cdrs", equals: "2", seconds: 5), "both nodes carried calls")
        // Let the shippers land the last balance changes, then the books must balance exactly.
        #expect(lab.waitForSQL(
            "SELECT (SELECT coalesce(sum(customer_cost), 0) FROM cdrs) = -(SELECT coalesce(sum(amount), 0) FROM account_history WHERE kind = 'charge')",
            equals: "t", seconds: 15), "every charged CDR has its history entry in PostgreSQL")
        let balance = try #require(Int64(try lab.sql("SELECT balance FROM balances WHERE account = 'lab-prepaid'")))
        let limit = try #require(Int64(try lab.sql("SELECT limit_money FROM balances WHERE account = 'lab-prepaid'")))
        let charged = try #require(Int64(try lab.sql("SELECT coalesce(sum(customer_cost), 0) FROM cdrs")))
        #expect(balance >= -limit, "balance \(balance) units never below -limitMoney \(-limit)")
        #expect(20_000 - balance == charged, "balance change \(20_000 - balance) units == sum of charges \(charged)")
        #expect(charged > 0 && charged <= 30_000, "charges \(charged) are positive and within balance + limit (30000 units)")
        let refused = try lab.sql("SELECT count(*) FROM cdrs WHERE end_reason = 'AccountBalanceNotEnough'")
        #expect((Int(refused) ?? 0) > 0, "the money ran out: some calls were refused AccountBalanceNotEnough")
        let reserved = try lab.sql("SELECT reserved = (SELECT coalesce(sum(amount), 0) FROM quota_leases WHERE account = 'lab-prepaid') FROM balances WHERE account = 'lab-prepaid'")
        #expect(reserved == "t", "reserved equals the sum of the nodes' leases")
    }

    /// A rate changed with vosctl on node 1 is what node 2's next call is charged.
    @Test func aRateChangedOnOneNodeIsUsedByTheOtherNodesNextCall() throws {
        let lab = try ClusterLab()
        defer { lab.down() }
        try lab.bringUp()
        try lab.writeRates(pricePerMinute: "6.0000")
        let changed = try lab.script(["vosctl", "1", "rate", "import", "lab-retail", lab.ratesPath])
        #expect(changed.status == 0, "vosctl rate import on node 1: \(changed.output)")
        Thread.sleep(forTimeInterval: 1)
        _ = try lab.calls(node: 2, count: 1, seconds: 3)
        #expect(lab.waitForSQL("SELECT count(*) FROM cdrs WHERE node = 'n2'", equals: "1", seconds: 15), "\(lab.logs())")
        // 3 s billed as the 6 s first interval at 6.00/min is 0.60 (6000 units); the old rate charged 600.
        #expect(try lab.sql("SELECT customer_cost FROM cdrs WHERE node = 'n2'") == "6000", "\(lab.logs())")
    }

    /// kill -9 of node 1 during calls: node 2's calls go on; node 1 settles its calls with
    /// ControllerRestart when it comes back, and they reach PostgreSQL.
    @Test func aKilledNodeSettlesItsCallsWithControllerRestartAndTheOtherIsUnaffected() throws {
        let lab = try ClusterLab()
        defer { lab.down() }
        try lab.bringUp()
        let onFirst = lab.startCalls(node: 1, count: 3, seconds: 30)
        let onSecond = lab.startCalls(node: 2, count: 3, seconds: 12)
        Thread.sleep(forTimeInterval: 6)
        let killed = try lab.script(["stop-node", "1", "--kill"])
        #expect(killed.status == 0)
        let second = onSecond.wait()
        #expect(second.contains("successful=3"), "node 2's three calls completed while node 1 was down: \(second)")
        _ = onFirst.wait()
        let restarted = try lab.script(["start-node", "1"])
        #expect(restarted.status == 0, "\(restarted.output)")
        #expect(lab.waitForSQL("SELECT count(*) FROM cdrs WHERE node = 'n1' AND end_reason = 'ControllerRestart'",
                               equals: "3", seconds: 20), "\(lab.logs())")
        #expect(lab.waitForSQL("SELECT count(*) FROM cdrs WHERE node = 'n2' AND end_reason = 'CallerHangup'",
                               equals: "3", seconds: 10), "\(lab.logs())")
    }

    /// PostgreSQL stopped for 30 s while calls run on both nodes: nothing is lost or counted twice.
    @Test func theDatabaseDownForThirtySecondsLosesAndDuplicatesNoCDR() throws {
        let lab = try ClusterLab()
        defer { lab.down() }
        try lab.bringUp()
        // The first calls lease credit while the database is up; the rest run on those leases.
        _ = try lab.calls(node: 1, count: 1, seconds: 1)
        _ = try lab.calls(node: 2, count: 1, seconds: 1)
        let first = lab.startCalls(node: 1, count: 4, seconds: 40)
        let second = lab.startCalls(node: 2, count: 4, seconds: 40)
        #expect(lab.waitForMetric(node: 1, "vos_cluster_database_reachable", equals: 1, seconds: 5))
        let scrape = lab.metrics(node: 1)
        let check = try Promtool.run(["check", "metrics"], input: scrape)
        #expect(check.status == 0, "promtool check metrics on a cluster node's scrape: \(check.output)\n\(scrape)")
        Thread.sleep(forTimeInterval: 5)
        #expect(try lab.script(["db-stop"]).status == 0)
        // What the NOC sees during the outage: the node says the database is gone, and how old its
        // configuration is getting.
        #expect(lab.waitForMetric(node: 1, "vos_cluster_database_reachable", equals: 0, seconds: 15), "\(lab.metrics(node: 1))")
        Thread.sleep(forTimeInterval: 10)
        let during = lab.metrics(node: 2)
        #expect(MetricsTests.value(during, "vos_cluster_database_reachable") == 0, "\(during)")
        #expect(MetricsTests.value(during, "vos_cluster_config_age_seconds") ?? 0 >= 10, "\(during)")
        Thread.sleep(forTimeInterval: 19)
        #expect(try lab.script(["db-start"]).status == 0)
        _ = (first.wait(), second.wait())
        #expect(lab.waitForSQL("SELECT count(*) FROM cdrs", equals: "10", seconds: 30),
                "\(lab.sqlOrError("SELECT node, cdr_id, end_reason FROM cdrs"))\(lab.logs())")
        // After it: both nodes reach the database again and have shipped everything.
        for node in [1, 2] {
            #expect(lab.waitForMetric(node: node, "vos_cluster_database_reachable", equals: 1, seconds: 10), "\(lab.metrics(node: node))")
            #expect(lab.waitForMetric(node: node, "vos_cluster_outbox_rows", equals: 0, seconds: 10), "\(lab.metrics(node: node))")
            #expect(lab.waitForMetric(node: node, "vos_cluster_unshipped_cdrs", equals: 0, seconds: 10), "\(lab.metrics(node: node))")
            #expect(lab.waitForMetric(node: node, "vos_cluster_active_nodes", equals: 2, seconds: 10), "\(lab.metrics(node: node))")
        }
        #expect(try lab.sql("SELECT count(*) FROM (SELECT call_id FROM cdrs GROUP BY call_id HAVING count(*) > 1) d") == "0",
                "no call has two CDRs")
        #expect(lab.waitForSQL(
            "SELECT (SELECT coalesce(sum(customer_cost), 0) FROM cdrs) = 20000 - (SELECT balance FROM balances WHERE account = 'lab-prepaid')",
            equals: "t", seconds: 15), "the balance change equals the charges after the outage\(lab.logs())")
        // The account's balance gauge on a node is the cluster's balance, not the node's lease.
        let balance = try #require(Double(try lab.sql("SELECT balance FROM balances WHERE account = 'lab-prepaid'"))) / 10_000
        for node in [1, 2] {
            #expect(lab.waitForMetric(node: node, "vos_account_balance{account=\"lab-prepaid\"}", equals: balance, seconds: 10),
                    "cluster balance \(balance): \(lab.metrics(node: node))")
        }
    }

    /// A node against a database whose schema is newer than it reads refuses, naming both versions.
    @Test func aNodeAgainstANewerSchemaRefusesNamingBothVersions() throws {
        let lab = try ClusterLab()
        defer { lab.down() }
        try lab.bringUp(startNodes: false)
        try lab.sql("UPDATE vos_schema SET version = 99")
        let started = try lab.script(["start-node", "1"])
        #expect(started.status != 0, "node 1 started against schema 99")
        let log = lab.read("n1/controller.log")
        #expect(log.contains("schema 99") && log.contains("reads 1"), "the refusal names both versions: \(log)")
    }
}

/// One run of tools/lab/cluster.sh, torn down by `down()`.
final class ClusterLab: @unchecked Sendable {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("tools/lab/cluster.sh").path

    let prefix: String
    let state: String
    var ratesPath: String { state + "/rates-changed.csv" }

    init() throws {
        prefix = "vct" + String(UInt32.random(in: 0...UInt32.max) % 46_656, radix: 36)
        state = "/run/vos-lab/" + prefix
        let up = try script(["up"])
        guard up.status == 0 else {
            down()
            throw TemporaryPostgres.Failure(description: "cluster.sh up exited \(up.status): \(up.output)")
        }
    }

    var environment: [String: String] {
        ["CLUSTER_LAB_PREFIX": prefix, "CLUSTER_LAB_STATE": state, "VOS_BIN": Vosctl.binaryDirectory]
    }

    func script(_ arguments: [String]) throws -> Spawn.Result {
        try Spawn.run(["/bin/bash", ClusterLab.script] + arguments, environment: environment)
    }

    /// Database, provisioning (via node 1's vosctl), the vendor, and both nodes.
    func bringUp(startNodes: Bool = true) throws {
        for step in [["db-start"], ["provision"], ["vendor-start"]] + (startNodes ? [["start-node", "1"], ["start-node", "2"]] : []) {
            let result = try script(step)
            guard result.status == 0 else {
                throw TemporaryPostgres.Failure(description: "cluster.sh \(step.joined(separator: " ")) exited \(result.status): \(result.output)\(logs())")
            }
        }
    }

    func calls(node: Int, count: Int, seconds: Int) throws -> String {
        try script(["calls", String(node), String(count), String(seconds)]).output
    }

    /// `calls` on a thread of its own; `wait()` returns its summary line (or the error).
    func startCalls(node: Int, count: Int, seconds: Int) -> PendingCalls {
        let pending = PendingCalls()
        Thread { [self] in
            pending.finish((try? calls(node: node, count: count, seconds: seconds)) ?? "cluster.sh calls failed to run")
        }.start()
        return pending
    }

    @discardableResult
    func sql(_ statement: String) throws -> String {
        let result = try script(["psql", statement])
        guard result.status == 0 else { throw TemporaryPostgres.Failure(description: "psql: \(result.output)") }
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func sqlOrError(_ statement: String) -> String { (try? sql(statement)) ?? "(query failed)" }

    /// Node N's controller /metrics, or what went wrong fetching it.
    func metrics(node: Int) -> String {
        guard let result = try? script(["metrics", String(node)]) else { return "(cluster.sh metrics did not run)" }
        return result.status == 0 ? result.output : "(cluster.sh metrics exited \(result.status): \(result.output))"
    }

    func waitForMetric(node: Int, _ series: String, equals expected: Double, seconds: Double) -> Bool {
        eventually(seconds: seconds) { MetricsTests.value(self.metrics(node: node), series) == expected }
    }

    func waitForSQL(_ statement: String, equals expected: String, seconds: Double) -> Bool {
        eventually(seconds: seconds) { (try? sql(statement)) == expected }
    }

    func writeRates(pricePerMinute: String) throws {
        try "prefix,price_per_minute,first_interval,next_interval,connection_fee,description\n44,\(pricePerMinute),6,6,0,lab vendor\n"
            .write(toFile: ratesPath, atomically: true, encoding: .utf8)
    }

    func read(_ relative: String) -> String { (try? String(contentsOfFile: state + "/" + relative, encoding: .utf8)) ?? "" }

    func logs() -> String {
        ["n1/controller.log", "n2/controller.log"].map { "\n--- \($0) ---\n" + String(read($0).suffix(3000)) }.joined()
    }

    func down() { _ = try? script(["down"]) }
}

final class PendingCalls: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var output = ""

    func finish(_ text: String) {
        lock.withLock { output = text }
        done.signal()
    }

    /// The calls are bounded by sipp's -timeout (their seconds + 60); this bounds the wait too.
    func wait() -> String {
        guard done.wait(timeout: .now() + 180) == .success else { return "calls still running after 180 s" }
        return lock.withLock { output }
    }
}
