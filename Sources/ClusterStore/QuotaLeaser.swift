import Foundation
import Logging
import PostgresNIO
import VOSModel
import VOSStore

/// Credit leases of one cluster node (docs/CLUSTER.md "Money"). In cluster mode an account's LMDB
/// balance on a node is the credit that node leased from PostgreSQL (its local `limitMoney` is 0),
/// so the unchanged LMDB admission keeps the node's live reservations within its lease, and the
/// leases, granted by a conditional UPDATE, keep every node together within balance + limit_money.
///
/// The order of the two writes keeps a node's local balance at or under its lease whatever
/// crashes in between: a grant commits in PostgreSQL first and then in LMDB, a hand-back empties
/// LMDB first and then PostgreSQL. A crash therefore only strands credit in a lease, which
/// `reconcile` gives back to the node at its next start. Consumption is the shipper's
/// (`OutboxShipper` lowers the lease as it ships charges); this file never writes history, CDRs or
/// the outbox, and never changes an account's configuration (limit, status, rate table).
///
/// It is CallControl's `CreditLeaser` (VOSModel), so the controller hands it to
/// `ClusterCallLedger` as it is.
public final class QuotaLeaser: CreditLeaser, @unchecked Sendable {
    // @unchecked: the dictionaries are guarded by `lock`; database work goes through `gate`.
    public let node: String
    private let database: ClusterDatabase
    private let store: Store
    private let logger: Logger
    /// Every statement and every LMDB balance move of this leaser, one at a time: the connection
    /// is shared, and reconcile must not run between a grant's two halves.
    private let gate = SerialGate()
    private let lock = NSLock()
    /// Callers waiting for a round trip already under way for their account.
    private var waiting: [String: [@Sendable (CreditLeaseOutcome) -> Void]] = [:]
    private var lastTouch: [String: ContinuousClock.Instant] = [:]
    /// Credit emptied from LMDB whose PostgreSQL half has not committed yet (retried each pass).
    private var unreturned: [String: Money] = [:]
    private var balances: [String: ClusterBalance] = [:]
    private var balancesUnavailable = false
    private var roundTrips = 0
    /// An account nobody touched since start counts as touched at start.
    private let started = ContinuousClock.now

    /// `database` must be this leaser's own connection (docs/CLUSTER.md: each part holds one).
    public init(database: ClusterDatabase, store: Store, node: String, logger: Logger) {
        self.database = database
        self.store = store
        self.node = node
        self.logger = logger
    }

    // MARK: Leasing

    /// Leases one slice (`SS_CLUSTER_LEASE_SLICE`, less when less is free) into the node's LMDB
    /// balance of `account` and calls `completion` from a task. Requests for an account that
    /// arrive while its round trip is under way share that round trip and its outcome.
    public func lease(account: String, completion: @escaping @Sendable (CreditLeaseOutcome) -> Void) {
        let isFirst = lock.withLock { () -> Bool in
            if waiting[account] != nil {
                waiting[account]?.append(completion)
                return false
            }
            waiting[account] = [completion]
            return true
        }
        guard isFirst else { return }
        Task {
            let outcome = await gate.run { await grant(account: account) }
            let callers = lock.withLock { waiting.removeValue(forKey: account) ?? [] }
            for caller in callers { caller(outcome) }
        }
    }

    /// `lease(account:completion:)` for async callers.
    public func lease(account: String) async -> CreditLeaseOutcome {
        await withCheckedContinuation { continuation in
            lease(account: account) { continuation.resume(returning: $0) }
        }
    }

    /// How many grant round trips this leaser made (requests that shared one count once).
    public var leaseRoundTrips: Int { lock.withLock { roundTrips } }

    /// Notes that `account` placed a call, so its idle lease is not handed back yet.
    public func touch(account: String) {
        let now = ContinuousClock.now
        lock.withLock { lastTouch[account] = now }
    }

