import ArgumentParser
import MediaControl

struct MediaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "media", abstract: "Live media sessions in vos-mediad (over its control socket).",
        subcommands: [MediaSessions.self])
}

struct MediaSessions: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions", abstract: "Sessions with per-leg addresses, counters, loss, jitter and forwarding path.")

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
                    ])
                }
            }
            printTable(["SESSION", "TAG", "LEG", "LOCAL", "SDP REMOTE", "LATCHED", "IN PKT/B", "OUT PKT/B", "DROPPED", "LOST", "JITTER MS", "PATH"], rows)
        }
    }

    private func percent(_ value: Double) -> String { twoDecimals(value) + "%" }

    private func twoDecimals(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
