import Dispatch
import Synchronization

extension EventLoop {
    /// Runs `work` on the loop and waits for its result on the calling thread, at most `timeout`:
    /// how the operator socket, the metrics scrape and the alarm monitor read loop-confined state.
    /// Nil when the loop did not answer in time (stopped, or busy for longer); a result that
    /// arrives later is dropped. Never call it on the loop's own thread.
    public func waitForResult<Value: Sendable>(timeout: Duration, _ work: @escaping @Sendable () -> Value) -> Value? {
        let reply = LoopReply<Value>()
        let done = DispatchSemaphore(value: 0)
        execute {
            let value = work()
            reply.value.withLock { $0 = value }
            done.signal()
        }
        guard done.wait(timeout: .now() + .nanoseconds(Int(clamping: timeout.nanoseconds))) == .success else { return nil }
        return reply.value.withLock { $0 }
    }
}

/// Where the loop leaves a result for the thread waiting in `waitForResult`.
private final class LoopReply<Value: Sendable>: Sendable {
    let value = Mutex<Value?>(nil)
}
