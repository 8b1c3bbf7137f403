import Foundation
import MediaControl

/// A small RTP endpoint in python3, run under `ip netns exec`: sends `count` packets of 172 bytes
/// from its bound socket (the socket it also receives on, like a symmetric RTP phone) and
/// reports what it sent and received as one JSON line. `--skip-every K` leaves out one sequence
/// number after every K packets; `--uneven-timestamps` alternates timestamp steps of 80 and 240
/// at a steady 20 ms pace, which gives an RFC 3550 jitter of 80 units (10 ms).
enum RTPPeerScript {
    static let source = #"""
import argparse, json, select, socket, struct, time
p = argparse.ArgumentParser()
p.add_argument("--bind", required=True); p.add_argument("--to", required=True)
p.add_argument("--count", type=int, default=50); p.add_argument("--interval", type=float, default=0.02)
p.add_argument("--delay", type=float, default=0); p.add_argument("--listen", type=float, default=3)
p.add_argument("--skip-every", type=int, default=0); p.add_argument("--uneven-timestamps", action="store_true")
p.add_argument("--ssrc", type=int, default=1234)
a = p.parse_args()
host, port = a.bind.rsplit(":", 1); to_host, to_port = a.to.rsplit(":", 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((host, int(port))); s.setblocking(False)
start = time.monotonic(); next_send = start + a.delay; deadline = start + a.listen
sent = received = 0; sources = {}; ts = 1000; base = 4000
while time.monotonic() < deadline:
    now = time.monotonic()
    while sent < a.count and now >= next_send:
        seq = base + sent + (sent // a.skip_every if a.skip_every else 0)
        if sent: ts += (80 if sent % 2 == 0 else 240) if a.uneven_timestamps else 160
        s.sendto(struct.pack("!BBHII", 0x80, 8, seq & 0xFFFF, ts & 0xFFFFFFFF, a.ssrc) + b"\xd5" * 160, (to_host, int(to_port)))
        sent += 1; next_send += a.interval
    wake = min(next_send if sent < a.count else deadline, deadline)
    readable, _, _ = select.select([s], [], [], max(0, wake - time.monotonic()))
    while readable:
        try: data, source = s.recvfrom(2048)
        except BlockingIOError: break
        received += 1; key = "%s:%d" % source; sources[key] = sources.get(key, 0) + 1
print(json.dumps({"sent": sent, "received": received, "sources": sources}))
"""#

    /// Starts the peer in `role`'s namespace, bound to `bind` and sending to `to`; `arguments`
    /// are the script's other options (`--count`, `--delay`, `--listen`, `--ssrc`...).
    static func start(_ script: String, in lab: NetworkLab, role: String, name: String? = nil, bind: String, to: MediaEndpoint,
                      _ arguments: [String], logDirectory: String) throws -> BackgroundCommand {
        try BackgroundCommand(lab.inside(role, ["python3", script, "--bind", bind, "--to", to.description] + arguments),
                              logDirectory: logDirectory, name: name ?? role)
    }

    /// The caller and the callee of `session` (bound where `NetworkLab.callLegs` says) each send
    /// `count` packets through the relay, starting after their delays, and report what they got.
    static func exchange(_ script: String, in lab: NetworkLab, session: SessionInfo, count: Int,
                         delays: (caller: Double, callee: Double), listen: Double, within seconds: TimeInterval,
                         names: (caller: String, callee: String) = ("caller", "callee"),
                         logDirectory: String) throws -> (caller: Report, callee: Report) {
        let (caller, callee) = try startCall(script, in: lab, targets: (session.legs[0].local, session.legs[1].local), count: count,
                                             delays: delays, listen: listen, names: names, logDirectory: logDirectory)
        return (try report(caller.finish(within: seconds)), try report(callee.finish(within: seconds)))
    }

    /// Starts the caller and the callee (bound where `NetworkLab.callLegs` says), each sending
    /// `count` packets to its target (the relay's leg facing it) after its delay; `finish` them.
    static func startCall(_ script: String, in lab: NetworkLab, targets: (caller: MediaEndpoint, callee: MediaEndpoint), count: Int,
                          delays: (caller: Double, callee: Double), listen: Double,
                          names: (caller: String, callee: String) = ("caller", "callee"),
                          logDirectory: String) throws -> (caller: BackgroundCommand, callee: BackgroundCommand) {
        let caller = try start(script, in: lab, role: "caller", name: names.caller, bind: "198.51.100.2:4000", to: targets.caller, [
            "--count", String(count), "--delay", String(delays.caller), "--listen", String(listen), "--ssrc", "1",
        ], logDirectory: logDirectory)
        let callee = try start(script, in: lab, role: "callee", name: names.callee, bind: "192.0.2.2:5000", to: targets.callee, [
            "--count", String(count), "--delay", String(delays.callee), "--listen", String(listen), "--ssrc", "2",
        ], logDirectory: logDirectory)
        return (caller, callee)
    }

    struct Report: Decodable, CustomStringConvertible {
        let sent: Int
        let received: Int
        let sources: [String: Int]
        var description: String { "sent \(sent), received \(received) from \(sources)" }
    }

    static func install(in directory: String) throws -> String {
        let path = directory + "/rtp_peer.py"
        try source.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func report(_ result: CommandResult) throws -> Report {
        guard let line = result.output.split(separator: "\n").last else {
            throw CommandFailure(command: ["rtp_peer.py"], result: result)
        }
        return try JSONDecoder().decode(Report.self, from: Data(line.utf8))
    }
}
