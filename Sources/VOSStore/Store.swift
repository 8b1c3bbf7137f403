import CLMDB
import Foundation
import VOSModel

/// VOSStore owns the LMDB environment shared by vosctl, vos-controller and vos-mediad: typed
/// tables, transactions, the schema version, the change generation, backup and restore.
/// It must not know SIP or packets, and it never decides policy: callers validate with VOSModel.
///
/// LMDB gives one writer at a time across processes and lock-free readers, so a daemon's reads
/// never wait for vosctl. Every write is one transaction: a thrown error aborts it and leaves the
/// store exactly as it was.
public final class Store: @unchecked Sendable {
    // @unchecked: an MDB_env is thread-safe; opened with MDB_NOTLS, read transactions are not tied
    // to threads. `databases` is written once in init; `writeRefusal` is set right after opening,
    // before the handle is shared, so every write reads it without a lock.
    public static let schemaVersion = 1
    static let dataFileName = "data.mdb"
    /// Address space only: LMDB grows the file as it fills, up to this.
    static let defaultMapSize = 16 << 30

    public let directory: String
    let environment: OpaquePointer
    private(set) var databases: [Table: MDB_dbi] = [:]
    /// Why this handle may only read (vosctl without --cluster-dsn on a cluster node's data
    /// directory); every `write` then throws it. nil, the default, allows writes. Set it before
    /// the handle is shared with other threads.
    public var writeRefusal: String?

    /// How commits reach the disk.
    public enum Durability: Sendable {
        /// fsync on every commit: what vosctl uses, one change at a time.
        case synchronous
        /// Commits reach the OS at once (so they survive the process being killed) and the disk
        /// when `flush()` runs: what the controller uses so a call's writes never wait for a disk.
        case flushedPeriodically
    }

    /// Opens an initialised store; refuses a missing or other-schema one.
    public convenience init(directory: String, durability: Durability = .synchronous) throws {
        guard FileManager.default.fileExists(atPath: Store.dataFilePath(in: directory)) else {
            throw StoreError.notInitialized(path: directory)
        }
        try self.init(directory: directory, creating: false, durability: durability)
    }

    /// Creates the store if needed (idempotent) and returns it with whether it was new.
    public static func initialize(directory: String) throws -> (store: Store, created: Bool) {
        let existed = FileManager.default.fileExists(atPath: dataFilePath(in: directory))
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError.io(path: directory, reason: "cannot create the data directory: \(error.localizedDescription)")
        }
        let store = try Store(directory: directory, creating: true)
        return (store, !existed)
    }

    static func dataFilePath(in directory: String) -> String {
        (directory as NSString).appendingPathComponent(dataFileName)
    }

    private init(directory: String, creating: Bool, durability: Durability = .synchronous) throws {
        self.directory = directory
        var env: OpaquePointer?
        try Store.check(mdb_env_create(&env), "create environment")
        guard let env else { throw StoreError.lmdb(operation: "create environment", code: -1, message: "no environment returned") }
        environment = env
        do {
            try Store.check(mdb_env_set_maxdbs(env, MDB_dbi(Table.allCases.count + 8)), "set max databases")
            try Store.check(mdb_env_set_mapsize(env, Store.defaultMapSize), "set map size")
            let flags = UInt32(MDB_NOTLS) | (durability == .flushedPeriodically ? UInt32(MDB_NOSYNC) : 0)
            try Store.check(mdb_env_open(env, directory, flags, 0o640), "open \(directory)")
            // Reader slots of processes killed mid-read would otherwise pin old pages forever.
            var dead: Int32 = 0
            mdb_reader_check(env, &dead)
            try openDatabases(creating: creating)
        } catch {
            // Every stored property is set, so deinit runs and closes the environment.
            throw error
        }
    }

    /// LMDB forbids opening one environment twice in a process (its advisory locks would
    /// break), so each program holds exactly one Store per data directory.
    deinit { mdb_env_close(environment) }

    private func openDatabases(creating: Bool) throws {
        var txn: OpaquePointer?
        try Store.check(mdb_txn_begin(environment, nil, 0, &txn), "begin schema transaction")
        guard let txn else { throw StoreError.lmdb(operation: "begin", code: -1, message: "no transaction") }
        do {
            for table in Table.allCases {
                var dbi: MDB_dbi = 0
                try Store.check(mdb_dbi_open(txn, table.rawValue, UInt32(MDB_CREATE), &dbi), "open table \(table.rawValue)")
                databases[table] = dbi
            }
            let transaction = Transaction(txn: txn, store: self, readOnly: false)
            if let stored = try transaction.metaInteger(MetaKey.schemaVersion) {
                guard stored == UInt64(Store.schemaVersion) else {
                    throw StoreError.schemaMismatch(path: directory, found: Int(stored), expected: Store.schemaVersion)
                }
            } else if creating {
                try transaction.setMetaInteger(MetaKey.schemaVersion, UInt64(Store.schemaVersion))
                try transaction.setMetaInteger(MetaKey.generation, 1)
            } else {
                throw StoreError.notInitialized(path: directory)
            }
            try Store.check(mdb_txn_commit(txn), "commit schema transaction")
        } catch {
            mdb_txn_abort(txn)
            throw error
        }
    }

    func database(_ table: Table) -> MDB_dbi {
        // Every Table case is opened in init, so the lookup cannot miss.
        databases[table] ?? 0
    }

    /// Runs `body` in a read-only snapshot.
    public func read<Result>(_ body: (Transaction) throws -> Result) throws -> Result {
        var txn: OpaquePointer?
        try Store.check(mdb_txn_begin(environment, nil, UInt32(MDB_RDONLY), &txn), "begin read")
        guard let txn else { throw StoreError.lmdb(operation: "begin read", code: -1, message: "no transaction") }
        defer { mdb_txn_abort(txn) }
        return try body(Transaction(txn: txn, store: self, readOnly: true))
    }

    /// Runs `body` in a write transaction, committed only if it returns. With
    /// `changesConfiguration`, the generation counter is bumped so running daemons reload.
    @discardableResult
    public func write<Result>(changesConfiguration: Bool = true, _ body: (Transaction) throws -> Result) throws -> Result {
        if let reason = writeRefusal { throw StoreError.conflict(reason) }
        var txn: OpaquePointer?
        try Store.check(mdb_txn_begin(environment, nil, 0, &txn), "begin write")
        guard let txn else { throw StoreError.lmdb(operation: "begin write", code: -1, message: "no transaction") }
        let transaction = Transaction(txn: txn, store: self, readOnly: false)
        let result: Result
        do {
            result = try body(transaction)
            if changesConfiguration { try transaction.bumpGeneration() }
        } catch {
            mdb_txn_abort(txn)
            throw error
        }
        try Store.check(mdb_txn_commit(txn), "commit")
        return result
    }

    /// Forces committed data to disk (for `.flushedPeriodically`); safe from any thread.
    public func flush() throws {
        try Store.check(mdb_env_sync(environment, 1), "flush to disk")
    }

    /// The configuration generation: daemons poll this (one cheap read) and reload when it moves.
    public func generation() throws -> UInt64 {
        try read { try $0.metaInteger(MetaKey.generation) ?? 0 }
    }

    static func check(_ code: Int32, _ operation: @autoclosure () -> String) throws(StoreError) {
        guard code == 0 else {
            let message = mdb_strerror(code).map { String(cString: $0) } ?? "unknown error"
            throw StoreError.lmdb(operation: operation(), code: code, message: message)
        }
    }
}

enum MetaKey {
    static let schemaVersion = "schema_version"
    static let generation = "generation"
    static let nextCDRID = "next_cdr_id"
}
