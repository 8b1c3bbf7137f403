import Testing
@testable import Telemetry

/// Telemetry's in-process tests: encoders and HTTP plumbing against real sockets on loopback.
@Suite struct TelemetryModuleTests {}
