import Logging

public enum VOSLogging {
    /// Plain stderr lines: journald adds timestamps and the unit name on the appliance.
    public static func bootstrap(level: Logger.Level = .info) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
