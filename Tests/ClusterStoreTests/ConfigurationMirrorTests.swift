import CallControl
import ClusterStore
import Foundation
import Logging
import Testing
import VOSModel
import VOSStore
import VOSTestSupport

/// Configuration written on vosctl's side (its mirror store plus `OperatorSession`) reaches a node
/// (another LMDB store) through a real PostgreSQL, with money moving by deltas only.
@Suite("Configuration mirror against a real PostgreSQL", .serialized)
struct ConfigurationMirrorTests {
    /// One PostgreSQL, vosctl's mirror store and one node's store, each in its own directory.
    final class Cluster: @unchecked Sendable {
        let postgres: TemporaryPostgres
        let scratch: Scratch
        let dsn: ClusterDSN
        let database: ClusterDatabase
        let operatorStore: Store
        let nodeStore: Store
        let logger = Logger(label: "test.cluster")

        init() async throws {
            postgres = try TemporaryPostgres()
            scratch = try Scratch()
            dsn = try ClusterDSN(postgres.dsn)
            database = ClusterDatabase(dsn: dsn, logger: logger)
            try await ClusterSchema.initialize(database)
            operatorStore = try Store.initialize(directory: scratch.child("vosctl")).store
            nodeStore = try Store.initialize(directory: scratch.child("node-b")).store
            try nodeStore.write(changesConfiguration: false) { try $0.joinCluster(as: "node-b") }
        }

        /// What one vosctl command does: open under the writer lock, change the mirror, push.
        @discardableResult
        func vosctl(_ body: (Transaction) throws -> Void) async throws -> PushOutcome {
            let session = try await OperatorSession.open(dsn: dsn, store: operatorStore)
            do {
                try operatorStore.write { try body($0) }
            } catch {
                await session.rollback()
                throw error
            }
            return try await session.commit()
        }

        func pullNode() async throws -> UInt64 {
            try await ConfigurationMirror(database: database, logger: logger).pull(into: nodeStore, role: .node)
        }

        func close() async {
            await database.close()
            postgres.destroy()
        }
    }

    @Test func gatewayRateAndParameterWrittenByVosctlArePulledByANodeWithABumpedGeneration() async throws {
        let cluster = try await Cluster()
        let pushed = try await cluster.vosctl { transaction in
            var account = Account(name: "acme", kind: .prepaid)
            account.balance = Money(whole: 100)
            account.limitMoney = Money(whole: 20)
            try transaction.replaceRates(table: "retail", with: [RateEntry(prefix: "44", pricePerMinute: Money(units: 1200)),
                                                                  RateEntry(prefix: "1", pricePerMinute: Money(units: 300))])
            account.rateTable = "retail"
            try transaction.addAccount(account)
            var gateway = MappingGateway(name: "cust", ips: [try IPAddress(parsing: "203.0.113.5")])
            gateway.account = "acme"
            try transaction.addMappingGateway(gateway)
            _ = try transaction.setParameter(.qosRTP, to: "40")
        }
        let generation = try #require(pushed.generation)
        #expect(try cluster.postgres.sql("SELECT generation FROM config_generation") == String(generation))
        #expect(try cluster.postgres.sql("SELECT balance, limit_money, reserved, locked FROM balances WHERE account = 'acme'")
            == "1000000|200000|0|f")

        let before = try cluster.nodeStore.generation()
        #expect(try await cluster.pullNode() == generation)
        let after = try cluster.nodeStore.generation()
        #expect(after == before + 1)
        for table in [Table.mappingGateways, .rates, .parameters] {
            let nodeRows = try cluster.nodeStore.read { try $0.rawRows(table) }
            let vosctlRows = try cluster.operatorStore.read { try $0.rawRows(table) }
            #expect(!nodeRows.isEmpty)
            #expect(nodeRows == vosctlRows, "table \(table.rawValue) differs")
        }
        let nodeAccount = try #require(try cluster.nodeStore.read { try $0.account(named: "acme") })
        #expect(nodeAccount.balance == .zero)
        #expect(nodeAccount.limitMoney == .zero)
        #expect(nodeAccount.rateTable == "retail")
        #expect(try cluster.nodeStore.read { try $0.metaNumber(ConfigurationMirror.generationKey) } == generation)

