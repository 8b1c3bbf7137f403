import ArgumentParser
import CallControl
import Foundation
import Sockets
import VOSStore
#if canImport(Glibc)
import Glibc
#endif

/// Asks the running vos-controller over its operator socket.
struct ControllerClient {
    let path: String

    func ask(_ op: String) throws -> StatusServer.Reply {
        try ask(StatusServer.Request(op: op))
    }

    func ask(_ question: StatusServer.Request) throws -> StatusServer.Reply {
        let fd: Int32
        do { fd = try UnixSocket.connect(path: path) } catch {
            throw StoreError.io(path: path, reason: error.step == .connect ? "cannot reach vos-controller (\(error.detail)); is it running?" : error.description)
        }
        defer { close(fd) }
        var request = [UInt8](try JSONEncoder().encode(question))
        request.append(10)
        _ = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            reply.append(contentsOf: buffer[0..<count])
            if reply.last == 10 { break }
        }
        do {
            let decoded = try JSONDecoder().decode(StatusServer.Reply.self, from: Data(reply))
            if !decoded.ok { throw StoreError.io(path: path, reason: decoded.error ?? "vos-controller refused the request") }
            return decoded
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.io(path: path, reason: "unreadable reply from vos-controller: \(error)")
        }
    }
}

struct ControllerSocketOption: ParsableArguments {
    @Option(name: .customLong("controller"), help: "vos-controller socket (default: DATA_DIR/controller.sock).")
    var path: String?

    func resolved(_ global: GlobalOptions) -> String {
        path ?? (global.resolvedDataDirectory as NSString).appendingPathComponent("controller.sock")
    }
}

struct CallsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "calls", abstract: "Calls in progress with both legs and media statistics.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var controller: ControllerSocketOption
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try runReportingErrors {
            let calls = try ControllerClient(path: controller.resolved(global)).ask("calls").calls ?? []
            if json { return try printJSON(calls) }
            // LOSS and JITTER: the relay's own measurement of what each far end sends (frozen
            // while the kernel relays the call); RTCP-*: what each far end reports receiving; RTT:
            // relay <-> far end; QUALITY: requirements §5 band per leg; ONE-WAY: legs whose far
            // end sends no RTP while the other's does.
            printTable(["CALL-ID", "STATE", "CALLER", "CALLEE", "MAPPING", "ROUTING", "CODECS", "DTMF", "PATH", "DURATION", "RTP A<->B", "LOSS", "JITTER",
                        "RTCP-LOSS", "RTCP-JITTER", "RTT", "QUALITY", "ONE-WAY"],
                       calls.map { call in
                           let legs = call.media?.legs ?? []
                           let packets = legs.count == 2 ? "\(legs[0].received.packets)/\(legs[1].received.packets)" : "-"
                           return [call.callID, call.state, call.caller, call.callee, call.mappingGateway, call.routingGateway ?? "-",
                                   "\(call.callerCodec ?? "-")/\(call.calleeCodec ?? "-")",
                                   "\(call.callerDTMF ?? "-")/\(call.calleeDTMF ?? "-")", legs.first?.path.rawValue ?? "-",
                                   "\(call.durationSeconds)s", packets,
                                   MediaQualityText.perLeg(legs) { MediaQualityText.percent($0.lossPercent) },
                                   MediaQualityText.perLeg(legs) { MediaQualityText.milliseconds($0.jitterMs) },
                                   MediaQualityText.perLeg(legs) { MediaQualityText.percent($0.rtcpLossPercent) },
                                   MediaQualityText.perLeg(legs) { MediaQualityText.milliseconds($0.rtcpJitterMs) },
                                   MediaQualityText.perLeg(legs) { MediaQualityText.milliseconds($0.roundTripMs) },
                                   MediaQualityText.perLeg(legs) { MediaQualityText.band($0.quality) },
                                   legs.isEmpty ? "-" : MediaQualityText.oneWayLegs(legs.map(\.oneWayAudio))]
                       })
        }
    }
}

struct GatewayStatus: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Online state, current calls and CPS of every gateway (from the running controller).")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var controller: ControllerSocketOption
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try runReportingErrors {
            let gateways = try ControllerClient(path: controller.resolved(global)).ask("gateways").gateways ?? []
            if json { return try printJSON(gateways) }
            printTable(["GATEWAY", "KIND", "ONLINE", "CALLS", "CPS-NOW", "CPS-LIMIT", "LINE-LIMIT"], gateways.map { gateway in
                [gateway.name, gateway.kind, gateway.online ? "online" : "OFFLINE", String(gateway.currentCalls),
                 String(gateway.callsPerSecond), gateway.cpsLimit == 0 ? "unlimited" : String(gateway.cpsLimit),
                 gateway.lineLimit == 0 ? "unlimited" : String(gateway.lineLimit)]
            })
        }
    }
}
