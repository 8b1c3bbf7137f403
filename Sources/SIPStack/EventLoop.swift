/// What transactions and calls need from the thread that runs them: the time of the current
/// iteration, timers, work queued to the end of the iteration, and a mailbox for other threads.
/// `EpollEventLoop` serves real sockets; `ManualEventLoop` runs the same logic in tests, with
/// time that moves only when the test advances it (as SwiftNIO's `EmbeddedEventLoop` does).
///
/// Every member but `execute` is for the loop's own thread.
public protocol EventLoop: AnyObject, Sendable {
    /// Monotonic nanoseconds at the start of the current iteration.
    var now: UInt64 { get }
    /// Wall-clock milliseconds since the Unix epoch, for CDR timestamps.
    var wallMilliseconds: Int64 { get }
    @discardableResult
    func schedule(after delay: Duration, _ action: @escaping () -> Void) -> TimerID
    func cancel(_ timer: TimerID?)
    /// Runs `action` once after the handlers and timers of the current iteration.
    func atEndOfIteration(_ action: @escaping () -> Void)
    /// Runs `task` on the loop thread soon. Safe from any thread.
    func execute(_ task: @escaping @Sendable () -> Void)
}

extension Duration {
    /// Whole nanoseconds, clamped at zero: what timer deadlines are counted in.
    public var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) &* 1_000_000_000 &+ UInt64(attoseconds / 1_000_000_000)
    }

    /// A duration of `nanoseconds`, for deadlines kept as monotonic nanosecond counts.
    public static func nanoseconds(_ value: UInt64) -> Duration { .nanoseconds(Int64(clamping: value)) }
}
