import CVOSSys
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One named helper thread of the controller (`vos-ledger`, `media-create`, `media-release`):
/// callers queue items and go on; the thread takes everything queued since its last turn as one
/// batch, in order, so a busy moment costs one transaction or one pipelined write, not one per
/// item. `drain()` waits until what was queued before it has been handled.
///
/// The thread runs at nice +5 under the `vos-sip` loop: its work waits in a queue, so when the
/// cores are short it should be the one to wait, and it then finds bigger batches, which cost
/// less per call. Measured A/B on alternating builds (docs/BENCHMARKS-sip.md): media mode 3 held
/// 2750 and 3000 calls/s with it, 2250 and 2500 without; mode 0 the same either way. Lowering a
/// thread's priority needs no privilege.
final class BatchingThread<Item>: @unchecked Sendable {
    // @unchecked: `pending` and `busy` are guarded by `condition`'s lock; items cross to the
    // thread only through it.
    static var niceness: Int32 { 5 }

    private let name: String
    private let condition = NSCondition()
    private var pending: [Item] = []
    private var busy = false

    /// Items queued before `start` wait for it.
    init(name: String) { self.name = name }

    /// Starts the thread; `handle` runs on it, once per batch. Call once.
    func start(handle: @escaping @Sendable ([Item]) -> Void) {
        let thread = Thread { [self] in
            vos_set_thread_name(name)
            // setpriority takes the thread's kernel id: Linux schedules threads, not processes.
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(vos_gettid()), Self.niceness)
            while true { handle(nextBatch()) }
        }
        thread.start()
    }

    func enqueue(_ item: Item) {
        condition.lock()
        pending.append(item)
        condition.broadcast()
        condition.unlock()
    }

    /// Returns once everything queued before the call is handled (false after `seconds`).
    @discardableResult
    func drain(seconds: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        condition.lock()
        defer { condition.unlock() }
        while !pending.isEmpty || busy {
            guard condition.wait(until: deadline) else { return false }
        }
        return true
    }

    /// Marks the previous batch done and waits for the next one.
    private func nextBatch() -> [Item] {
        condition.lock()
        defer { condition.unlock() }
        if busy {
            busy = false
            condition.broadcast()
        }
        while pending.isEmpty { condition.wait() }
        let batch = pending
        pending.removeAll(keepingCapacity: true)
        busy = true
        return batch
    }
}
