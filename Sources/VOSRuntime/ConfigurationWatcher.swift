import Dispatch
import Logging
import VOSStore

/// Polls the store's generation counter and calls back when vosctl (or anyone) committed a
/// configuration change. One read transaction per tick: LMDB readers never block writers.
public final class ConfigurationWatcher: @unchecked Sendable {
    // @unchecked: `lastSeen` is only touched on `queue`.
    private let store: Store
    private let interval: DispatchTimeInterval
    private let queue = DispatchQueue(label: "vos.configuration-watcher")
    private var timer: DispatchSourceTimer?
    private var lastSeen: UInt64
    private let onChange: @Sendable (UInt64) -> Void
    private let logger: Logger

    public init(store: Store, interval: DispatchTimeInterval = .seconds(1), logger: Logger,
                onChange: @escaping @Sendable (UInt64) -> Void) throws {
        self.store = store
        self.interval = interval
        self.logger = logger
        self.onChange = onChange
        self.lastSeen = try store.generation()
    }

    public func start() {
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler { [weak self] in self?.tick() }
        timer.resume()
        self.timer = timer
    }

    public func stop() {
        timer?.cancel()
        timer = nil
    }

    private func tick() {
        do {
            let current = try store.generation()
            guard current != lastSeen else { return }
            lastSeen = current
            onChange(current)
        } catch {
            logger.error("cannot read the configuration generation: \(error)")
        }
    }
}
