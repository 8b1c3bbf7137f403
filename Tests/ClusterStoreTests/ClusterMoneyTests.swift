import CallControl
import ClusterStore
import Foundation
import Logging
import Testing
import VOSModel
import VOSStore
import VOSTestSupport

/// Cluster money and CDR shipping against a real PostgreSQL, with two LMDB stores as nodes n1 and
/// n2, each with the real store ledger behind a `ClusterCallLedger` and its own `QuotaLeaser` and
/// `OutboxShipper` (docs/CLUSTER.md "Money" and "CDRs"). What they prove: leases never hand out
/// more than balance + limit_money however many calls race on both nodes; every charge reaches
/// PostgreSQL exactly once, through an outage and through a batch shipped twice; and a crash
/// between a grant's two halves strands credit that `reconcile` gives back.
@Suite("Cluster money and CDR shipping against a real PostgreSQL", .serialized)
struct ClusterMoneyTests {
    final class Node: @unchecked Sendable {
        let name: String
        let path = NSTemporaryDirectory() + "vos-cluster-node-\(UUID().uuidString)"
        let store: Store
        let leaserDatabase: ClusterDatabase
        let shipperDatabase: ClusterDatabase
        let leaser: QuotaLeaser
        let shipper: OutboxShipper
        let inner: StoreCallLedger
        let ledger: ClusterCallLedger

        /// The same configuration as every other node: the account with no local credit and no
        /// local limit (the lease is its credit), the rate table, the lease slice.
        init(_ name: String, dsn: String, slice: String) throws {
            self.name = name
            store = try Store.initialize(directory: path).store
            try store.write { transaction in
                try transaction.joinCluster(as: name)
                try transaction.setParameter(.clusterLeaseSlice, to: slice)
                _ = try transaction.replaceRates(table: "retail", with: [RateEntry(prefix: "44", pricePerMinute: Money(whole: 1),
                                                                                   firstInterval: 6, nextInterval: 6)])
                for name in ["acme", "beta"] {
                    var account = Account(name: name, kind: .prepaid)
                    account.rateTable = "retail"
                    try transaction.addAccount(account)
                }
            }
            let logger = Logger(label: "test-\(name)")
            leaserDatabase = ClusterDatabase(dsn: try ClusterDSN(dsn), logger: logger)
            shipperDatabase = ClusterDatabase(dsn: try ClusterDSN(dsn), logger: logger)
            leaser = QuotaLeaser(database: leaserDatabase, store: store, node: name, logger: logger)
            shipper = OutboxShipper(database: shipperDatabase, store: store, node: name, logger: logger, version: "test")
            inner = StoreCallLedger(store: store, logger: logger)
            ledger = ClusterCallLedger(inner: inner, leaser: leaser)
        }

        func close() async {
            await leaserDatabase.close()
            await shipperDatabase.close()
            try? FileManager.default.removeItem(atPath: path)
        }

        func authorize(_ n: Int, account: String = "acme") async -> CallAuthorization {
            let request = ClusterMoneyTests.request(n, node: name, account: account)
            return await withCheckedContinuation { continuation in
                ledger.authorize(request, policy: ClusterMoneyTests.policy, clock: nil) { continuation.resume(returning: $0) }
            }
        }

        /// Settles call `n` after `seconds` connected (or records a refused one), then waits for
        /// the ledger's writes.
        func finish(_ n: Int, account: String = "acme", connectedSeconds seconds: Int?, reason: EndReason) {
            let key = seconds == nil ? nil : ClusterMoneyTests.request(n, node: name, account: account).key
            var draft = CallDetailRecord(id: 0, callID: "\(name)-call-\(n)", setupTime: 1_700_000_000_000,
                                         endTime: 1_700_000_001_000 + Int64(seconds ?? 0) * 1000,
                                         callerReceived: "100", calleeReceived: "4420123", mappingGateway: "customer",
                                         endReason: reason, sipCode: seconds == nil ? 403 : 200, hangupSide: .caller)
            draft.account = account
            if seconds != nil { draft.answerTime = 1_700_000_001_000 }
            ledger.finish(key, draft: draft, policy: ClusterMoneyTests.policy)
        }

        func local(_ account: String = "acme") throws -> (balance: Money, reserved: Money, liveCalls: Int) {
            try store.read { transaction in
                let reservation = try transaction.accountReservation(account)
                return (try transaction.requireAccount(named: account).balance, reservation.reserved, reservation.liveCalls)
            }
        }

