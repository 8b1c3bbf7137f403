import Foundation
import MediaControl

/// An RTP endpoint that also speaks RTCP (python3, run under `ip netns exec`): 20 ms RTP of 172
/// bytes from `--bind` to `--to` for `--rtp-seconds`, and every `--rtcp-interval` a compound
/// RTCP datagram (SR while it sends RTP, RR afterwards, then SDES CNAME) with one report block
/// about `--peer-ssrc` carrying the given `--fraction` (x/256), `--cumulative` lost and
/// `--jitter` (timestamp units). LSR/DLSR answer the newest SR from the peer held at least
/// `--extra-ms`, with the hold time under-reported by that much, so the relay's round trip to this
/// peer reads about `--extra-ms` (veth adds well under a millisecond). RTCP is sent from RTP port + 1 to the relay's port + 1, or with `--mux`
/// from the RTP socket to the RTP port (RFC 5761); both sockets are read either way.
/// `--garbage` first sends one datagram to the RTCP port that is not valid RTCP.
/// Prints one JSON line: RTP and RTCP sent and received.
enum RTCPPeerScript {
    static let source = #"""
import argparse, json, select, socket, struct, time
p = argparse.ArgumentParser()
p.add_argument("--bind", required=True); p.add_argument("--to", required=True)
p.add_argument("--rtp-seconds", type=float, default=3); p.add_argument("--listen", type=float, default=4)
p.add_argument("--ssrc", type=int, required=True); p.add_argument("--peer-ssrc", type=int, required=True)
p.add_argument("--fraction", type=int, default=0); p.add_argument("--cumulative", type=int, default=0)
p.add_argument("--jitter", type=int, default=0); p.add_argument("--extra-ms", type=float, default=0)
p.add_argument("--rtcp-interval", type=float, default=0.25); p.add_argument("--mux", action="store_true")
p.add_argument("--garbage", action="store_true")
a = p.parse_args()
host, port = a.bind.rsplit(":", 1); port = int(port)
to_host, to_port = a.to.rsplit(":", 1); to_port = int(to_port)
rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); rtp.bind((host, port)); rtp.setblocking(False)
rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); rtcp.bind((host, port + 1)); rtcp.setblocking(False)
rtcp_out, rtcp_to = (rtp, (to_host, to_port)) if a.mux else (rtcp, (to_host, to_port + 1))
start = time.monotonic(); deadline = start + a.listen
next_rtp = start; next_rtcp = start + 0.1
sent = {"rtp": 0, "rtcp": 0}; got = {"rtp": 0, "rtcp": 0, "sr": 0}
seq = 100; ts = 0; highest = 0
recent_sr = []  # (middle 32 bits, monotonic arrival) of the last SRs received, oldest first

def ntp_now():
    t = time.time() + 2208988800
    seconds = int(t); fraction = int((t - seconds) * (1 << 32)) & 0xFFFFFFFF
    return seconds & 0xFFFFFFFF, fraction

def report():
    sending = time.monotonic() < start + a.rtp_seconds
    lsr = dlsr = 0
    # The newest SR held at least --extra-ms (an older one than the last when SRs come faster).
    for middle, arrival in reversed(recent_sr):
        held = time.monotonic() - arrival - a.extra_ms / 1000.0
        if held >= 0:
            lsr, dlsr = middle, int(held * 65536)
            break
    block = struct.pack("!IB", a.peer_ssrc, a.fraction) + (a.cumulative & 0xFFFFFF).to_bytes(3, "big") \
        + struct.pack("!IIII", highest, a.jitter, lsr, dlsr)
    if sending:
        seconds, fraction = ntp_now()
        body = struct.pack("!IIIIII", a.ssrc, seconds, fraction, ts, sent["rtp"], sent["rtp"] * 160) + block
        packet = struct.pack("!BBH", 0x81, 200, len(body) // 4) + body
    else:
        body = struct.pack("!I", a.ssrc) + block
        packet = struct.pack("!BBH", 0x81, 201, len(body) // 4) + body
    cname = b"peer%d" % a.ssrc
    chunk = struct.pack("!IBB", a.ssrc, 1, len(cname)) + cname + b"\0"
    chunk += b"\0" * (-len(chunk) % 4)
    return packet + struct.pack("!BBH", 0x81, 202, len(chunk) // 4) + chunk

def take(data):
    global recent_sr, highest
    if len(data) >= 2 and 200 <= data[1] <= 204:
        got["rtcp"] += 1
        if data[1] == 200 and len(data) >= 28:
            got["sr"] += 1
            recent_sr = (recent_sr + [(struct.unpack("!I", data[10:14])[0], time.monotonic())])[-3:]
    elif len(data) >= 12:
        got["rtp"] += 1
        highest = max(highest, struct.unpack("!H", data[2:4])[0])

if a.garbage:
    rtcp.sendto(b"\x80\xc9\x00\x09not rtcp at all", (to_host, to_port + 1))
while time.monotonic() < deadline:
    now = time.monotonic()
    while now < start + a.rtp_seconds and now >= next_rtp:
        rtp.sendto(struct.pack("!BBHII", 0x80, 8, seq & 0xFFFF, ts & 0xFFFFFFFF, a.ssrc) + b"\xd5" * 160, (to_host, to_port))
        sent["rtp"] += 1; seq += 1; ts += 160; next_rtp += 0.02
    if now >= next_rtcp:
        rtcp_out.sendto(report(), rtcp_to); sent["rtcp"] += 1; next_rtcp += a.rtcp_interval
    wake = min(next_rtcp, next_rtp if now < start + a.rtp_seconds else deadline, deadline)
    readable, _, _ = select.select([rtp, rtcp], [], [], max(0, wake - time.monotonic()))
    for s in readable:
        while True:
            try: data, _ = s.recvfrom(2048)
            except BlockingIOError: break
            take(data)
print(json.dumps({"sent": sent, "received": got}))
"""#

    static func install(in directory: String) throws -> String {
        let path = directory + "/rtcp_peer.py"
        try source.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    struct Report: Decodable, CustomStringConvertible {
        struct Counts: Decodable {
            let rtp: Int
            let rtcp: Int
            let sr: Int?
        }

        let sent: Counts
        let received: Counts
        var description: String {
            "sent \(sent.rtp) RTP / \(sent.rtcp) RTCP, received \(received.rtp) RTP / \(received.rtcp) RTCP (\(received.sr ?? 0) SR)"
        }
    }

    static func report(_ result: CommandResult) throws -> Report {
        guard let line = result.output.split(separator: "\n").last else {
            throw CommandFailure(command: ["rtcp_peer.py"], result: result)
        }
        return try JSONDecoder().decode(Report.self, from: Data(line.utf8))
    }
}
