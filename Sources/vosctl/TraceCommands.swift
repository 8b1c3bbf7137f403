import ArgumentParser
import CallControl
import Foundation
import SIPStack

/// `vosctl trace CALL-ID`: the ladder of a recent call from the running controller's trace ring,
/// what operators otherwise open sngrep for; without a Call-ID, what the capture holds and where
/// HEP goes. Printing only: the controller keeps the messages (docs/OBSERVABILITY.md).
struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "The SIP ladder of a recent call (both legs) from the controller's trace ring; without CALL-ID, the capture's state.",
        discussion: """
            Give either leg's Call-ID (the customer's, as `vosctl calls` and CDRs show it, or the one vos used \
            toward the vendor). The ring keeps the most recent SS_SIP_TRACE_MEMORY MiB of messages; older calls \
            are gone. Times are milliseconds after the call's first message.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var controller: ControllerSocketOption
    @Argument(help: "A Call-ID of either leg.") var callID: String?
    @Flag(help: "Print every message in full after the ladder.") var full = false
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try runReportingErrors {
            let client = ControllerClient(path: controller.resolved(global))
            let reply = try client.ask(StatusServer.Request(op: "trace", callID: callID))
            guard let callID else {
                let capture = reply.capture ?? SIPCaptureStatus()
                if json { return try printJSON(capture) }
                return TraceText.status(capture).forEach { print($0) }
            }
            guard let trace = reply.trace, !trace.messages.isEmpty else {
                printError("vosctl: \(TraceText.notFound(callID, reply.capture ?? SIPCaptureStatus()))")
                throw ExitCode(1)
            }
            if json { return try printJSON(trace) }
            TraceText.ladder(trace).forEach { print($0) }
            if full {
                for line in TraceText.messages(trace) { print(line) }
            }
        }
    }
}

/// The text of `vosctl trace`: a two-sided ladder (customer leg left of vos, vendor legs right).
enum TraceText {
    static let arrowWidth = 30

    static func status(_ capture: SIPCaptureStatus) -> [String] {
        let ring: String
        if capture.ringCapacityBytes == 0 {
            ring = "off (SS_SIP_TRACE_MEMORY 0)"
        } else {
            let since = capture.ringOldest.map { ", since \(CDRRows.time($0 / 1000))" } ?? ""
            ring = "\(capture.ringMessages) messages, \(mebibytes(capture.ringBytes)) of \(mebibytes(capture.ringCapacityBytes)) MiB\(since)"
        }
        var hep = "off (SS_HEP_ENABLE 0)"
        if let destination = capture.hepDestination {
            hep = "on: \(destination), capture id \(capture.hepCaptureID ?? 0), \(capture.hepSent) sent, \(capture.hepDropped) dropped"
            if let error = capture.hepLastError { hep += " (last drop: \(error))" }
        }
        return ["trace ring  \(ring)", "HEP         \(hep)"]
    }

    static func notFound(_ callID: String, _ capture: SIPCaptureStatus) -> String {
        guard capture.ringCapacityBytes > 0 else {
            return "the trace ring is off (SS_SIP_TRACE_MEMORY 0): set it to keep recent calls"
        }
        let since = capture.ringOldest.map { " since \(CDRRows.time($0 / 1000))" } ?? ""
        return "no message of Call-ID '\(callID)' in the trace ring: it holds the last \(capture.ringMessages) messages "
            + "(\(mebibytes(capture.ringBytes)) of \(mebibytes(capture.ringCapacityBytes)) MiB)\(since); older calls are overwritten "
            + "(SS_SIP_TRACE_MEMORY sets its size)"
    }

    /// The Call-ID of the leg vos received the first INVITE on (the customer's), else the first message's.
    static func customerCallID(_ trace: SIPTrace) -> String {
        trace.messages.first { $0.direction == "in" && $0.message.hasPrefix("INVITE ") }?.callID
            ?? trace.messages.first?.callID ?? trace.callID
    }

    static func ladder(_ trace: SIPTrace) -> [String] {
        guard let start = trace.messages.first?.time else { return [] }
        let customer = customerCallID(trace)
        let legs = Set(trace.messages.map(\.callID))
        let left = trace.messages.filter { $0.callID == customer }
        let peerWidth = left.map { peer($0).count }.max() ?? 0
        let blank = String(repeating: " ", count: peerWidth + 1 + arrowWidth)
        var lines = ["Call-ID \(customer): \(trace.messages.count) messages, \(legs.count) leg\(legs.count == 1 ? "" : "s"), "
                     + "first at \(CDRRows.time(start / 1000))"]
        lines.append(pad("+ms", 7) + "  " + "customer leg".padding(toLength: blank.count, withPad: " ", startingAt: 0) + "  vos  vendor leg")
        for message in trace.messages {
            let time = pad(String((message.time - start) / 1000), 7) + "  "
            let received = message.direction == "in"
            if message.callID == customer {
                let drawn = arrow(label(message), pointsRight: received)
                lines.append(time + peer(message).padding(toLength: peerWidth, withPad: " ", startingAt: 0) + " " + drawn + "   |")
            } else {
                lines.append(time + blank + "   |  " + arrow(label(message), pointsRight: !received) + " " + peer(message))
            }
        }
        return lines
    }

    static func messages(_ trace: SIPTrace) -> [String] {
        guard let start = trace.messages.first?.time else { return [] }
        var lines: [String] = []
        for (index, message) in trace.messages.enumerated() {
            let route = message.direction == "in" ? "\(peer(message)) -> vos \(message.local)" : "vos \(message.local) -> \(peer(message))"
            lines.append("")
            lines.append("--- #\(index + 1)  +\((message.time - start) / 1000) ms  \(route)  Call-ID \(message.callID)")
            lines.append(contentsOf: message.message.split(separator: "\n", omittingEmptySubsequences: false).map {
                String($0.hasSuffix("\r") ? $0.dropLast() : $0)
            })
        }
        return lines
    }

    static func peer(_ message: SIPTraceMessage) -> String { "\(message.transport):\(message.remote)" }

    /// A request's method, or a response's status and the method it answers: `200 OK (BYE)`.
    static func label(_ message: SIPTraceMessage) -> String {
        let lines = message.message.split(separator: "\r\n", maxSplits: 64)
        guard let startLine = lines.first else { return "?" }
        guard startLine.hasPrefix("SIP/2.0 ") else { return String(startLine.prefix { $0 != " " }) }
        let status = startLine.dropFirst("SIP/2.0 ".count)
        let cseq = lines.first { $0.lowercased().hasPrefix("cseq:") }
        let method = cseq?.split(separator: " ").last.map { " (\($0))" } ?? ""
        return String(status) + method
    }

    /// `-- LABEL ----->` or `<----- LABEL --`, `arrowWidth` wide (long labels cut).
    static func arrow(_ label: String, pointsRight: Bool) -> String {
        let text = " " + String(label.prefix(arrowWidth - 6)) + " "
        let fill = String(repeating: "-", count: max(1, arrowWidth - text.count - 3))
        return pointsRight ? "--" + text + fill + ">" : "<" + fill + text + "--"
    }

    static func pad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }

    static func mebibytes(_ bytes: Int) -> String { String(format: "%.1f", Double(bytes) / 1_048_576) }
}
