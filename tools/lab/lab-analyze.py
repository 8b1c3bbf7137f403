#!/usr/bin/env python3
"""vos deployment lab: what each end of a `lab.sh call` saw.

Reads the captures taken in the customer and vendor namespaces (customer.pcap, vendor.pcap) and
sipp's statistics, writes summary.json and prints a summary. Exit status 0 when every check
holds: both sipp ends completed the call; the customer saw vos only at its customer-side address
and the vendor only at its vendor-side address (Via, Contact, SDP c=); in-dialog requests went to
vos and were answered; RTP arrived at both ends from the answer to the BYE without a gap longer
than --max-gap seconds. Standard library only.
"""
import argparse
import json
import math
import os
import struct
import sys

COMPACT = {"v": "via", "m": "contact", "i": "call-id", "f": "from", "t": "to", "l": "content-length",
           "c": "content-type"}
METHODS = ("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "UPDATE", "PRACK", "INFO", "REFER", "NOTIFY",
           "MESSAGE", "REGISTER", "SUBSCRIBE")


def packets(path):
    """(time, src, sport, dst, dport, proto, payload) for every IPv4 packet of a pcap file."""
    with open(path, "rb") as handle:
        data = handle.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise ValueError(f"{path}: not a pcap file")
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(endian + "I", data[20:24])[0] & 0x0FFFFFFF
    offset = 24
    while offset + 16 <= len(data):
        seconds, fraction, captured, _ = struct.unpack(endian + "IIII", data[offset:offset + 16])
        frame = data[offset + 16:offset + 16 + captured]
        offset += 16 + captured
        when = seconds + fraction / (1e9 if nano else 1e6)
        if linktype == 1:  # Ethernet, maybe VLAN-tagged
            ethertype, ip = struct.unpack("!H", frame[12:14])[0], 14
            while ethertype in (0x8100, 0x88A8) and len(frame) >= ip + 4:
                ethertype, ip = struct.unpack("!H", frame[ip + 2:ip + 4])[0], ip + 4
        elif linktype == 113:  # Linux cooked
            ethertype, ip = struct.unpack("!H", frame[14:16])[0], 16
        elif linktype == 276:  # Linux cooked v2
            ethertype, ip = struct.unpack("!H", frame[0:2])[0], 20
        elif linktype in (101, 228):  # raw IP
            ethertype, ip = 0x0800, 0
        else:
            raise ValueError(f"{path}: link type {linktype} not handled")
        if ethertype != 0x0800 or len(frame) < ip + 20 or frame[ip] >> 4 != 4:
            continue
        header = (frame[ip] & 0x0F) * 4
        total = struct.unpack("!H", frame[ip + 2:ip + 4])[0]
        fragment = struct.unpack("!H", frame[ip + 6:ip + 8])[0] & 0x1FFF
        proto = frame[ip + 9]
        src = ".".join(str(b) for b in frame[ip + 12:ip + 16])
        dst = ".".join(str(b) for b in frame[ip + 16:ip + 20])
        body = frame[ip + header:ip + total]
        if fragment:
            continue
        if proto == 17 and len(body) >= 8:
            sport, dport = struct.unpack("!HH", body[:4])
            yield when, src, sport, dst, dport, "udp", body[8:]
        elif proto == 1:
            yield when, src, 0, dst, 0, "icmp", body


