import Logging
import ServiceLifecycle
import UnixSignals

/// One step of a daemon's ordered stop, run by swift-service-lifecycle. The daemons start their
/// parts themselves, in order, before readiness (a part's start can fail the daemon's start, and
/// systemd must only hear READY=1 once all of them run); a stage only waits for the graceful
/// shutdown and then stops its part. `ServiceGroup` stops stages in reverse order, each once the
/// one after it has finished, so the SIP side drains before the metrics endpoint and the store
/// flush go away.
public struct StopStage: Service {
    public let name: String
    private let stop: @Sendable () async -> Void

    public init(_ name: String, stop: @escaping @Sendable () async -> Void) {
        self.name = name
        self.stop = stop
    }

    public func run() async throws {
        // Throws only when the group is cancelled rather than shut down gracefully: stop anyway.
        try? await gracefulShutdown()
        await stop()
    }
}

public enum DaemonLifecycle {
    /// Runs until SIGTERM or SIGINT, then stops `stages` last first (each after the next has
    /// finished). `stages` are listed in start order. The signal is logged by name
    /// ("vos-controller stopping on SIGTERM"), so the journal says why a daemon stopped.
    public static func runUntilSignalled(_ stages: [StopStage], daemon: String, logger: Logger) async throws {
        let services = stages.map {
            ServiceGroupConfiguration.ServiceConfiguration(
                service: $0, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup)
        }
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [],
                                                      cancellationSignals: [], logger: logger)
        configuration.logging.keys.serviceKey = "stage"
        let group = ServiceGroup(configuration: configuration)
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                for await signal in signals {
                    logger.info("\(daemon) stopping on \(signal)")
                    await group.triggerGracefulShutdown()
                    return
                }
            }
            try await group.run()
            tasks.cancelAll()
        }
    }
}