        func counts() throws -> (cdrs: Int, history: Int, charges: Money, outbox: Int) {
            try store.read { transaction in
                let cdrs = try transaction.cdrs()
                let history = try transaction.count(.accountHistory)
                return (cdrs.count, history, cdrs.reduce(.zero) { $0 + $1.customerCost }, try transaction.count(.clusterOutbox))
            }
        }
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// Slices of 6 s beyond the first interval: each admission reserves 0.20 at 1.00/min.
    static let policy = ReservationPolicy(quotaSeconds: 6)

    static func request(_ n: Int, node: String, account: String) -> CallAuthorizationRequest {
        CallAuthorizationRequest(key: "\(node)-call-\(n)#1#\(n)", callID: "\(node)-call-\(n)", account: account, caller: "100",
                                 callee: "4420123", mappingGateway: "customer", vendor: nil, now: 1_700_000_000_000)
    }

    /// A cluster with `acme` at balance 5.0000 and limit 1.0000, `beta` at 3.0000, and two nodes.
    static func cluster(slice: String = "1.0000") async throws -> (TemporaryPostgres, Node, Node) {
        let pg = try TemporaryPostgres()
        let database = ClusterDatabase(dsn: try ClusterDSN(pg.dsn), logger: Logger(label: "test"))
        try await ClusterSchema.initialize(database)
        await database.close()
        try pg.sql("INSERT INTO balances (account, balance, limit_money) VALUES ('acme', 50000, 10000), ('beta', 30000, 0)")
        return (pg, try Node("n1", dsn: pg.dsn, slice: slice), try Node("n2", dsn: pg.dsn, slice: slice))
    }

    static func integer(_ pg: TemporaryPostgres, _ query: String) throws -> Int64 {
        let text = try pg.sql(query)
        guard let value = Int64(text) else { throw Failure(description: "'\(query)' gave '\(text)', not an integer") }
        return value
    }

    static func money(_ pg: TemporaryPostgres, _ query: String) throws -> Money { Money(units: try integer(pg, query)) }

