import Foundation
import Testing
import VOSTestSupport

/// `vosctl media forwarding`, as vos-mediad.service runs it (root, on a store owned by another
/// user), inside a network namespace of its own: /proc/sys/net is per namespace, so the host's
/// forwarding is never touched. Needs root, iproute2 and setpriv.
@Suite struct MediaForwardingCommandTests {
    /// The store's owner on the appliance is user vos; here any unprivileged id does.
    static let owner = "65534"

    @Test(.timeLimit(.minutes(3)))
    func forwardingFollowsKernelOffloadAndTheStoreStaysItsOwners() throws {
        let scratch = try Scratch()
        let dataDirectory = scratch.child("var")
        let vosctl = Vosctl(dataDirectory: dataDirectory)
        try vosctl.ok("init")
        try vosctl.ok("param", "set", "SS_MEDIA_KERNEL_OFFLOAD", "1")
        // As on the appliance: the store belongs to the daemons' user. Without its lock file,
        // opening the store creates one, which must not end up root's.
        try run(["chown", "-R", "\(Self.owner):\(Self.owner)", dataDirectory])
        try FileManager.default.removeItem(atPath: dataDirectory + "/lock.mdb")

        let namespace = "vosfw\(getpid())"
        Self.attempt(["ip", "netns", "del", namespace])
        try run(["ip", "netns", "add", namespace])
        defer { Self.attempt(["ip", "netns", "del", namespace]) }
        func forwarding() throws -> String {
            try run(["ip", "netns", "exec", namespace, "cat", "/proc/sys/net/ipv4/ip_forward"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        func setForwarding(_ value: Int) throws { try run(["ip", "netns", "exec", namespace, "sysctl", "-qw", "net.ipv4.ip_forward=\(value)"]) }
        func command(_ prefix: [String] = []) throws -> Result {
            try Self.execute(["ip", "netns", "exec", namespace] + prefix + [Vosctl.path, "--data-dir", dataDirectory, "media", "forwarding"])
        }

        // Offload on: forwarding switched on, one line saying so; a second run finds it on.
        try setForwarding(0)
        let enabled = try command()
        #expect(enabled.status == 0, "\(enabled.stderr)")
        #expect(enabled.stdout == "kernel media offload is on (SS_MEDIA_KERNEL_OFFLOAD=1): net.ipv4.ip_forward set to 1 (was 0)\n")
        #expect(try forwarding() == "1")
        let again = try command()
        #expect(again.status == 0 && again.stdout == "kernel media offload is on (SS_MEDIA_KERNEL_OFFLOAD=1): net.ipv4.ip_forward is already 1\n",
                "\(again.stdout)\(again.stderr)")

        // Nothing in the data directory is root's: the lock file LMDB recreated belongs to the owner.
        let files = try FileManager.default.contentsOfDirectory(atPath: dataDirectory).sorted()
        #expect(files == ["data.mdb", "lock.mdb"])
        for file in files {
            let owner = try FileManager.default.attributesOfItem(atPath: dataDirectory + "/" + file)[.ownerAccountID] as? NSNumber
            #expect(owner?.stringValue == Self.owner, "\(file) belongs to \(owner.map(\.stringValue) ?? "?")")
        }

        // Offload off: forwarding left as it is.
        try setForwarding(0)
        try vosctl.ok("param", "set", "SS_MEDIA_KERNEL_OFFLOAD", "0")
        let untouched = try command()
        #expect(untouched.status == 0, "\(untouched.stderr)")
        #expect(untouched.stdout == "kernel media offload is off (SS_MEDIA_KERNEL_OFFLOAD=0): net.ipv4.ip_forward left as it is (0)\n")
        #expect(try forwarding() == "0")

        // Not allowed to write the sysctl (run as the unprivileged owner): exit 1 and why.
        try vosctl.ok("param", "set", "SS_MEDIA_KERNEL_OFFLOAD", "1")
        let refused = try command(["setpriv", "--reuid", Self.owner, "--regid", Self.owner, "--clear-groups"])
        #expect(refused.status == 1)
        #expect(refused.stderr.hasPrefix("vosctl: /proc/sys/net/ipv4/ip_forward: cannot set net.ipv4.ip_forward to 1 for kernel media offload (SS_MEDIA_KERNEL_OFFLOAD=1): "),
                "\(refused.stderr)")
        #expect(try forwarding() == "0")
    }

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    private static func execute(_ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: stdout, stderr: stderr)
    }

    @discardableResult
    private func run(_ arguments: [String]) throws -> Result {
        let result = try Self.execute(arguments)
        guard result.status == 0 else { throw Failure("\(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)") }
        return result
    }

    /// For cleanup: a failure (e.g. no such namespace) is ignored.
    private static func attempt(_ arguments: [String]) { _ = try? execute(arguments) }
}
