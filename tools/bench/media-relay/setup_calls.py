#!/usr/bin/env python3
"""Creates N relay sessions for the load generator and writes its map file.

vos:       newline-delimited JSON over the vos-mediad control socket (docs/media-control-protocol.md).
rtpengine: the ng protocol (bencode over UDP) - an offer with the caller's SDP, an answer with the
           callee's; the port in each returned SDP is where the *other* side must send.
Map line: caller_port callee_port relay_port_the_caller_sends_to relay_port_the_callee_sends_to
"""
import argparse, json, re, socket, sys, time


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


def sdp(port, session):
    return ("v=0\r\no=- %d 1 IN IP4 127.0.0.1\r\ns=bench\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=sendrecv\r\n" % (session, port))


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
            text = reply.split(b" ", 1)[1]
            if b"result2:ok" not in text:
                sys.exit("rtpengine refused %s: %r" % (body["command"], text[:200]))
            match = re.search(rb"m=audio (\d+)", text)
            if not match:
                sys.exit("no m=audio in rtpengine reply: %r" % text[:300])
            return int(match.group(1))
        sys.exit("rtpengine did not answer the ng protocol on %s:%d" % target)

    rows = []
    for index, (caller, callee) in enumerate(pairs):
        call = "bench-%d" % index
        for_callee = command("o%d" % index, {"command": "offer", "call-id": call, "from-tag": "a%d" % index,
                                             "sdp": sdp(caller, index), "flags": ["symmetric"]})
        for_caller = command("a%d" % index, {"command": "answer", "call-id": call, "from-tag": "a%d" % index,
                                             "to-tag": "b%d" % index, "sdp": sdp(callee, index), "flags": ["symmetric"]})
        rows.append((caller, callee, for_caller, for_callee))
    return rows


def vos_calls(args, pairs):
    control = socket.socket(socket.AF_UNIX)
    control.settimeout(5)
    control.connect(args.control)
    stream = control.makefile("rwb")
    rows = []
    for index, (caller, callee) in enumerate(pairs):
        request = {"version": 1, "id": index + 1, "op": "create", "tag": "bench-%d" % index,
                   "legs": [{"local": args.relay_ip_caller, "remote": "%s:%d" % (args.caller_ip, caller)},
                            {"local": args.relay_ip_callee, "remote": "%s:%d" % (args.callee_ip, callee)}]}
        stream.write((json.dumps(request) + "\n").encode())
        stream.flush()
        reply = json.loads(stream.readline())
        if not reply.get("ok"):
            sys.exit("vos-mediad refused create: %s" % reply.get("error"))
        legs = reply["sessions"][0]["legs"]
        rows.append((caller, callee, int(legs[0]["local"].rsplit(":", 1)[1]), int(legs[1]["local"].rsplit(":", 1)[1])))
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("relay", choices=["vos", "rtpengine"])
    parser.add_argument("--calls", type=int, required=True)
    parser.add_argument("--base-port", type=int, default=20000)
    parser.add_argument("--control", default="")
    parser.add_argument("--ng-port", type=int, default=22222)
    parser.add_argument("--map", required=True)
    # vos only: addresses of the two sides and of the relay towards each (kernel offload case).
    parser.add_argument("--caller-ip", default="127.0.0.1")
    parser.add_argument("--callee-ip", default="127.0.0.1")
    parser.add_argument("--relay-ip-caller", default="127.0.0.1")
    parser.add_argument("--relay-ip-callee", default="127.0.0.1")
    args = parser.parse_args()
    pairs = [(args.base_port + 2 * i, args.base_port + 2 * args.calls + 2 * i) for i in range(args.calls)]
    rows = vos_calls(args, pairs) if args.relay == "vos" else rtpengine_calls(args, pairs)
    with open(args.map, "w") as out:
        for row in rows:
            out.write("%d %d %d %d\n" % row)


if __name__ == "__main__":
    main()
