import PostgresNIO

/// The cluster database's tables and their version (docs/CLUSTER.md "Schema and versions").
/// Money is stored as `bigint` in `Money` units (1/10000), exactly as LMDB holds it, so no rounding
/// happens between a node and the database.
public enum ClusterSchema {
    /// The version this vos writes and reads. A database at another version is refused.
    public static let version = 1

    /// Statements creating version 1, run in one transaction by `vosctl cluster init`.
    static let createVersion1: [String] = [
        "CREATE TABLE vos_schema (id int PRIMARY KEY CHECK (id = 1), version int NOT NULL, created_at timestamptz NOT NULL DEFAULT now())",
        // Configuration: one row per LMDB configuration row, keyed as in LMDB. A NULL value is a
        // deletion, kept so a node that was away learns of it. `generation` orders every change.
        "CREATE TABLE config_generation (id int PRIMARY KEY CHECK (id = 1), generation bigint NOT NULL)",
        "INSERT INTO config_generation VALUES (1, 0)",
        """
        CREATE TABLE config_rows (tbl text NOT NULL, key bytea NOT NULL, value bytea, generation bigint NOT NULL,
                                  PRIMARY KEY (tbl, key))
        """,
        "CREATE INDEX config_rows_by_generation ON config_rows (generation)",
        // Money. `reserved` is the sum of every node's lease of the account.
        """
        CREATE TABLE balances (account text PRIMARY KEY, balance bigint NOT NULL DEFAULT 0,
                               limit_money bigint NOT NULL DEFAULT 0, reserved bigint NOT NULL DEFAULT 0,
                               locked boolean NOT NULL DEFAULT false, updated_at timestamptz NOT NULL DEFAULT now(),
                               CHECK (reserved >= 0))
        """,
        """
        CREATE TABLE quota_leases (node text NOT NULL, account text NOT NULL, amount bigint NOT NULL,
                                   updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (node, account),
                                   CHECK (amount >= 0))
        """,
        // What each node shipped: keyed by the node and the id it had there, so shipping twice inserts once.
        """
        CREATE TABLE cdrs (seq bigserial UNIQUE, node text NOT NULL, cdr_id bigint NOT NULL, call_id text NOT NULL,
                           account text, setup_time bigint NOT NULL, end_reason text NOT NULL,
                           customer_cost bigint NOT NULL, vendor_cost bigint NOT NULL,
                           record bytea NOT NULL, shipped_at timestamptz NOT NULL DEFAULT now(),
                           PRIMARY KEY (node, cdr_id))
        """,
        "CREATE INDEX cdrs_by_setup_time ON cdrs (setup_time)",
        """
        CREATE TABLE account_history (seq bigserial UNIQUE, node text NOT NULL, entry_id bigint NOT NULL,
                                      account text NOT NULL, time bigint NOT NULL, kind text NOT NULL,
                                      amount bigint NOT NULL, cdr_id bigint, record bytea NOT NULL,
                                      PRIMARY KEY (node, entry_id))
        """,
        "CREATE INDEX account_history_by_account ON account_history (account, seq)",
        // Entries vosctl makes (top-ups, adjustments) take their ids from here, under node 'vosctl'.
        "CREATE SEQUENCE vosctl_history_ids",
        """
        CREATE TABLE nodes (node text PRIMARY KEY, version text NOT NULL, started_at timestamptz NOT NULL,
                            heartbeat_at timestamptz NOT NULL, outbox_rows bigint NOT NULL DEFAULT 0,
                            unshipped_cdrs bigint NOT NULL DEFAULT 0, config_generation bigint NOT NULL DEFAULT 0)
        """,
    ]

    /// The version stored in the database, or nil when it holds no vos schema.
    public static func storedVersion(_ database: ClusterDatabase) async throws(ClusterError) -> Int? {
        let exists = try await database.query("SELECT to_regclass('vos_schema') IS NOT NULL", "read the schema version")
        guard let first = exists.first, (try? first.decode(Bool.self)) == true else { return nil }
        let rows = try await database.query("SELECT version FROM vos_schema WHERE id = 1", "read the schema version")
        guard let row = rows.first, let version = try? row.decode(Int.self) else { return nil }
        return version
    }

    /// Refuses a database this vos cannot use, naming both versions.
    public static func check(_ database: ClusterDatabase) async throws(ClusterError) {
        guard let found = try await storedVersion(database) else {
            throw ClusterError.schemaVersion(found: 0, supported: version,
                                             advice: "the database has no vos schema yet: run `vosctl --cluster-dsn DSN cluster init`")
        }
        try verify(found: found)
    }

    static func verify(found: Int) throws(ClusterError) {
        if found > version {
            throw ClusterError.schemaVersion(found: found, supported: version,
                                             advice: "the database is newer than this vos: upgrade vos first")
        }
        if found < version {
            throw ClusterError.schemaVersion(found: found, supported: version,
                                             advice: "the database is older than this vos: migrate it first (`vosctl cluster migrate`)")
        }
    }

    /// Creates the schema if the database has none (idempotent; two inits at once serialise on an
    /// advisory lock). Returns whether it created it.
    @discardableResult
    public static func initialize(_ database: ClusterDatabase) async throws -> Bool {
        try await database.transaction("create the vos schema") { transaction in
            try await transaction.query("SELECT pg_advisory_xact_lock(\(advisoryLockKey))")
            let exists = try await transaction.query("SELECT to_regclass('vos_schema') IS NOT NULL")
            if let row = exists.first, try row.decode(Bool.self) {
                let stored = try await transaction.query("SELECT version FROM vos_schema WHERE id = 1")
                if let found = try stored.first?.decode(Int.self) { try verify(found: found) }
                return false
            }
            for statement in createVersion1 { try await transaction.query(PostgresQuery(unsafeSQL: statement)) }
            try await transaction.query("INSERT INTO vos_schema (id, version) VALUES (1, \(version))")
            return true
        }
    }

    /// One key for schema changes and configuration writes: vosctl writers take it for the whole
    /// read-modify-write, so two of them at once run one after the other.
    public static let advisoryLockKey: Int64 = 0x766F_735F_6366_6701
}
