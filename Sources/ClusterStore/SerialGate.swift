import Foundation

/// Lets one piece of async work at a time use something shared, in arrival order. ClusterStore's
/// parts each hold one `ClusterDatabase` connection, and a statement sent while another task's
/// `BEGIN … COMMIT` is open would run inside that transaction (and roll back with it), so every use
/// of a part's connection goes through its gate. Owns nothing else.
final class SerialGate: @unchecked Sendable {
    // @unchecked: `busy` and `waiters` are guarded by `lock`.
    private let lock = NSLock()
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func run<Result>(_ body: () async throws -> Result) async rethrows -> Result {
        await enter()
        defer { leave() }
        return try await body()
    }

    private func enter() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let admitted = lock.withLock { () -> Bool in
                if busy {
                    waiters.append(continuation)
                    return false
                }
                busy = true
                return true
            }
            if admitted { continuation.resume() }
        }
    }

    /// Hands the gate straight to the next waiter, so `busy` never drops in between.
    private func leave() {
        let next = lock.withLock { () -> CheckedContinuation<Void, Never>? in
            if waiters.isEmpty {
                busy = false
                return nil
            }
            return waiters.removeFirst()
        }
        next?.resume()
    }
}
