import Dispatch
import MediaDSP
import Sockets

/// A change to an I/O thread's session table. Commands are queued by the control path and applied
/// by the I/O thread between epoll waits, so the packet path never takes a lock.
enum WorkerCommand: Sendable {
    case add(slot: Int, SessionSetup)
    case setRemote(slot: Int, leg: Int, SocketAddress)
    /// The session's decoded path from now on, or nil for the plain relay.
    case setPipeline(slot: Int, SessionMediaPipeline?)
    /// Plays DTMF toward `leg`'s far end; the reply says whether the media can carry it.
    case playDigits(slot: Int, leg: Int, digits: String, durationMilliseconds: Int, reply: WorkerReply<DTMFPlayOutcome?>)
    /// Closes the session's sockets and answers with its final counters.
    case remove(slot: Int, reply: WorkerReply<[LegCounters]>)
    case snapshot(slots: [Int], reply: WorkerReply<[[LegCounters]]>)
    /// The kernel relayed RTP from these legs' far ends (offloaded sessions): counts as media for
    /// the RTP timeout and idle time, as a packet through the userspace path would.
    case kernelActivity([KernelActivity], at: UInt64)
    case stop
}

/// One leg of an offloaded session whose kernel counters moved since the last check.
struct KernelActivity: Sendable {
    let slot: Int
    let leg: Int
}

/// What the I/O thread needs to start relaying a session.
struct SessionSetup: Sendable {
    let sessionID: UInt64
    /// Leg 0 RTP, leg 0 RTCP, leg 1 RTP, leg 1 RTCP: the endpoint numbering the I/O thread uses.
    let sockets: [Int32]
    let remotes: [SocketAddress?]
    let timeoutNanoseconds: UInt64
    /// TOS byte the sockets were created with.
    let tos: UInt8
    /// The decoded path when the legs' formats differ.
    var pipeline: SessionMediaPipeline? = nil
    /// Called on the I/O thread once the session is in its tables (the engine then binds the
    /// session's ports to the thread's capture socket; earlier, captured packets would find no leg).
    var applied: (@Sendable () -> Void)? = nil
}

/// A one-shot answer from an I/O thread to a waiting control thread.
final class WorkerReply<Value: Sendable>: @unchecked Sendable {
    // @unchecked: `value` is written once before `signal` and read after `wait`.
    private let semaphore = DispatchSemaphore(value: 0)
    private var value: Value?

    func fulfil(_ result: Value) {
        value = result
        semaphore.signal()
    }

    /// Nil when the I/O thread did not answer in time (it stopped).
    func wait(seconds: Int = 5) -> Value? {
        guard semaphore.wait(timeout: .now() + .seconds(seconds)) == .success else { return nil }
        return value
    }
}
