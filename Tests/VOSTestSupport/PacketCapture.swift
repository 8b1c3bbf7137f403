/// tcpdump run as a child process for the length of a test, writing a pcap that is read back
/// through `PcapFile`: what the peers actually received, independent of what any daemon reports.
import Foundation

public final class PacketCapture: @unchecked Sendable {
    public let process = Process()
    /// The pcap tcpdump writes.
    public let file: String
    /// tcpdump's stderr (its "listening on" line, its packet counts at exit, errors).
    public let logPath: String
    private let ownsFiles: Bool
    private var packets: [UDPDatagram]?

    /// Starts `tcpdump -i interface` capturing `udp and (filter)` and returns once it reports that
    /// it is listening, so nothing sent after this returns is missed. `file` defaults to a
    /// temporary file, removed again on deinit.
    public init(filter: String, interface: String = "lo", file: String? = nil, seconds: Double = 10) throws {
        ownsFiles = file == nil
        self.file = file ?? NSTemporaryDirectory() + "vos-capture-\(UUID().uuidString).pcap"
        logPath = self.file + ".log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        defer { try? handle.close() }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/tcpdump")
        // -Z root: Debian's tcpdump otherwise drops to user tcpdump before opening the -w file,
        // which then cannot be created in a root-owned scratch directory.
        // --immediate-mode: each packet is handed over as it arrives, not in blocks that a SIGINT
        // could leave undelivered; -U then writes it to the file at once.
        process.arguments = ["-i", interface, "-n", "-s", "0", "-U", "--immediate-mode", "-Z", "root", "-w", self.file,
                             filter.isEmpty ? "udp" : "udp and (\(filter))"]
        process.standardError = handle
        process.standardOutput = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(seconds)
        while !log.contains("listening on") {
            guard process.isRunning, Date() < deadline else {
                terminate()
                throw Failure("tcpdump did not start capturing (\(filter)): \(log)")
            }
            usleep(20_000)
        }
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Stops tcpdump (SIGINT, so it flushes and closes the file) and returns the UDP datagrams it
    /// captured, in capture order. Calling it again returns the same datagrams.
    @discardableResult
    public func stop() throws -> [UDPDatagram] {
        if let packets { return packets }
        terminate()
        let read = try PcapFile.read(file)
        packets = read
        return read
    }

    /// SIGINT, then SIGKILL if tcpdump has not exited within five seconds.
    private func terminate() {
        if process.isRunning {
            kill(process.processIdentifier, SIGINT)
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        // A process that never launched has nothing to wait for.
        if process.processIdentifier != 0 { process.waitUntilExit() }
    }

    deinit {
        terminate()
        if ownsFiles {
            try? FileManager.default.removeItem(atPath: file)
            try? FileManager.default.removeItem(atPath: logPath)
        }
    }
}
