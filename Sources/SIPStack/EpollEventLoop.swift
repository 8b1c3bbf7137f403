import CVOSSys
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The production `EventLoop`: one thread that owns every socket, timer and call of the
/// controller: epoll for readiness, a timer heap, and a mailbox (eventfd) through which other
/// threads hand it work. Transports register their descriptors here.
///
/// Everything registered runs on the loop thread, so call state needs no locks; the only lock
/// guards the mailbox, which carries control-path work (media events, status queries), never
/// per-message work.
public final class EpollEventLoop: EventLoop, @unchecked Sendable {
    // @unchecked: all mutable state except `mailbox` (a Mutex) is touched only on the loop thread.
    private let epollDescriptor: Int32
    private let wakeDescriptor: Int32
    private var handlers: [Int32: (UInt32) -> Void] = [:]
    private var timers = TimerQueue()
    private let mailbox = Mutex<[@Sendable () -> Void]>([])
    private var running = false
    private var endOfIteration: [() -> Void] = []
    /// Time at the start of the current iteration; handlers use it instead of reading the clock.
    public private(set) var now: UInt64 = MonotonicTime.now()

    public init() throws(TransportError) {
        epollDescriptor = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollDescriptor >= 0 else { throw TransportError.system("epoll_create1", errno) }
        wakeDescriptor = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard wakeDescriptor >= 0 else {
            close(epollDescriptor)
            throw TransportError.system("eventfd", errno)
        }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = wakeDescriptor
        epoll_ctl(epollDescriptor, EPOLL_CTL_ADD, wakeDescriptor, &event)
    }

    deinit {
        close(wakeDescriptor)
        close(epollDescriptor)
    }

    /// Calls `handler` with the epoll event mask whenever `descriptor` is ready. Loop thread only.
    public func register(_ descriptor: Int32, events: UInt32 = EPOLLIN.rawValue, _ handler: @escaping (UInt32) -> Void) throws(TransportError) {
        var event = epoll_event()
        event.events = events
        event.data.fd = descriptor
        let operation = handlers[descriptor] == nil ? EPOLL_CTL_ADD : EPOLL_CTL_MOD
        guard epoll_ctl(epollDescriptor, operation, descriptor, &event) == 0 else {
            throw TransportError.system("epoll_ctl", errno)
        }
        handlers[descriptor] = handler
    }

    public func modify(_ descriptor: Int32, events: UInt32) {
        var event = epoll_event()
        event.events = events
        event.data.fd = descriptor
        epoll_ctl(epollDescriptor, EPOLL_CTL_MOD, descriptor, &event)
    }

    public func unregister(_ descriptor: Int32) {
        epoll_ctl(epollDescriptor, EPOLL_CTL_DEL, descriptor, nil)
        handlers[descriptor] = nil
    }

    public var wallMilliseconds: Int64 { MonotonicTime.wallMilliseconds() }

    /// Runs `action` on the loop thread after `delay`. Loop thread only.
    @discardableResult
    public func schedule(after delay: Duration, _ action: @escaping () -> Void) -> TimerID {
        timers.schedule(at: now &+ delay.nanoseconds, action)
    }

    public func cancel(_ timer: TimerID?) {
        if let timer { timers.cancel(timer) }
    }

    /// Runs `action` once after the handlers and timers of the current iteration: where batched
    /// sends are flushed. Loop thread only.
    public func atEndOfIteration(_ action: @escaping () -> Void) {
        endOfIteration.append(action)
    }

    /// Runs `task` on the loop thread soon. Safe from any thread.
    public func execute(_ task: @escaping @Sendable () -> Void) {
        mailbox.withLock { $0.append(task) }
        var one: UInt64 = 1
        _ = write(wakeDescriptor, &one, 8)
    }

    /// Makes `run` return after the current iteration. Safe from any thread.
    public func stop() {
        execute { [unowned self] in self.running = false }
    }

    /// Serves events on the calling thread until `stop`.
    public func run() {
        running = true
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        while running {
            now = MonotonicTime.now()
            var timeout: Int32 = 1000
            if let deadline = timers.nextDeadline() {
                timeout = deadline <= now ? 0 : Int32(min(1000, (deadline - now + 999_999) / 1_000_000))
            }
            let ready = epoll_wait(epollDescriptor, &events, Int32(events.count), timeout)
            now = MonotonicTime.now()
            if ready > 0 {
                for index in 0..<Int(ready) {
                    let descriptor = events[index].data.fd
                    if descriptor == wakeDescriptor {
                        drainMailbox()
                    } else if let handler = handlers[descriptor] {
                        handler(events[index].events)
                    }
                }
            }
            for action in timers.due(at: now) { action() }
            while !endOfIteration.isEmpty {
                let actions = endOfIteration
                endOfIteration.removeAll(keepingCapacity: true)
                for action in actions { action() }
            }
        }
    }

    private func drainMailbox() {
        var counter: UInt64 = 0
        _ = read(wakeDescriptor, &counter, 8)
        let tasks = mailbox.withLock { queued -> [@Sendable () -> Void] in
            defer { queued.removeAll(keepingCapacity: true) }
            return queued
        }
        for task in tasks { task() }
    }
}
