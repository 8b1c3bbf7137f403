import Foundation
import Logging

public enum VOSLogging {
    /// One line per event on stderr. Under systemd (`JOURNAL_STREAM` set) each line starts with its
    /// syslog priority (`<6>`), which journald turns into the entry's level, and carries no timestamp
    /// (journald adds its own); at a terminal it starts with an ISO 8601 time and the level's name.
    public static func bootstrap(level: Logger.Level = .info) {
        let journald = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil
        LoggingSystem.bootstrap { label in
            var handler = LineLogHandler(label: label, journald: journald)
            handler.logLevel = level
            return handler
        }
    }
}

/// Writes each event as exactly one line: newlines inside a message or a metadata value (a SIP
/// message in an error, say) are written as `\n`, so journald and grep never split an event.
/// Metadata follows the message as sorted `key=value` pairs (`call-id=...` on call events).
public struct LineLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let journald: Bool

    public init(label: String, journald: Bool) {
        self.label = label
        self.journald = journald
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let level = event.level, message = event.message, explicit = event.metadata
        var line = journald ? "<\(Self.syslogPriority(level))>" : "\(Self.timestamp()) \(level.rawValue.uppercased()) "
        line += label
        line += ": "
        line += Self.oneLine(message.description)
        let merged = explicit.map { metadata.merging($0) { _, new in new } } ?? metadata
        for key in merged.keys.sorted() {
            guard let value = merged[key] else { continue }
            line += " \(key)=\(Self.oneLine(value.description))"
        }
        if let error = event.error { line += " error=\(Self.oneLine(String(describing: error)))" }
        line += "\n"
        LineLogHandler.write(line)
    }

    /// RFC 5424 severities, as sd-daemon(3) prefixes read them.
    static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    static func oneLine(_ text: String) -> String {
        guard text.contains(where: { $0 == "\n" || $0 == "\r" }) else { return text }
        return text.replacingOccurrences(of: "\r", with: "\\r").replacingOccurrences(of: "\n", with: "\\n")
    }

    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), now.tv_nsec / 1_000_000)
    }

    /// One write(2) per line, so lines of concurrent threads never interleave.
    private static func write(_ line: String) {
        var line = line
        line.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(2, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
                if written <= 0 { break }
                offset += written
            }
        }
    }
}
