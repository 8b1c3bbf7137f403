import Logging
import Softswitch
import VOSModel
import VOSStore

/// Where the registrar's bindings and authentication suspensions are kept so they survive a
/// restart and vosctl can show them. Called on the event-loop thread; must not block it.
public protocol SubscriberStateStore: AnyObject {
    func record(_ change: RegistrationTable.Change)
    /// Stores a suspension (a configuration change: vosctl and the controller's reload see it);
    /// `stored` runs on any thread once it is durable, so the B2BUA can tell a suspension the
    /// operator lifted from one still being written.
    func suspend(_ suspension: GatewaySuspension, stored: @escaping @Sendable () -> Void)
}

/// The store-backed one: changes go to the `vos-subscribers` thread and are written in batches,
/// one transaction per batch, so a burst of REGISTERs costs one commit.
public final class StoreSubscriberState: SubscriberStateStore, @unchecked Sendable {
    // @unchecked: immutable after init; the thread owns the store writes.
    enum Item {
        case binding(RegistrationTable.Change)
        case suspension(GatewaySuspension, stored: @Sendable () -> Void)
    }

    private let store: Store
    private let logger: Logger
    private let thread = BatchingThread<Item>(name: "vos-subscribers")

    public init(store: Store, logger: Logger) {
        self.store = store
        self.logger = logger
        thread.start { [store, logger] batch in Self.write(batch, store: store, logger: logger) }
    }

    public func record(_ change: RegistrationTable.Change) { thread.enqueue(.binding(change)) }

    public func suspend(_ suspension: GatewaySuspension, stored: @escaping @Sendable () -> Void) {
        thread.enqueue(.suspension(suspension, stored: stored))
    }

    /// Waits for queued writes (shutdown).
    public func drain() -> Bool { thread.drain() }

    private static func write(_ batch: [Item], store: Store, logger: Logger) {
        let bindings = batch.compactMap { if case let .binding(change) = $0 { return change } else { return nil } }
        if !bindings.isEmpty {
            do {
                try store.write(changesConfiguration: false) { transaction in
                    for change in bindings {
                        switch change {
                        case let .saved(binding): try transaction.saveRegistrationBinding(binding)
                        case let .removed(username, contact): try transaction.deleteRegistrationBinding(username: username, contact: contact)
                        }
                    }
                }
            } catch {
                logger.error("cannot store \(bindings.count) registration changes: \(error); they hold in memory until the next REGISTER")
            }
        }
        for case let .suspension(suspension, stored) in batch {
            do {
                try store.write { try $0.saveGatewaySuspension(suspension) }
                stored()
            } catch {
                logger.error("cannot store the suspension of mapping gateway \(suspension.gateway): \(error); it holds in memory only")
                stored()
            }
        }
    }
}