        // Nothing new: no second generation bump, so the daemons do not reload for nothing.
        #expect(try await cluster.pullNode() == generation)
        #expect(try cluster.nodeStore.generation() == after)
        await cluster.close()
    }

    @Test func aDeletionPropagatesAsANullRow() async throws {
        let cluster = try await Cluster()
        try await cluster.vosctl { transaction in
            try transaction.addRoutingGateway(RoutingGateway(name: "ven", address: SIPAddress(host: "198.51.100.7"), prefixes: ["44"]))
            _ = try transaction.setParameter(.qosRTP, to: "40")
        }
        _ = try await cluster.pullNode()
        #expect(try cluster.nodeStore.read { try $0.routingGateway(named: "ven") } != nil)

        let removed = try await cluster.vosctl { transaction in
            try transaction.removeGateway(named: "ven")
            try transaction.resetParameter(.qosRTP)
        }
        #expect(removed.rows == 2)
        #expect(try cluster.postgres.sql("SELECT count(*) FROM config_rows WHERE value IS NULL") == "2")
        #expect(try await cluster.pullNode() == removed.generation)
        #expect(try cluster.nodeStore.read { try $0.routingGateway(named: "ven") } == nil)
        #expect(try cluster.nodeStore.read { try $0.rawRows(.parameters) }.isEmpty)
        await cluster.close()
    }

    @Test func aBalanceChangeIsADeltaSoAConcurrentUpdateIsNotLost() async throws {
        let cluster = try await Cluster()
        try await cluster.vosctl { transaction in
            var account = Account(name: "acme", kind: .prepaid)
            account.balance = Money(whole: 100)
            try transaction.addAccount(account)
        }
        let session = try await OperatorSession.open(dsn: cluster.dsn, store: cluster.operatorStore)
        #expect(try cluster.operatorStore.read { try $0.requireAccount(named: "acme").balance } == Money(whole: 100))
        // A node ships a charge of 30 while vosctl's command is running.
        try cluster.postgres.sql("UPDATE balances SET balance = balance - 300000 WHERE account = 'acme'")
        try cluster.operatorStore.write { _ = try $0.topUp(account: "acme", amount: Money(whole: 50)) }
        let outcome = try await session.commit()
        #expect(outcome.generation == nil, "a top-up changes money, not configuration")
        #expect(try cluster.postgres.sql("SELECT balance FROM balances WHERE account = 'acme'") == "1200000")
        #expect(try cluster.postgres.sql("SELECT node, kind, amount FROM account_history") == "vosctl|topup|500000")

        // The next command's mirror shows the cluster's balance and the entry once.
        let reread = try await OperatorSession.open(dsn: cluster.dsn, store: cluster.operatorStore)
        #expect(try cluster.operatorStore.read { try $0.requireAccount(named: "acme").balance } == Money(whole: 120))
        #expect(try cluster.operatorStore.read { try $0.accountHistory(account: "acme") }.map(\.amount) == [Money(whole: 50)])
        await reread.rollback()
        await cluster.close()
    }

    @Test func aNodeKeepsItsLocalBalanceAndGetsLimitZero() async throws {
        let cluster = try await Cluster()
        try await cluster.vosctl { transaction in
            var account = Account(name: "acme", kind: .prepaid)
            account.balance = Money(whole: 100)
            account.limitMoney = Money(whole: 20)
            try transaction.addAccount(account)
        }
        _ = try await cluster.pullNode()
        // What the node leased is its local balance.
        try cluster.nodeStore.write(changesConfiguration: false) { transaction in
            var account = try transaction.requireAccount(named: "acme")
            account.balance = Money(whole: 7)
            try transaction.saveAccount(account)
        }
        try await cluster.vosctl { transaction in
            var account = try transaction.requireAccount(named: "acme")
            account.concurrentLimit = 5
            account.limitMoney = Money(whole: 30)
            try transaction.saveAccount(account)
        }
        _ = try await cluster.pullNode()
        let account = try #require(try cluster.nodeStore.read { try $0.account(named: "acme") })
        #expect(account.balance == Money(whole: 7))
        #expect(account.limitMoney == .zero)
        #expect(account.concurrentLimit == 5)
        #expect(try cluster.postgres.sql("SELECT balance, limit_money FROM balances WHERE account = 'acme'") == "1000000|300000")
        await cluster.close()
    }

    @Test func removingAnAccountANodeHoldsALeaseOfIsRefusedAndTheMirrorPutBack() async throws {
        let cluster = try await Cluster()
        try await cluster.vosctl { try $0.addAccount(Account(name: "acme", kind: .prepaid)) }
        try cluster.postgres.sql("""
            INSERT INTO quota_leases (node, account, amount) VALUES ('node-a', 'acme', 50000);
            UPDATE balances SET reserved = 50000 WHERE account = 'acme'
            """)
        do {
            try await cluster.vosctl { try $0.removeAccount(named: "acme") }
            Issue.record("removing an account with a lease was accepted")
        } catch {
            #expect("\(error)".contains("node-a"))
        }
        #expect(try cluster.operatorStore.read { try $0.account(named: "acme") } != nil)
        #expect(try cluster.postgres.sql("SELECT count(*) FROM balances") == "1")
        #expect(try cluster.postgres.sql("SELECT value IS NOT NULL FROM config_rows WHERE tbl = 'accounts'") == "t")
        await cluster.close()
    }

    @Test func aCommandChangingANodesOwnStateIsRefusedNamingTheTable() async throws {
        let cluster = try await Cluster()
        do {
            try await cluster.vosctl { try $0.putRaw(.monthlyCharges, key: Array("acme".utf8), value: [1]) }
            Issue.record("a change of monthly_charges was accepted")
        } catch {
            #expect("\(error)".contains("not supported in cluster mode yet"))
            #expect("\(error)".contains("monthly_charges"))
        }
        #expect(try cluster.operatorStore.read { try $0.rawRows(.monthlyCharges) }.isEmpty)
        await cluster.close()
    }

    @Test func theFollowerPicksAChangeUpWithinOneSecondThroughNotify() async throws {
        let cluster = try await Cluster()
        let follower = ConfigurationFollower(database: cluster.database, store: cluster.nodeStore, logger: cluster.logger)
        let running = Task { await follower.run() }
        try await waitUntil(seconds: 5) { follower.lastSyncedAt != nil }

        let started = ContinuousClock.now
        let pushed = try await cluster.vosctl { _ = try $0.setParameter(.qosRTP, to: "40") }
        try await waitUntil(seconds: 5) { try cluster.nodeStore.read { try $0.rawRows(.parameters) }.count == 1 }
        let took = ContinuousClock.now - started
        #expect(took < .seconds(1), "took \(took)")
        #expect(follower.generation == pushed.generation)
        running.cancel()
        await running.value
        await cluster.close()
    }

    @Test func theFollowerSurvivesADatabaseOutage() async throws {
        let cluster = try await Cluster()
        let follower = ConfigurationFollower(database: cluster.database, store: cluster.nodeStore, logger: cluster.logger)
        let running = Task { await follower.run() }
        try await waitUntil(seconds: 5) { follower.lastSyncedAt != nil }

        try cluster.postgres.stop()
        try await Task.sleep(for: .seconds(2))
        try cluster.postgres.start()
        try await cluster.vosctl { _ = try $0.setParameter(.qosRTP, to: "40") }
        try await waitUntil(seconds: 10) { try cluster.nodeStore.read { try $0.rawRows(.parameters) }.count == 1 }
        running.cancel()
        await running.value
        await cluster.close()
    }

    /// Polls `condition` every 10 ms; fails the test after `seconds`.
    func waitUntil(seconds: Double, _ condition: () throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if try condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("condition not met within \(seconds) s")
        throw Failure("condition not met within \(seconds) s")
    }
}

