import ArgumentParser
import CallControl
import Foundation
import Softswitch
import VOSModel
import VOSStore

/// `vosctl route explain`: the gateways a call would try, in order, and why each is tried,
/// skipped or left out. Asked of the running controller (its online state, load and quality
/// window); with no controller, computed from the store with every gateway online and idle.
struct RouteExplain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain", abstract: "The gateways a call would try, in order, and why.",
        discussion: """
        vosctl route explain NUMBER --from MAPPING_GATEWAY [--caller NUMBER] [--at TIME] [--json]

        NUMBER is the callee as the customer dials it: the mapping gateway's dial plans, the LRN
        table and the route sort rules apply as for a call. --at takes the local time of
        SS_TIME_ZONE ("2026-12-24 18:30"), ISO 8601 with a zone, or Unix seconds; schedules are
        judged then. --json prints the list in try order, each entry with its name.
        """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var controller: ControllerSocketOption
    @Argument(help: "The callee as dialled.") var number: String
    @Option(help: "The mapping gateway the call comes from.") var from: String
    @Option(help: "The caller (for caller dial plans and number lists).") var caller: String?
    @Option(help: "When: local \"YYYY-MM-DD HH:MM\", ISO 8601, or Unix seconds (default: now).") var at: String?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try runReportingErrors {
            try NumberPrefix.validate(number, field: "number")
            let store = try global.openStore()
            let moment = try at.map { try instant(of: $0, store: store) }
            let explanation: RouteExplanation
            var offline = false
            let client = ControllerClient(path: controller.resolved(global))
            if FileManager.default.fileExists(atPath: client.path),
               let reply = try? client.ask(StatusServer.Request(op: "explain", callee: number, mappingGateway: from, caller: caller, at: moment)),
               let answer = reply.explanation {
                explanation = answer
            } else {
                // No controller (or an older one): the store's configuration, no live state.
                offline = true
                let snapshot = try ControllerSnapshot.load(from: store)
                let result = RouteExplainer.explainOffline(
                    snapshot: snapshot, callee: number, mappingGateway: from, caller: caller,
                    at: moment ?? Transaction.currentMilliseconds())
                switch result {
                case let .success(computed): explanation = computed
                case let .failure(failure): throw ValidationError(failure.message)
                }
            }
            if json { return try printJSON(explanation) }
            print(explanation.table())
            if offline {
                print("(vos-controller is not running: every gateway is shown online and idle, with no quality history)")
            }
        }
    }

    /// `--at`: Unix seconds or ISO 8601 with a zone as `cdr list --since` reads them, else a
    /// local time in SS_TIME_ZONE.
    private func instant(of text: String, store: Store) throws -> Int64 {
        if let absolute = try? CDRFilter.parseTime(text, option: "--at"), text.contains("Z") || text.contains("+") || Int64(text) != nil {
            return absolute
        }
        let local = try LocalTime(parsing: text, field: "--at")
        let clock = try LocalClock(parameters: try store.read { try $0.parameters() })
        return clock.instant(of: local)
    }
}
