import Logging
import SIPStack
import VOSModel
import VOSStore

/// Where the dynamic blacklist's entries are kept so they outlive the controller and vosctl can
/// list and remove them. Called on the event-loop thread; must not block it. Only a new entry is
/// written, never a call's counts.
public protocol DynamicBlacklistJournal: AnyObject {
    /// Stores entries (each replacing its scope, target and number's row).
    func record(_ entries: [DynamicBlacklistEntry])
    /// The entries stored once everything recorded before this call is written, expired rows
    /// purged; nil when the store could not be read. `completion` runs on any thread.
    func storedEntries(completion: @escaping @Sendable ([DynamicBlacklistEntry]?) -> Void)
}

/// The store-backed journal: entries go to the `vos-blacklist` thread, a batch per transaction
/// (`changesConfiguration: false`: an entry is the controller's own state, not configuration),
/// and reads queue behind the writes before them, so a read tells which entries are gone from
/// the store because vosctl removed them.
public final class StoreDynamicBlacklistJournal: DynamicBlacklistJournal, @unchecked Sendable {
    // @unchecked: immutable after init; items reach the thread only through `BatchingThread`.
    enum Item {
        case record([DynamicBlacklistEntry])
        case read(@Sendable ([DynamicBlacklistEntry]?) -> Void)
    }

    private let thread = BatchingThread<Item>(name: "vos-blacklist")

    public init(store: Store, logger: Logger) {
        thread.start { batch in Self.write(batch, store: store, logger: logger) }
    }

    public func record(_ entries: [DynamicBlacklistEntry]) { thread.enqueue(.record(entries)) }

    public func storedEntries(completion: @escaping @Sendable ([DynamicBlacklistEntry]?) -> Void) {
        thread.enqueue(.read(completion))
    }

    /// Waits for queued writes (shutdown).
    @discardableResult
    public func drain(seconds: Double = 10) -> Bool { thread.drain(seconds: seconds) }

    private static func write(_ batch: [Item], store: Store, logger: Logger) {
        let now = MonotonicTime.wallMilliseconds()
        var reads: [@Sendable ([DynamicBlacklistEntry]?) -> Void] = []
        var stored: [DynamicBlacklistEntry]?
        do {
            stored = try store.write(changesConfiguration: false) { transaction in
                var wantsRead = false
                for item in batch {
                    switch item {
                    case let .record(entries):
                        for entry in entries { try transaction.saveDynamicBlacklistEntry(entry) }
                    case let .read(completion):
                        reads.append(completion)
                        wantsRead = true
                    }
                }
                try transaction.purgeDynamicBlacklistEntries(expiredAt: now)
                // One read after the batch's writes answers every read in it: reads only ever
                // need what was written before them.
                return wantsRead ? try transaction.dynamicBlacklistEntries(activeAt: now) : []
            }
        } catch {
            let count = batch.reduce(0) { count, item in if case let .record(entries) = item { count + entries.count } else { count } }
            logger.error("cannot store \(count) dynamic blacklist entries: \(error); they block in memory until they expire or the controller restarts")
            stored = nil
        }
        for completion in reads { completion(stored) }
    }
}