/// Live limits in cluster mode are per-node shares, rebalanced from the nodes' heartbeats.
@Suite("Cluster limit shares against a real PostgreSQL", .serialized)
struct ClusterLimitShareTests {
    @Test func twoActiveNodesHalveEachLimitAndALostHeartbeatGivesTheWholeBack() async throws {
        let cluster = try await ConfigurationMirrorTests.Cluster()
        try await cluster.vosctl { transaction in
            var account = Account(name: "acme", kind: .postpaid)
            account.limitMoney = Money(whole: 1000)
            account.concurrentLimit = 3
            account.rateTable = "retail"
            try transaction.replaceRates(table: "retail", with: [RateEntry(prefix: "44", pricePerMinute: Money(units: 1200))])
            try transaction.addAccount(account)
            var vendor = RoutingGateway(name: "ven", address: SIPAddress(host: "198.51.100.7"), prefixes: ["44"])
            vendor.lineLimit = 5
            try transaction.addRoutingGateway(vendor)
        }
        try cluster.postgres.sql("""
            INSERT INTO nodes (node, version, started_at, heartbeat_at) VALUES
              ('node-a', 'test', now(), now()), ('node-b', 'test', now(), now()), ('gone', 'test', now(), now() - interval '5 minutes')
            """)
        let follower = ConfigurationFollower(database: cluster.database, store: cluster.nodeStore, logger: cluster.logger)
        try await follower.syncOnce()
        #expect(try cluster.nodeStore.read { try $0.clusterActiveNodes() } == 2, "the node gone for 5 minutes does not count")
        let before = try cluster.nodeStore.generation()
        let snapshot = try ControllerSnapshot.load(from: cluster.nodeStore)
        #expect(snapshot.routingGatewaysByName["ven"]?.lineLimit == 3, "the vendor's 5 lines are 3 on each of 2 nodes")

        // The account's limit of 3 is 2 on this node: the third call here is refused, naming the share.
        var refusal: CallRefusal?
        try cluster.nodeStore.write(changesConfiguration: false) { transaction in
            try transaction.adjustLeasedBalance(account: "acme", by: Money(whole: 100))
            for n in 1...3 {
                let request = CallAuthorizationRequest(key: "k\(n)", callID: "c\(n)", account: "acme", caller: "100", callee: "4420123",
                                                       mappingGateway: "cust", vendor: nil, now: 1_700_000_000_000)
                if case let .refused(reason) = try transaction.authorizeCall(request) { refusal = reason }
            }
        }
        let refused = try #require(refusal, "a third call on a node with a share of 2")
        #expect(refused.cause == .concurrentLimit && refused.detail.contains("this node's share of 3"))

        // A heartbeat that stops gives the share back: one node left, the whole limit again.
        try cluster.postgres.sql("UPDATE nodes SET heartbeat_at = now() - interval '5 minutes' WHERE node = 'node-a'")
        try await follower.syncOnce()
        #expect(try cluster.nodeStore.read { try $0.clusterActiveNodes() } == 1)
        #expect(try cluster.nodeStore.generation() > before, "the change of share reloads the controller's configuration")
        await cluster.close()
    }
}
