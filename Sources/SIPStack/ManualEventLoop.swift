import Synchronization

/// An `EventLoop` for tests: nothing runs until the test says so, and time moves only by
/// `advance(by:)`, which fires every timer due on the way in deadline order (each at its own
/// deadline, so a timer scheduled by a timer fires too if it falls inside the step). Tasks
/// handed over with `execute` and end-of-iteration work run on `run()` and after each timer.
///
/// @unchecked Sendable: used from the test's thread only, except `execute`, whose mailbox is a Mutex.
public final class ManualEventLoop: EventLoop, @unchecked Sendable {
    public private(set) var now: UInt64 = 1_000_000_000
    /// The wall clock the loop pretends: it starts at a fixed instant and moves with `now`.
    public let wallStart: Int64
    private var timers = TimerQueue()
    private var endOfIteration: [() -> Void] = []
    private let mailbox = Mutex<[@Sendable () -> Void]>([])
    private let start: UInt64

    public init(wallStart: Int64 = 1_796_000_000_000) {
        self.wallStart = wallStart
        self.start = now
    }

    public var wallMilliseconds: Int64 { wallStart + Int64((now - start) / 1_000_000) }

    @discardableResult
    public func schedule(after delay: Duration, _ action: @escaping () -> Void) -> TimerID {
        timers.schedule(at: now &+ delay.nanoseconds, action)
    }

    public func cancel(_ timer: TimerID?) {
        if let timer { timers.cancel(timer) }
    }

    public func atEndOfIteration(_ action: @escaping () -> Void) {
        endOfIteration.append(action)
    }

    public func execute(_ task: @escaping @Sendable () -> Void) {
        mailbox.withLock { $0.append(task) }
    }

    /// Runs queued tasks and end-of-iteration work, without moving time.
    public func run() {
        var progress = true
        while progress {
            let tasks = mailbox.withLock { queued -> [@Sendable () -> Void] in
                defer { queued.removeAll() }
                return queued
            }
            for task in tasks { task() }
            for action in timers.due(at: now) { action() }
            let actions = endOfIteration
            endOfIteration.removeAll()
            for action in actions { action() }
            progress = !tasks.isEmpty || !actions.isEmpty || (timers.nextDeadline().map { $0 <= now } ?? false)
        }
    }

    /// Moves time forward by `step`, firing each due timer at its own deadline.
    public func advance(by step: Duration) {
        let target = now &+ step.nanoseconds
        run()
        while let deadline = timers.nextDeadline(), deadline <= target {
            now = max(now, deadline)
            run()
        }
        now = target
        run()
    }

    /// Timers not yet fired or cancelled.
    public var pendingTimers: Int { timers.count }
}
