import Foundation

/// Runs async cluster work from a thread that is not in Swift concurrency (vosctl's synchronous
/// commands, the controller's start-up), waiting for the result. Never call it from a task.
public func runBlocking<Result: Sendable>(_ body: @escaping @Sendable () async throws -> Result) throws -> Result {
    let box = ResultBox<Result>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { box.set(.success(try await body())) } catch { box.set(.failure(error)) }
        done.signal()
    }
    done.wait()
    return try box.get()
}

private final class ResultBox<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Swift.Result<Value, any Error>?
    func set(_ value: Swift.Result<Value, any Error>) { lock.withLock { result = value } }
    func get() throws -> Value {
        guard let result = lock.withLock({ result }) else { throw ClusterError.conflict("no result") }
        return try result.get()
    }
}