def parse_sip(payload):
    try:
        text = payload.decode("utf-8", "replace")
    except Exception:
        return None
    first = text.split("\r\n", 1)[0]
    if not (first.startswith("SIP/2.0 ") or first.split(" ", 1)[0] in METHODS):
        return None
    head, _, body = text.partition("\r\n\r\n")
    headers = {}
    for line in head.split("\r\n")[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            continue
        name = name.strip().lower()
        name = COMPACT.get(name, name)
        headers.setdefault(name, []).append(value.strip())
    message = {"start": first}
    if first.startswith("SIP/2.0 "):
        parts = first.split(" ", 2)
        message["status"] = int(parts[1]) if parts[1].isdigit() else 0
    else:
        message["method"] = first.split(" ", 1)[0]
        message["uri"] = first.split(" ")[1] if len(first.split(" ")) > 1 else ""
    cseq = headers.get("cseq", [""])[0].split()
    message["cseq"] = " ".join(cseq)
    message["cseq_method"] = cseq[1] if len(cseq) > 1 else ""
    message["call_id"] = headers.get("call-id", [""])[0]
    vias = [part.strip() for value in headers.get("via", []) for part in value.split(",") if part.strip()]
    message["via"] = [sent_by(via) for via in vias]
    contacts = headers.get("contact", [])
    message["contact"] = uri_host(contacts[0]) if contacts else None
    message["contact_raw"] = contacts[0] if contacts else None
    message["sdp_c"] = None
    message["sdp_m_port"] = None
    for line in body.split("\r\n"):
        if line.startswith("c=") and message["sdp_c"] is None:
            message["sdp_c"] = line.split()[-1]
        elif line.startswith("m=audio") and message["sdp_m_port"] is None:
            fields = line.split()
            message["sdp_m_port"] = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else None
    return message


def sent_by(via):
    """Host of a Via value: 'SIP/2.0/UDP 192.0.2.1:5060;branch=...' -> '192.0.2.1'."""
    fields = via.split(None, 1)
    host = fields[1] if len(fields) > 1 else ""
    host = host.split(";", 1)[0].strip()
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def uri_host(value):
    """Host of a name-addr or URI: '<sip:x@192.0.2.1:5060;transport=udp>' -> '192.0.2.1'."""
    start = value.find("sip:")
    if start < 0:
        return None
    uri = value[start + 4:]
    for stop in (">", ";", "?", " "):
        uri = uri.split(stop, 1)[0]
    hostport = uri.rsplit("@", 1)[-1]
    return hostport.rsplit(":", 1)[0] if hostport.count(":") == 1 else hostport


def sipp_counts(path):
    try:
        lines = [line for line in open(path, encoding="utf-8", errors="replace").read().splitlines() if line.strip()]
    except OSError:
        return {}
    if len(lines) < 2:
        return {}
    names, values = lines[0].split(";"), lines[-1].split(";")
    return {name: values[index] for index, name in enumerate(names) if index < len(values)}


def sipp_target(path):
    """Where the scenario's setdest sent in-dialog requests, from the line it logs."""
    try:
        for line in open(path, encoding="utf-8", errors="replace"):
            if " go to " in line:
                return line.rsplit(" go to ", 1)[1].strip()
    except OSError:
        pass
    return None


def end_view(path, me, media_port, sip_port, origin):
    """Everything one end saw: SIP messages in and out, RTP in and out, ICMP in."""
    view = {"ip": me, "sip": [], "rtp_in": [], "rtp_out": [], "icmp_in": [], "capture": os.path.basename(path)}
    if not os.path.exists(path):
        view["error"] = "no capture"
        return view
    for when, src, sport, dst, dport, proto, payload in packets(path):
        if proto == "icmp":
            if dst == me:
                view["icmp_in"].append(when)
            continue
        if sport == sip_port or dport == sip_port:
            message = parse_sip(payload)
            if message is None:
                continue
            message.update({"t": round(when - origin, 4), "time": when, "direction": "in" if dst == me else "out",
                            "src": f"{src}:{sport}", "dst": f"{dst}:{dport}"})
            view["sip"].append(message)
            continue
        if len(payload) >= 12 and payload[0] >> 6 == 2 and not 200 <= payload[1] <= 204:
            if dst == me and dport == media_port:
                view["rtp_in"].append((when, f"{src}:{sport}"))
            elif src == me and sport == media_port:
                view["rtp_out"].append((when, f"{dst}:{dport}"))
    return view


def stream(times, answer, bye, origin):
    """Packets of one direction against the call's answer and BYE as seen at that end."""
    result = {"packets": len(times), "first": None, "last": None, "startup": None, "max_gap": None,
              "max_gap_at": None, "per_second": [], "sources": []}
    if answer is None:
        return result
    end = bye if bye is not None else (times[-1] if times else answer)
    seconds = max(1, math.ceil(end - answer))
    counts = [0] * seconds
    for when in times:
        if answer <= when < answer + seconds:
            counts[int(when - answer)] += 1
    result["per_second"] = counts
    inside = [when for when in times if answer <= when <= end]
    if not inside:
        return result
    result["first"] = round(inside[0] - origin, 3)
    result["last"] = round(inside[-1] - origin, 3)
    result["startup"] = round(inside[0] - answer, 3)
    gaps = [(b - a, a) for a, b in zip(inside, inside[1:] + [end])]
    gap, at = max(gaps) if gaps else (0.0, inside[0])
    result["max_gap"] = round(gap, 3)
    result["max_gap_at"] = round(at - origin, 3)
    return result


def main():
    parser = argparse.ArgumentParser()
    for name in ("out", "mode", "hangup", "customer-ip", "vendor-ip", "vos-customer-side", "vos-vendor-side"):
        parser.add_argument("--" + name, required=True)
    for name in ("seconds", "sip-port", "media-port", "customer-exit", "vendor-exit"):
        parser.add_argument("--" + name, type=int, required=True)
    parser.add_argument("--started", type=float, required=True)
    parser.add_argument("--max-gap", type=float, default=1.0)
    args = parser.parse_args()

    origin = args.started
    ends = {
        "customer": end_view(os.path.join(args.out, "customer.pcap"), args.customer_ip, args.media_port, args.sip_port, origin),
        "vendor": end_view(os.path.join(args.out, "vendor.pcap"), args.vendor_ip, args.media_port, args.sip_port, origin),
    }
    vos_at = {"customer": args.vos_customer_side, "vendor": args.vos_vendor_side}
    exits = {"customer": args.customer_exit, "vendor": args.vendor_exit}
    checks = {}

    def check(name, ok, detail):
        checks[name] = {"ok": bool(ok), "detail": detail}

    for role, view in ends.items():
        counts = sipp_counts(os.path.join(args.out, f"{role}-stat.csv"))
        view["sipp"] = {"exit": exits[role], "successful": int(counts.get("SuccessfulCall(C)", "-1") or -1),
                        "failed": int(counts.get("FailedCall(C)", "-1") or -1)}
        sip = view["sip"]
        # The answer: the 200 for the INVITE (received by the customer, sent by the vendor), first copy.
        answers = [m for m in sip if m.get("status") == 200 and m["cseq_method"] == "INVITE"]
        view["answer"] = answers[0]["time"] if answers else None
        view["invite_200_copies"] = len(answers)
        byes = [m for m in sip if m.get("method") == "BYE"]
        view["bye"] = byes[0]["time"] if byes else None
        view["rtp_received"] = stream([t for t, _ in view["rtp_in"]], view["answer"], view["bye"], origin)
        view["rtp_received"]["sources"] = sorted({s for _, s in view["rtp_in"]})
        view["rtp_sent"] = stream([t for t, _ in view["rtp_out"]], view["answer"], view["bye"], origin)
        view["rtp_sent"]["destinations"] = sorted({d for _, d in view["rtp_out"]})
        icmp = view.pop("icmp_in")
        view["icmp_in"] = len(icmp)
        view["icmp_in_during_call"] = len([t for t in icmp if view["answer"] is not None and view["answer"] <= t
                                           and (view["bye"] is None or t <= view["bye"])])
        for key in ("answer", "bye"):
            if view[key] is not None:
                view[key] = round(view[key] - origin, 4)
        check(f"{role}_call_completed", view["sipp"]["exit"] == 0 and view["sipp"]["successful"] == 1,
              f"sipp exit {view['sipp']['exit']}, successful {view['sipp']['successful']}, failed {view['sipp']['failed']}")

        # Addresses of vos in what this end received: Contact and SDP c= everywhere; the top Via of
        # requests vos sent (in responses the top Via is this end's own).
        wrong, seen = [], set()
        for m in sip:
            if m["direction"] != "in":
                continue
            fields = [("source", m["src"].rsplit(":", 1)[0])]
            if m["contact"]:
                fields.append(("Contact", m["contact"]))
            if m["sdp_c"]:
                fields.append(("SDP c=", m["sdp_c"]))
            if "method" in m and m["via"]:
                fields.append(("Via", m["via"][0]))
            for field, value in fields:
                seen.add(f"{field} {value}")
                if value != vos_at[role]:
                    wrong.append(f"{m['start'].split(' SIP/2.0')[0]} ({m['cseq']}) {field} {value}")
        check(f"{role}_sees_vos_at_{vos_at[role]}", not wrong and bool(seen),
              "; ".join(sorted(set(wrong))) if wrong else ("only " + vos_at[role] if seen else "nothing received from vos"))

        # In-dialog requests this end sends (the customer's ACK, the hanging-up end's BYE) went to
        # vos on this end's side, and the BYE got its 200. sipp sends them to the Contact vos gave
        # (setdest): one that never left the interface went somewhere else (see <role>-actions.log).
        expected = (["ACK"] if role == "customer" else []) + (["BYE"] if args.hangup == role else [])
        if expected:
            sent = [m for m in sip if m["direction"] == "out" and m.get("method") in expected]
            problems = [f"{m['method']} to {m['dst']}" for m in sent if m["dst"].rsplit(":", 1)[0] != vos_at[role]]
            for method in expected:
                if not any(m["method"] == method for m in sent):
                    target = sipp_target(os.path.join(args.out, f"{role}-actions.log"))
                    problems.append(f"no {method} left the interface" + (f" (sipp sent it to {target}, the Contact vos gave)" if target else ""))
            detail = []
            for m in (m for m in sent if m["method"] == "BYE"):
                answered = [r for r in sip if r["direction"] == "in" and r.get("status") == 200 and r["cseq"] == m["cseq"]
                            and r["call_id"] == m["call_id"]]
                if not answered:
                    problems.append("BYE not answered")
                detail.append("BYE answered 200" if answered else "BYE not answered")
            where = ", ".join(sorted({f"{m['method']} to {m['dst']}" for m in sent}))
            check(f"{role}_requests_reach_vos", not problems, "; ".join(problems) if problems else "; ".join([where] + detail))

    customer, vendor = ends["customer"], ends["vendor"]
    copies = customer["invite_200_copies"]
    check("customer_ack_reached_vos", copies == 1,
          "the 200 OK for the INVITE arrived once: vos got the ACK" if copies == 1 else
          f"the 200 OK for the INVITE arrived {copies} times" + (" (vos retransmitted it: no ACK reached vos)" if copies > 1 else ""))
    for role, label in (("customer", "audio_to_customer"), ("vendor", "audio_to_vendor")):
        received = ends[role]["rtp_received"]
        ok = (received["packets"] > 0 and received["startup"] is not None and received["startup"] <= 2.0
              and received["max_gap"] is not None and received["max_gap"] <= args.max_gap and ends[role]["bye"] is not None)
        check(label, ok, f"{received['packets']} packets, first {received['startup']} s after the answer, "
                         f"longest gap {received['max_gap']} s at t={received['max_gap_at']} (BYE at t={ends[role]['bye']})")

    ok = all(c["ok"] for c in checks.values())
    summary = {"ok": ok, "mode": args.mode, "seconds": args.seconds, "hangup": args.hangup, "max_gap_limit": args.max_gap,
               "checks": checks, "failures": [name for name, c in checks.items() if not c["ok"]]}
    for role, view in ends.items():
        view.pop("rtp_in")
        view.pop("rtp_out")
        for m in view["sip"]:
            m.pop("time")
        summary[role] = view
    with open(os.path.join(args.out, "summary.json"), "w") as handle:
        json.dump(summary, handle, indent=1, sort_keys=True)

    print(f"call ({args.mode}, {args.seconds} s, {args.hangup} hangs up): {'OK' if ok else 'FAILED'}")
    for role in ("customer", "vendor"):
        view = ends[role]
        received = view["rtp_received"]
        print(f"  {role} {view['ip']}: answer t={view['answer']} BYE t={view['bye']}, RTP in {received['packets']} "
              f"(sent {view['rtp_sent']['packets']}), ICMP in {view['icmp_in']} ({view['icmp_in_during_call']} during the call)")
        print(f"    RTP received per second: {' '.join(str(c) for c in received['per_second'])}")
        for m in view["sip"]:
            print(f"    t={m['t']:7.3f} {m['direction']:3} {m['src']:>21} -> {m['dst']:<21} {m['start'][:40]}"
                  + (f"  Contact {m['contact']}" if m["contact"] else "") + (f"  c={m['sdp_c']}" if m["sdp_c"] else ""))
    for name, c in checks.items():
        print(f"  [{'ok' if c['ok'] else 'FAIL'}] {name}: {c['detail']}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