    /// Every cluster-wide equality that must hold once both nodes shipped everything.
    static func expectShippedExactly(_ pg: TemporaryPostgres, nodes: [Node], initialBalance: Money,
                                     sourceLocation: SourceLocation = #_sourceLocation) throws {
        let local = try nodes.map { try $0.counts() }
        #expect(local.allSatisfy { $0.outbox == 0 }, "outboxes are empty", sourceLocation: sourceLocation)
        let balance = try money(pg, "SELECT balance FROM balances WHERE account = 'acme'")
        let shippedCharges = try money(pg, "SELECT COALESCE(-sum(amount), 0) FROM account_history WHERE kind = 'charge' AND account = 'acme'")
        let cdrCharges = local.reduce(Money.zero) { $0 + $1.charges }
        #expect(initialBalance - balance == cdrCharges, "the balance moved by the CDRs' charges", sourceLocation: sourceLocation)
        #expect(shippedCharges == cdrCharges, "the shipped history holds the CDRs' charges", sourceLocation: sourceLocation)
        #expect(try money(pg, "SELECT COALESCE(sum(customer_cost), 0) FROM cdrs") == cdrCharges, sourceLocation: sourceLocation)
        #expect(try integer(pg, "SELECT count(*) FROM cdrs") == Int64(local.reduce(0) { $0 + $1.cdrs }),
                "no CDR lost or doubled", sourceLocation: sourceLocation)
        #expect(try integer(pg, "SELECT count(*) FROM account_history") == Int64(local.reduce(0) { $0 + $1.history }),
                "no history entry lost or doubled", sourceLocation: sourceLocation)
        #expect(balance >= -(try money(pg, "SELECT limit_money FROM balances WHERE account = 'acme'")),
                "the balance never goes below -limit_money", sourceLocation: sourceLocation)
        try expectLeasesCoverLocalCredit(pg, nodes: nodes, sourceLocation: sourceLocation)
    }

    /// reserved = Σ leases ≤ balance + limit_money, and each node's local credit ≤ its lease.
    static func expectLeasesCoverLocalCredit(_ pg: TemporaryPostgres, nodes: [Node],
                                             sourceLocation: SourceLocation = #_sourceLocation) throws {
        let reserved = try money(pg, "SELECT reserved FROM balances WHERE account = 'acme'")
        let leases = try money(pg, "SELECT COALESCE(sum(amount), 0) FROM quota_leases WHERE account = 'acme'")
        let cap = try money(pg, "SELECT balance + limit_money FROM balances WHERE account = 'acme'")
        #expect(reserved == leases, "reserved is the sum of the leases", sourceLocation: sourceLocation)
        #expect(reserved <= max(cap, .zero), "leases never exceed balance + limit_money", sourceLocation: sourceLocation)
        for node in nodes {
            let lease = try money(pg, "SELECT COALESCE(sum(amount), 0) FROM quota_leases WHERE account = 'acme' AND node = '\(node.name)'")
            let local = try node.local()
            #expect(local.balance <= lease, "\(node.name): local credit \(local.balance) within its lease \(lease)", sourceLocation: sourceLocation)
            #expect(local.reserved <= local.balance, "\(node.name): live reservations within the local credit", sourceLocation: sourceLocation)
        }
    }

    @Test func concurrentCallsOnBothNodesNeverReserveMoreThanTheClusterHasAndEveryChargeShipsOnce() async throws {
        let (pg, n1, n2) = try await Self.cluster()
        defer { pg.destroy() }
        let nodes = [n1, n2]

        let verdicts = await withTaskGroup(of: (Int, CallAuthorization).self) { group in
            for n in 0..<100 {
                group.addTask { (n, await nodes[n % 2].authorize(n)) }
            }
            var all: [Int: CallAuthorization] = [:]
            for await (n, verdict) in group { all[n] = verdict }
            return all
        }
        let admitted = verdicts.filter { $0.value.deadline != nil }.map(\.key).sorted()
        let refusals = verdicts.compactMap { $0.value.refusal }
        #expect(verdicts.count == 100)
        #expect(Set(admitted.map { $0 % 2 }) == [0, 1], "both nodes leased credit and admitted calls")
        #expect(refusals.allSatisfy { $0.endReason == .accountBalanceNotEnough }, "\(Set(refusals.map(\.detail)).prefix(3))")
        // 6.0000 of credit at 0.20 a call: never more than 30 admitted.
        #expect(admitted.count <= 30, "\(admitted.count) admitted")
        try Self.expectLeasesCoverLocalCredit(pg, nodes: nodes)
        let liveReserved = try nodes.reduce(Money.zero) { $0 + (try $1.local().reserved) }
        #expect(liveReserved <= Money(whole: 6))
        #expect(try nodes.reduce(0) { $0 + (try $1.local().liveCalls) } == admitted.count)

        // Admitted calls talk for 10 s (0.20 each); refused ones get their CDR unbilled.
        for n in 0..<100 {
            nodes[n % 2].finish(n, connectedSeconds: admitted.contains(n) ? 10 : nil,
                                reason: admitted.contains(n) ? .calleeHangup : .accountBalanceNotEnough)
        }
        for node in nodes { #expect(node.inner.drain()) }
        #expect(try nodes.allSatisfy { try $0.local().liveCalls == 0 })
        for node in nodes { try await node.shipper.drain() }
        try Self.expectShippedExactly(pg, nodes: nodes, initialBalance: Money(whole: 5))
        #expect(try Self.money(pg, "SELECT balance FROM balances WHERE account = 'acme'")
                == Money(whole: 5) - Money(units: 2_000 * Int64(admitted.count)))

        for node in nodes { await node.close() }
    }

    @Test func requestsForOneAccountAtOnceShareALeaseRoundTrip() async throws {
        let (pg, n1, n2) = try await Self.cluster(slice: "100.0000")
        defer { pg.destroy() }
        let outcomes = await withTaskGroup(of: CreditLeaseOutcome.self) { group in
            for _ in 0..<100 { group.addTask { await n1.leaser.lease(account: "acme") } }
            var all: [CreditLeaseOutcome] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        // One round trip took all 6.0000; any later one found nothing left.
        let granted = outcomes.compactMap { if case .granted(let amount) = $0 { amount } else { nil } }
        #expect(Set(granted) == [Money(whole: 6)])
        #expect(granted.count > 1, "callers waiting at once shared the grant")
        #expect(n1.leaser.leaseRoundTrips < 20, "\(n1.leaser.leaseRoundTrips) round trips for 100 requests")
        #expect(outcomes.allSatisfy { $0 == .granted(amount: Money(whole: 6)) || $0 == .exhausted })
        #expect(try n1.local().balance == Money(whole: 6), "the grant landed in LMDB once")
        #expect(try Self.money(pg, "SELECT reserved FROM balances WHERE account = 'acme'") == Money(whole: 6))
        #expect(await n2.leaser.lease(account: "acme") == .exhausted, "the other node finds nothing free")
        for node in [n1, n2] { await node.close() }
    }

    @Test func anOutageLosesNothingRefusesUnleasedAccountsAndDrainsExactlyAfterwards() async throws {
        let (pg, n1, n2) = try await Self.cluster(slice: "2.0000")
        defer { pg.destroy() }
        let nodes = [n1, n2]
        for n in 0..<6 { #expect(await nodes[n % 2].authorize(n).deadline != nil, "call \(n)") }

        try pg.stop()
        // The calls settle while the database is down: shipping fails and keeps everything.
        for n in 0..<6 { nodes[n % 2].finish(n, connectedSeconds: 10 + n, reason: .calleeHangup) }
        for node in nodes { #expect(node.inner.drain()) }
        for node in nodes {
            await #expect(throws: (any Error).self) { try await node.shipper.shipOnce() }
            let counts = try node.counts()
            #expect(counts.cdrs == 3)
            #expect(counts.outbox == 3, "every charge waits in the outbox")
        }
        // Calls go on within the node's lease; an account it holds no lease of is refused.
        #expect(await n1.authorize(100).deadline != nil, "acme still has local credit on n1")
        let refusal = try #require(await n1.authorize(101, account: "beta").refusal)
        #expect(refusal.endReason == .clusterUnavailable)
        #expect(refusal.sipCode == 503)
        #expect(refusal.detail.contains("'beta'"))
        n1.finish(100, connectedSeconds: 7, reason: .calleeHangup)
        n1.finish(101, account: "beta", connectedSeconds: nil, reason: .clusterUnavailable)
        #expect(n1.inner.drain())

        try pg.start()
        for node in nodes { try await node.shipper.drain() }
        try Self.expectShippedExactly(pg, nodes: nodes, initialBalance: Money(whole: 5))
        #expect(try Self.integer(pg, "SELECT count(*) FROM cdrs") == 8)
        #expect(try Self.integer(pg, "SELECT count(DISTINCT node) FROM nodes") == 0, "no heartbeat was asked for")
        try await n1.shipper.heartbeat()
        #expect(try pg.sql("SELECT node || ' ' || outbox_rows || ' ' || unshipped_cdrs || ' ' || version FROM nodes") == "n1 0 0 test")
        for node in nodes { await node.close() }
    }

    @Test func aBatchShippedAgainAfterACrashBeforeTheOutboxDeleteChangesNothing() async throws {
        let (pg, n1, n2) = try await Self.cluster()
        defer { pg.destroy() }
        #expect(await n1.authorize(1).deadline != nil)
        n1.finish(1, connectedSeconds: 30, reason: .calleeHangup)
        #expect(n1.inner.drain())
        let entries = try n1.store.read { try $0.clusterOutbox(limit: 100) }
        #expect(entries.map(\.kind) == [.charge])
        try await n1.shipper.drain()
        let shipped = try pg.sql("SELECT balance || ' ' || reserved FROM balances WHERE account = 'acme'")
        let lease = try pg.sql("SELECT amount FROM quota_leases WHERE node = 'n1' AND account = 'acme'")
        #expect(try Self.money(pg, "SELECT balance FROM balances WHERE account = 'acme'") == Money(whole: 5) - Money(units: 5_000))

        // The crash: PostgreSQL committed, the outbox delete never happened.
        try n1.store.write(changesConfiguration: false) { transaction in
            for entry in entries {
                let id = withUnsafeBytes(of: entry.id.bigEndian) { Array($0) }
                try transaction.putRaw(.clusterOutbox, key: id, value: Array(entry.account.utf8) + [0] + id)
            }
        }
        #expect(try n1.counts().outbox == 1)
        #expect(try await n1.shipper.shipOnce().entries == 1, "the batch is shipped again")
        #expect(try n1.counts().outbox == 0)
        #expect(try pg.sql("SELECT balance || ' ' || reserved FROM balances WHERE account = 'acme'") == shipped)
        #expect(try pg.sql("SELECT amount FROM quota_leases WHERE node = 'n1' AND account = 'acme'") == lease)
        try Self.expectShippedExactly(pg, nodes: [n1, n2], initialBalance: Money(whole: 5))
        for node in [n1, n2] { await node.close() }
    }

    @Test func theBackgroundLoopsShipHeartbeatAndRefreshUntilCancelled() async throws {
        let (pg, n1, n2) = try await Self.cluster()
        defer { pg.destroy() }
        let shipping = Task { await n1.shipper.run(interval: .milliseconds(50)) }
        let leasing = Task { await n1.leaser.run(interval: .milliseconds(50)) }
        #expect(await n1.authorize(1).deadline != nil)
        n1.finish(1, connectedSeconds: 10, reason: .calleeHangup)
        #expect(n1.inner.drain())
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline,
              try Self.integer(pg, "SELECT count(*) FROM cdrs") == 0 || n1.leaser.clusterBalances()["acme"]?.balance != Money(units: 48_000)
              || pg.sql("SELECT node || ' ' || outbox_rows FROM nodes") != "n1 0" {
            try await Task.sleep(for: .milliseconds(50))
        }
        shipping.cancel()
        leasing.cancel()
        await shipping.value
        await leasing.value
        #expect(try Self.integer(pg, "SELECT count(*) FROM cdrs") == 1)
        #expect(try pg.sql("SELECT node || ' ' || outbox_rows FROM nodes") == "n1 0")
        #expect(n1.leaser.clusterBalances()["acme"]?.balance == Money(units: 48_000))
        try Self.expectShippedExactly(pg, nodes: [n1, n2], initialBalance: Money(whole: 5))
        for node in [n1, n2] { await node.close() }
    }

    @Test func reconcileGivesBackCreditStrandedBetweenAGrantsTwoHalvesAndIdleCreditGoesBack() async throws {
        let (pg, n1, n2) = try await Self.cluster()
        defer { pg.destroy() }
        #expect(await n1.leaser.lease(account: "acme") == .granted(amount: Money(whole: 1)))
        // The crash: PostgreSQL granted 2.0000 more, the node died before its LMDB write.
        try pg.sql("""
            UPDATE balances SET reserved = reserved + 20000 WHERE account = 'acme';
            UPDATE quota_leases SET amount = amount + 20000 WHERE node = 'n1' AND account = 'acme'
            """)
        #expect(try n1.local().balance == Money(whole: 1))
        #expect(try await n1.leaser.reconcile())
        #expect(try n1.local().balance == Money(whole: 3), "the local credit is the lease again")
        #expect(try n2.local().balance == .zero)
        try Self.expectLeasesCoverLocalCredit(pg, nodes: [n1, n2])

        // With balance changes not shipped, the local balance is not the lease: refused.
        #expect(await n1.authorize(1).deadline != nil)
        n1.finish(1, connectedSeconds: 10, reason: .calleeHangup)
        #expect(n1.inner.drain())
        await #expect(throws: ClusterError.self) { try await n1.leaser.reconcile() }
        try await n1.shipper.drain()
        #expect(try await n1.leaser.reconcile())
        #expect(try n1.local().balance == Money(units: 28_000))

        // Idle: LMDB emptied, then the lease and the reservation given back.
        #expect(await n1.leaser.handBackIdleLeases(idleFor: .zero) == Money(units: 28_000))
        #expect(try n1.local().balance == .zero)
        #expect(try Self.integer(pg, "SELECT count(*) FROM quota_leases") == 0)
        #expect(try Self.money(pg, "SELECT reserved FROM balances WHERE account = 'acme'") == .zero)
        #expect(try Self.money(pg, "SELECT balance FROM balances WHERE account = 'acme'") == Money(units: 48_000))
        // A touched account keeps its credit.
        #expect(await n1.leaser.lease(account: "acme") == .granted(amount: Money(whole: 1)))
        n1.leaser.touch(account: "acme")
        #expect(await n1.leaser.handBackIdleLeases(idleFor: .seconds(60)) == .zero)
        #expect(try n1.local().balance == Money(whole: 1))

        try await n1.leaser.refreshClusterBalances()
        let cached = try #require(n1.leaser.clusterBalances()["acme"])
        #expect(cached.balance == Money(units: 48_000))
        #expect(cached.limitMoney == Money(whole: 1))
        for node in [n1, n2] { await node.close() }
    }
}
