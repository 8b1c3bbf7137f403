#!/usr/bin/env python3
"""Creates N transcoding relay sessions (caller PCMA <-> callee G.729) and writes the load generator's map.

vos:       newline-delimited JSON over the vos-mediad control socket (docs/media-control-protocol.md);
           each leg of `create` carries its negotiated `media` (leg 0 PCMA/8, leg 1 G729/18, 20 ms).
rtpengine: the ng protocol (bencode over UDP). The caller's offer SDP has PCMA only; the offer carries
           codec {mask: [PCMA], transcode: [G729]}, so the SDP rtpengine gives the callee offers G.729
           only; the callee answers G.729 only, and the SDP rtpengine gives the caller answers PCMA.
           The port in each returned SDP is where the *other* side must send. The script checks both
           returned SDPs (any other codec means no transcoding) and writes the first call's to --sdp-log.
Map line: caller_port callee_port relay_port_the_caller_sends_to relay_port_the_callee_sends_to
"""
import argparse, json, re, socket, sys

PCMA = (8, "PCMA/8000", "")
G729 = (18, "G729/8000", "a=fmtp:18 annexb=no\r\n")


def bencode(value):
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in sorted(value.items())) + b"e"
    raise TypeError(type(value))


def bdecode(data, i=0):
    """Returns (value, next index)."""
    c = data[i:i + 1]
    if c == b"i":
        end = data.index(b"e", i)
        return int(data[i + 1:end]), end + 1
    if c == b"l":
        i, out = i + 1, []
        while data[i:i + 1] != b"e":
            v, i = bdecode(data, i)
            out.append(v)
        return out, i + 1
    if c == b"d":
        i, out = i + 1, {}
        while data[i:i + 1] != b"e":
            k, i = bdecode(data, i)
            v, i = bdecode(data, i)
            out[k.decode()] = v
        return out, i + 1
    colon = data.index(b":", i)
    n = int(data[i:colon])
    return data[colon + 1:colon + 1 + n], colon + 1 + n


def sdp(port, session, codec):
    pt, rtpmap, fmtp = codec
    return ("v=0\r\no=- %d 1 IN IP4 127.0.0.1\r\ns=bench\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP %d\r\na=rtpmap:%d %s\r\n%sa=ptime:20\r\na=sendrecv\r\n"
            % (session, port, pt, pt, rtpmap, fmtp))


def check_sdp(text, want, what):
    """The returned SDP must offer exactly one codec, `want` (no telephone-event either: only audio)."""
    media = re.search(r"m=audio (\d+) RTP/AVP ([\d ]+)", text)
    if not media:
        sys.exit("no m=audio in rtpengine's %s SDP: %r" % (what, text[:400]))
    pts = media.group(2).split()
    names = re.findall(r"a=rtpmap:(\d+) ([^\r\n]+)", text)
    audio = [(pt, name) for pt, name in names if not name.lower().startswith("telephone-event")]
    if [a for a in audio] != [(str(want[0]), want[1])] or pts[0] != str(want[0]):
        sys.exit("rtpengine's %s SDP does not transcode to %s only: m=%s rtpmap=%s" % (what, want[1], pts, names))
    return int(media.group(1))


def rtpengine_calls(args, pairs):
    ng = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ng.settimeout(2)
    target = ("127.0.0.1", args.ng_port)

    def command(cookie, body):
        for _attempt in range(3):
            ng.sendto(cookie.encode() + b" " + bencode(body), target)
            try:
                reply = ng.recv(65536)
            except socket.timeout:
                continue
            got_cookie, text = reply.split(b" ", 1)
            if got_cookie.decode() != cookie:
                continue
            value, _ = bdecode(text)
            if value.get("result") != b"ok":
                sys.exit("rtpengine refused %s: %r" % (body["command"], value))
            return value["sdp"].decode()
        sys.exit("rtpengine did not answer the ng protocol on %s:%d" % target)

    rows, log = [], []
    for index, (caller, callee) in enumerate(pairs):
        call = "transcode-%d" % index
        offer = command("o%d" % index, {"command": "offer", "call-id": call, "from-tag": "a%d" % index,
                                        "sdp": sdp(caller, index, PCMA),
                                        "codec": {"mask": ["PCMA"], "transcode": ["G729"]}})
        for_callee = check_sdp(offer, (18, "G729/8000"), "offer")
        answer = command("a%d" % index, {"command": "answer", "call-id": call, "from-tag": "a%d" % index,
                                         "to-tag": "b%d" % index, "sdp": sdp(callee, index, G729)})
        for_caller = check_sdp(answer, (8, "PCMA/8000"), "answer")
        if index == 0:
            log = ["# offer SDP from rtpengine (to the callee)", offer, "# answer SDP from rtpengine (to the caller)", answer]
        rows.append((caller, callee, for_caller, for_callee))
    if args.sdp_log:
        with open(args.sdp_log, "w") as out:
            out.write("\n".join(log))
    return rows


def vos_calls(args, pairs):
    control = socket.socket(socket.AF_UNIX)
    control.settimeout(5)
    control.connect(args.control)
    stream = control.makefile("rwb")
    rows = []
    for index, (caller, callee) in enumerate(pairs):
        request = {"version": 1, "id": index + 1, "op": "create", "tag": "transcode-%d" % index,
                   "legs": [{"local": "127.0.0.1", "remote": "127.0.0.1:%d" % caller,
                             "media": {"codec": "PCMA", "payloadType": 8, "ptime": 20}},
                            {"local": "127.0.0.1", "remote": "127.0.0.1:%d" % callee,
                             "media": {"codec": "G729", "payloadType": 18, "ptime": 20}}]}
        stream.write((json.dumps(request) + "\n").encode())
        stream.flush()
        line = stream.readline()
        if not line:
            sys.exit("vos-mediad closed the control connection")
        reply = json.loads(line)
        if not reply.get("ok"):
            sys.exit("vos-mediad refused create: %s" % reply.get("error"))
        legs = reply["sessions"][0]["legs"]
        rows.append((caller, callee, int(legs[0]["local"].rsplit(":", 1)[1]), int(legs[1]["local"].rsplit(":", 1)[1])))
        if index == 0 and args.sdp_log:
            with open(args.sdp_log, "w") as out:
                out.write("# vos-mediad create request and reply\n%s\n%s" % (json.dumps(request), line.decode()))
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("relay", choices=["vos", "rtpengine"])
    parser.add_argument("--calls", type=int, required=True)
    parser.add_argument("--base-port", type=int, default=20000)
    parser.add_argument("--control", default="")
    parser.add_argument("--ng-port", type=int, default=22222)
    parser.add_argument("--map", required=True)
    parser.add_argument("--sdp-log", default="")
    args = parser.parse_args()
    pairs = [(args.base_port + 2 * i, args.base_port + 2 * args.calls + 2 * i) for i in range(args.calls)]
    rows = vos_calls(args, pairs) if args.relay == "vos" else rtpengine_calls(args, pairs)
    with open(args.map, "w") as out:
        for row in rows:
            out.write("%d %d %d %d\n" % row)


if __name__ == "__main__":
    main()
