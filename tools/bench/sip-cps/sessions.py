#!/usr/bin/env python3
"""Prints how many sessions a media relay holds (exit 1 if it does not answer within 5 s).

  sessions.py vos SOCKET        vos-mediad's control socket, op "stats" (docs/media-control-protocol.md)
  sessions.py rtpengine PORT    rtpengine's ng protocol on 127.0.0.1:PORT, command "list"
"""
import json, os, re, socket, sys, time


def vos(path):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(path)
    f = s.makefile("rwb")
    f.write(b'{"version": 1, "id": 1, "op": "stats"}\n')
    f.flush()
    return len(json.loads(f.readline())["sessions"])


def rtpengine(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    body = b"d7:command4:list5:limiti1000000ee"
    # A fresh cookie each time: rtpengine answers a repeated cookie from its cache of replies.
    cookie = b"sessions-%d-%d" % (os.getpid(), time.monotonic_ns())
    s.sendto(cookie + b" " + body, ("127.0.0.1", port))
    reply = s.recv(1 << 22).split(b" ", 1)[1]
    if b"6:result2:ok" not in reply:
        raise SystemExit("rtpengine: %r" % reply[:200])
    # d5:callsl<n>:<id>...e...: count the call-ids in the list (bencoded strings).
    start = reply.index(b"5:callsl") + len(b"5:callsl")
    count, i = 0, start
    while reply[i:i + 1] != b"e":
        length = int(re.match(rb"\d+", reply[i:]).group())
        i += len(str(length)) + 1 + length
        count += 1
    return count


if __name__ == "__main__":
    kind, where = sys.argv[1], sys.argv[2]
    print(vos(where) if kind == "vos" else rtpengine(int(where)))