    /// One grant: the conditional UPDATE and the lease row in one statement (so one round trip
    /// and one implicit transaction), then the LMDB balance.
    private func grant(account: String) async -> CreditLeaseOutcome {
        let slice: Money
        do {
            slice = try store.read { try $0.parameters().money(.clusterLeaseSlice) }
        } catch {
            return .unavailable(reason: "cannot read \(SystemParameter.clusterLeaseSlice.rawValue) from the local store: \(error)")
        }
        guard slice > .zero else {
            logger.warning("cluster: \(SystemParameter.clusterLeaseSlice.rawValue) is \(slice): no credit is leased for account '\(account)'")
            return .exhausted
        }
        // FOR UPDATE in the subquery locks the balance row first (the order every writer of
        // balances and quota_leases keeps) and recomputes the free credit from its newest version.
        let query: PostgresQuery = """
            WITH granted AS (
                UPDATE balances AS b SET reserved = b.reserved + free.amount, updated_at = now()
                  FROM (SELECT account, LEAST(\(slice.units), balance + limit_money - reserved) AS amount
                          FROM balances
                         WHERE account = \(account) AND NOT locked AND balance + limit_money - reserved > 0
                           FOR UPDATE) AS free
                 WHERE b.account = free.account
             RETURNING free.amount),
            leased AS (
                INSERT INTO quota_leases (node, account, amount)
                SELECT \(node), \(account), amount FROM granted
                ON CONFLICT (node, account) DO UPDATE SET amount = quota_leases.amount + excluded.amount, updated_at = now())
            SELECT amount FROM granted
            """
        let amount: Money
        lock.withLock { roundTrips += 1 }
        do {
            let rows = try await database.query(query, "lease credit for account '\(account)'")
            guard let row = rows.first else { return .exhausted }
            amount = Money(units: try row.decode(Int64.self))
        } catch {
            return .unavailable(reason: "\(error)")
        }
        do {
            try store.write(changesConfiguration: false) { try $0.adjustLeasedBalance(account: account, by: amount) }
        } catch {
            // PostgreSQL holds the lease but the node cannot use it: stranded until reconcile.
            logger.error("cluster: leased \(amount) for account '\(account)' but cannot add it to the local balance (held by this node until the next start reconciles it): \(error)")
            return .unavailable(reason: "the local store refused the leased credit: \(error)")
        }
        logger.debug("cluster: leased \(amount) for account '\(account)'")
        return .granted(amount: amount)
    }

    // MARK: Start-up

    /// Sets every account's local balance to this node's lease of it (0 where it holds none), in
    /// one LMDB transaction, giving back to the node what a crash stranded. Run at start, before
    /// calls, once the outbox is shipped (the local balance is the lease minus what is not
    /// shipped, so with an outbox it would refuse). Leases of accounts this store does not have
    /// are handed back. Returns false, changing nothing, when the database is unreachable.
    @discardableResult
    public func reconcile() async throws -> Bool {
        try await gate.run {
            let rows: [PostgresRow]
            do {
                rows = try await database.query("SELECT account, amount FROM quota_leases WHERE node = \(node)",
                                                "read the credit leases of node '\(node)'")
            } catch {
                logger.warning("cluster: cannot reconcile credit leases, keeping the local balances: \(error)")
                return false
            }
            var leases: [String: Money] = [:]
            for row in rows {
                let (account, units) = try row.decode((String, Int64).self)
                leases[account] = Money(units: units)
            }
            let (changed, unknown) = try store.write(changesConfiguration: false) { transaction -> (Int, [String]) in
                let unshipped = try transaction.count(.clusterOutbox)
                guard unshipped == 0 else {
                    throw ClusterError.conflict("cannot reconcile the credit leases of node '\(node)': \(unshipped) balance changes are not shipped yet (drain the outbox first)")
                }
                var changed = 0
                var local = Set<String>()
                for account in try transaction.accounts() {
                    local.insert(account.name)
                    let lease = leases[account.name] ?? .zero
                    if account.balance != lease {
                        try transaction.setLeasedBalance(account: account.name, to: lease)
                        changed += 1
                    }
                }
                return (changed, leases.keys.filter { !local.contains($0) }.sorted())
            }
            lock.withLock {
                // The balances now equal the leases, credit emptied but not returned included.
                unreturned = [:]
                for account in unknown { unreturned[account] = leases[account] }
            }
            if changed > 0 { logger.info("cluster: set the local credit of \(changed) accounts to this node's leases") }
            if !unknown.isEmpty {
                logger.warning("cluster: node '\(node)' holds leases of accounts this store does not have (\(unknown.joined(separator: ", "))): handing them back")
                _ = await returnUnreturned()
            }
            return true
        }
    }

    // MARK: Hand-back and cached balances

    /// Gives back the local credit of accounts no call touched for `idleFor` (default
    /// `SS_CLUSTER_LEASE_IDLE_SECONDS`) and with no live call: LMDB emptied first, then the lease
    /// lowered in PostgreSQL. Returns what PostgreSQL took back in this pass.
    @discardableResult
    public func handBackIdleLeases(idleFor: Duration? = nil) async -> Money {
        await gate.run {
            let idle: Duration
            let accounts: [String]
            do {
                (idle, accounts) = try store.read { transaction in
                    let configured = Duration.seconds(try transaction.parameters().int(.clusterLeaseIdleSeconds))
                    return (idleFor ?? configured, try transaction.accounts().filter { $0.balance > .zero }.map(\.name))
                }
            } catch {
                logger.error("cluster: cannot read the local credit to hand idle leases back: \(error)")
                return .zero
            }
            let now = ContinuousClock.now
            let idleAccounts = lock.withLock {
                accounts.filter { waiting[$0] == nil && now - (lastTouch[$0] ?? started) >= idle }
            }
            for account in idleAccounts {
                do {
                    let taken = try store.write(changesConfiguration: false) { try $0.takeIdleLeasedBalance(account: account) }
                    if taken > .zero { lock.withLock { unreturned[account, default: .zero] += taken } }
                } catch {
                    logger.error("cluster: cannot empty the idle local credit of account '\(account)': \(error)")
                }
            }
            return await returnUnreturned()
        }
    }

