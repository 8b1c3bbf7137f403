import ArgumentParser
import Foundation
import MediaControl
import VOSModel
import VOSStore
#if canImport(Glibc)
import Glibc
#endif

struct MediaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "media", abstract: "Live media sessions in vos-mediad (over its control socket), and the host's forwarding for kernel offload.",
        subcommands: [MediaSessions.self, MediaForwarding.self])
}

struct MediaSessions: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions", abstract: "Sessions with per-leg addresses, counters, loss, jitter, forwarding path, the far ends' RTCP reports, round trip, quality band and one-way audio.")

    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("control"), help: "vos-mediad control socket (default: DATA_DIR/mediad.sock).")
    var controlPath: String?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try runReportingErrors {
            let client = try MediaControlClient(path: controlPath ?? global.resolvedDataDirectory + "/mediad.sock")
            let sessions = try client.statistics()
            if json { return try printJSON(sessions) }
            var rows: [[String]] = []
            for session in sessions {
                for leg in session.legs {
                    rows.append([
                        leg.index == 0 ? session.session : "", leg.index == 0 ? (session.tag ?? "") : "", String(leg.index),
                        leg.local.description, leg.remote?.description ?? "-", leg.latched?.description ?? "-",
                        "\(leg.received.packets)/\(leg.received.bytes)", "\(leg.sent.packets)/\(leg.sent.bytes)",
                        String(leg.dropped), "\(leg.lost) (\(percent(leg.lossPercent)))", twoDecimals(leg.jitterMs), leg.path.rawValue,
                        leg.codec ?? "-", leg.jitterBufferMs.map(String.init) ?? "-", leg.malformed.map(String.init) ?? "-",
                        leg.rtcpLost.map { "\($0) (\(percent(leg.rtcpLossPercent ?? 0)))" } ?? "-",
                        leg.rtcpJitterMs.map(twoDecimals) ?? "-", leg.roundTripMs.map(twoDecimals) ?? "-",
                        MediaQualityText.band(leg.quality), MediaQualityText.oneWay(leg),
                    ])
                }
            }
            // LOST/JITTER: measured by the relay on what the far end sends (frozen while offloaded);
            // RTCP LOST/JITTER: the far end's report on what it receives; RTT: relay <-> far end.
            // CODEC, JB MS (delay the jitter buffer adds), MALFORMED: decoded (transcode) sessions.
            printTable(["SESSION", "TAG", "LEG", "LOCAL", "SDP REMOTE", "LATCHED", "IN PKT/B", "OUT PKT/B", "DROPPED", "LOST", "JITTER MS", "PATH",
                        "CODEC", "JB MS", "MALFORMED",
                        "RTCP LOST", "RTCP JITTER MS", "RTT MS", "QUALITY", "ONE-WAY"], rows)
        }
    }

    private func percent(_ value: Double) -> String { twoDecimals(value) + "%" }

    private func twoDecimals(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}

/// Kernel offload DNATs latched RTP to the far end, so the host must forward IPv4. Forwarding is
/// host-wide, so vos-mediad never changes it; vos-mediad.service runs this as root before the
/// relay starts: on with `SS_MEDIA_KERNEL_OFFLOAD` = 1, untouched otherwise.
struct MediaForwarding: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forwarding",
        abstract: "Set net.ipv4.ip_forward=1 when SS_MEDIA_KERNEL_OFFLOAD is 1 (needs root); leave it untouched when 0.",
        discussion: """
            Run by vos-mediad.service (ExecStartPre, as root) before the relay starts. Reads the store \
            with the identity of its owner, so it creates nothing root-owned in the data directory. \
            With forwarding off, SS_MEDIA_KERNEL_OFFLOAD switched on at run time keeps media in userspace \
            until the next start of vos-mediad (which runs this first).
            """)

    @OptionGroup var global: GlobalOptions

    static let sysctlPath = "/proc/sys/net/ipv4/ip_forward"

    func run() throws {
        try runReportingErrors {
            let directory = global.resolvedDataDirectory
            let offload = try StoreOwner.acting(for: directory) {
                try global.openStore().read { try $0.parameters() }.bool(.mediaKernelOffload)
            }
            let setting = "\(SystemParameter.mediaKernelOffload.rawValue)=\(offload ? 1 : 0)"
            let current = (try? String(contentsOfFile: Self.sysctlPath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "unreadable"
            guard offload else {
                print("kernel media offload is off (\(setting)): net.ipv4.ip_forward left as it is (\(current))")
                return
            }
            guard current != "1" else {
                print("kernel media offload is on (\(setting)): net.ipv4.ip_forward is already 1")
                return
            }
            try Self.enableForwarding(because: setting)
            print("kernel media offload is on (\(setting)): net.ipv4.ip_forward set to 1 (was \(current))")
        }
    }

    private static func enableForwarding(because setting: String) throws {
        let descriptor = open(sysctlPath, O_WRONLY | O_CLOEXEC)
        let written = descriptor >= 0 ? write(descriptor, "1\n", 2) : -1
        let code = errno
        if descriptor >= 0 { close(descriptor) }
        guard written == 2 else {
            throw StoreError.io(path: sysctlPath, reason: "cannot set net.ipv4.ip_forward to 1 for kernel media offload (\(setting)): \(String(cString: strerror(code)))")
        }
    }
}

/// Runs as the owner of a store when started as root: LMDB creates its lock file when it is
/// missing, and one created by root would lock the daemons (user vos) out of their own store.
/// The effective ids go back to what they were before `acting` returns.
enum StoreOwner {
    static func acting<Value>(for directory: String, _ body: () throws -> Value) throws -> Value {
        var info = stat()
        let dataFile = (directory as NSString).appendingPathComponent("data.mdb")
        // Not root, or no store yet (opening then fails with its own message before creating anything).
        guard geteuid() == 0, stat(dataFile, &info) == 0, info.st_uid != 0 else { return try body() }
        let (userID, groupID) = (geteuid(), getegid())
        guard setegid(info.st_gid) == 0, seteuid(info.st_uid) == 0 else {
            let code = errno
            _ = setegid(groupID)
            throw StoreError.io(path: directory, reason: "cannot act as the store's owner (uid \(info.st_uid)) to read it: \(String(cString: strerror(code)))")
        }
        let outcome = Result(catching: body)
        guard seteuid(userID) == 0, setegid(groupID) == 0 else {
            throw StoreError.io(path: directory, reason: "cannot return to uid \(userID) after reading the store: \(String(cString: strerror(errno)))")
        }
        return try outcome.get()
    }
}