    /// The PostgreSQL half of hand-backs; what fails stays in `unreturned` for the next pass.
    /// Never more than the lease: credit above it (a local refund) was never leased.
    private func returnUnreturned() async -> Money {
        let pending = lock.withLock { unreturned }
        var total = Money.zero
        for (account, amount) in pending.sorted(by: { $0.key < $1.key }) {
            do {
                let returned = try await database.transaction("hand back the idle credit lease of account '\(account)'") { transaction -> Money in
                    try await transaction.query("SELECT 1 FROM balances WHERE account = \(account) FOR UPDATE")
                    let rows = try await transaction.query(
                        "SELECT amount FROM quota_leases WHERE node = \(node) AND account = \(account) FOR UPDATE")
                    let lease = try rows.first.map { Money(units: try $0.decode(Int64.self)) } ?? .zero
                    let returned = min(amount, lease)
                    guard returned > .zero else { return .zero }
                    try await transaction.query("""
                        UPDATE quota_leases SET amount = amount - \(returned.units), updated_at = now()
                         WHERE node = \(node) AND account = \(account)
                        """)
                    try await transaction.query("DELETE FROM quota_leases WHERE node = \(node) AND account = \(account) AND amount = 0")
                    try await transaction.query("""
                        UPDATE balances SET reserved = GREATEST(0, reserved - \(returned.units)), updated_at = now()
                         WHERE account = \(account)
                        """)
                    return returned
                }
                lock.withLock {
                    let left = (unreturned[account] ?? .zero) - amount
                    unreturned[account] = left > .zero ? left : nil
                }
                total += returned
                if returned > .zero { logger.debug("cluster: handed back \(returned) of account '\(account)'") }
            } catch {
                logger.warning("cluster: cannot hand back \(amount) of account '\(account)' yet (retried): \(error)")
            }
        }
        return total
    }

    /// Reads every account's cluster balance, limit and leased total into the cache
    /// `clusterBalances` serves.
    public func refreshClusterBalances() async throws {
        let fresh = try await gate.run { () -> [String: ClusterBalance] in
            let rows = try await database.query("SELECT account, balance, limit_money, reserved FROM balances", "read the cluster balances")
            var fresh: [String: ClusterBalance] = [:]
            for row in rows {
                let (account, balance, limit, reserved) = try row.decode((String, Int64, Int64, Int64).self)
                fresh[account] = ClusterBalance(balance: Money(units: balance), limitMoney: Money(units: limit), reserved: Money(units: reserved))
            }
            return fresh
        }
        lock.withLock { balances = fresh }
    }

    // MARK: Top-up

    /// Leases more for accounts with live calls on this node whose unreserved local credit fell
    /// under half a slice, so a long call's next credit slice finds it here instead of ending the
    /// call (BalanceExhausted) while the cluster still has money. Returns the accounts asked for.
    @discardableResult
    public func topUpLowLeases() -> [String] {
        // Only accounts that placed a call since start can have live calls here: every admission
        // touches its account first, so the pass never decodes the whole accounts table.
        let callers = lock.withLock { Array(lastTouch.keys) }
        guard !callers.isEmpty else { return [] }
        let low: [String]
        do {
            low = try store.read { transaction -> [String] in
                let half = Money(units: try transaction.parameters().money(.clusterLeaseSlice).units / 2)
                return try callers.filter { name in
                    guard let account = try transaction.account(named: name) else { return false }
                    let held = try transaction.accountReservation(name)
                    return held.liveCalls > 0 && account.balance - held.reserved < half
                }
            }
        } catch {
            logger.error("cluster: cannot read the local credit to top leases up: \(error)")
            return []
        }
        for account in low { lease(account: account) { _ in } }
        return low
    }

    /// The cluster's balances as last read (every `run` interval), for vendor-balance checks and
    /// the controller's account metrics.
    public func clusterBalances() -> [String: ClusterBalance] {
        lock.withLock { balances }
    }

    /// Until cancelled: refreshes the cached balances and hands idle leases back every
    /// `interval`. During an outage the node keeps its credit, so its calls go on within it.
    public func run(interval: Duration = .seconds(5)) async {
        let topUps = Task {
            while !Task.isCancelled {
                topUpLowLeases()
                try? await Task.sleep(for: .seconds(1))
            }
        }
        defer { topUps.cancel() }
        while !Task.isCancelled {
            do {
                try await refreshClusterBalances()
                if lock.withLock({ balancesUnavailable }) {
                    logger.info("cluster: the cluster database answers again; credit leases resume")
                }
                lock.withLock { balancesUnavailable = false }
                await handBackIdleLeases()
            } catch {
                let first = lock.withLock { () -> Bool in
                    defer { balancesUnavailable = true }
                    return !balancesUnavailable
                }
                if first { logger.warning("cluster: cannot read the cluster balances; keeping local credit until it answers: \(error)") }
            }
            try? await Task.sleep(for: interval)
        }
    }
}
