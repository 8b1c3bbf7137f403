#!/usr/bin/env bash
# Benchmarks vos-mediad against rtpengine (userspace, no kernel module) under the same load:
#   paced: CALLS calls, 50 packets/s per direction, 172-byte RTP, each stream from its own socket
#   flood: FLOOD_CALLS calls; by default (FLOOD_PPS=0) the generator sends one packet per stream
#          back to back, then reads what came back, as fast as one thread can (a fixed rate above
#          what the generator can also receive on 2 cores would measure the generator, not the relay)
#   offload: OFFLOAD_CALLS calls (default 2000) at 50 packets/s per direction through vos-mediad with
#          kernel offload (SS_MEDIA_KERNEL_OFFLOAD=1). Offload needs forwarded traffic, which loopback
#          cannot give, so callers and callees run in a namespace "gen" on two veth links to a namespace
#          "relay" (10.201.1.0/24, 10.201.2.0/24); both are created here and deleted on exit. Reports
#          the relay process CPU (% of one core) while the kernel forwards, and how many sessions the
#          relay reports with path "kernel". rtpengine is not run for this case.
# Prints relayed packets/s, loss, relay CPU us per packet (utime+stime delta from /proc/PID/stat
# over the measured window / packets relayed in it), p50/p99 latency through the relay and the
# vos/rtpengine ratio. Everything binds to 127.0.0.1; every wait is bounded.
# Last line: "ratio cpu_per_packet vos/rtpengine: X" for the paced case (median over PACED_RUNS
# alternating rtpengine/vos pairs, default 3).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
SCRATCH="${SCRATCH:-$ROOT/.build}"
CALLS="${CALLS:-500}"
FLOOD_CALLS="${FLOOD_CALLS:-50}"
# Flood: each stream at this rate, or 0 for back to back.
FLOOD_PPS="${FLOOD_PPS:-0}"
DURATION="${DURATION:-15}"
WARMUP="${WARMUP:-3}"
CASES="${CASES:-paced flood offload}"
# Paced case: this many rtpengine/vos pairs; the reported ratio is the median of the pairs' ratios.
PACED_RUNS="${PACED_RUNS:-3}"
PACED_RATIOS=()
OFFLOAD_CALLS="${OFFLOAD_CALLS:-2000}"
# Latching and offloading 2000 calls takes a few seconds; the window starts after it.
OFFLOAD_WARMUP="${OFFLOAD_WARMUP:-8}"
NS_GEN="vosbench-gen-$$"
NS_RELAY="vosbench-relay-$$"
NAMESPACES=""
VOS_MEDIAD_ARGS="${VOS_MEDIAD_ARGS:-}"
WORK="$(mktemp -d /tmp/vos-media-bench.XXXXXX)"
RELAY_PID=""

cleanup() {
    if [[ -n "$RELAY_PID" ]] && kill -0 "$RELAY_PID" 2>/dev/null; then kill "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null || true; fi
    for ns in $NAMESPACES; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

need() { command -v "$1" >/dev/null 2>&1; }
if ! need rtpengine || ! need gcc || ! need python3; then
    echo "installing rtpengine-daemon, gcc, python3" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y rtpengine-daemon gcc python3 >&2
fi

gcc -O2 -Wall -o "$WORK/loadgen" "$HERE/loadgen.c"

VOS_MEDIAD="${VOS_MEDIAD:-$SCRATCH/release/vos-mediad}"
if [[ ! -x "$VOS_MEDIAD" ]]; then
    echo "building vos-mediad (release) into $SCRATCH" >&2
    (cd "$ROOT" && swift build -c release --scratch-path "$SCRATCH" --product vos-mediad >&2)
fi
VOSCTL="${VOSCTL:-}"
for candidate in "$SCRATCH/release/vosctl" "$SCRATCH/debug/vosctl"; do
    [[ -z "$VOSCTL" && -x "$candidate" ]] && VOSCTL="$candidate"
done
if [[ -z "$VOSCTL" ]]; then
    (cd "$ROOT" && swift build -c release --scratch-path "$SCRATCH" --product vosctl >&2)
    VOSCTL="$SCRATCH/release/vosctl"
fi

# Waits (at most 10 s) until a command succeeds.
wait_for() {
    local deadline=$((SECONDS + 10))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || { echo "timed out waiting for: $*" >&2; return 1; }
        sleep 0.1
    done
}

# A fresh store in $WORK/vos-data with these parameters (NAME VALUE pairs); RTP ports from 24000.
new_vos_store() {
    local data="$WORK/vos-data"
    rm -rf "$data" && mkdir -p "$data"
    "$VOSCTL" --data-dir "$data" init >/dev/null
    "$VOSCTL" --data-dir "$data" param set SS_MEDIAPROXYPORT_START 24000 >/dev/null
    while (($# >= 2)); do
        "$VOSCTL" --data-dir "$data" param set "$1" "$2" >/dev/null
        shift 2
    done
}

start_vos() {
    local data="$WORK/vos-data"
    # Loopback: the userspace path against rtpengine's userspace path (offload cannot relay
    # loopback traffic, and its nat table would turn conntrack on for everything on the host).
    # The host's namespace: no firewall table either (its conntrack rules would tax both relays'
    # loopback traffic, and it would outlive the run); rtpengine runs without one too.
    new_vos_store SS_MEDIAPROXYPORT_END 27999 SS_MEDIA_KERNEL_OFFLOAD 0 SS_FIREWALL_ENABLE 0
    "$VOS_MEDIAD" --data-dir "$data" --control "$data/mediad.sock" --media-ip 127.0.0.1 $VOS_MEDIAD_ARGS 2>"$WORK/vos.log" &
    RELAY_PID=$!
    wait_for test -S "$data/mediad.sock"
    python3 "$HERE/setup_calls.py" vos --calls "$1" --control "$data/mediad.sock" --map "$WORK/map"
}

start_rtpengine() {
    # Another rtpengine on the ng port would take some of the calls and skew the CPU figures.
    if ss -Hlun 'sport = :22222' | grep -q .; then echo "UDP 127.0.0.1:22222 is already in use; stop that process first" >&2; exit 1; fi
    rtpengine --config-file=none --foreground --log-stderr --log-level=3 --table=-1 --num-threads=2 \
        --interface=127.0.0.1 --listen-ng=127.0.0.1:22222 --port-min=28000 --port-max=31999 2>"$WORK/rtpengine.log" &
    RELAY_PID=$!
    sleep 0.5
    kill -0 "$RELAY_PID" || { cat "$WORK/rtpengine.log" >&2; exit 1; }
    python3 "$HERE/setup_calls.py" rtpengine --calls "$1" --ng-port 22222 --map "$WORK/map"
}

# gen (callers 10.201.1.2, callees 10.201.2.2) <-> relay (10.201.1.1, 10.201.2.1), forwarding on.
setup_offload_namespaces() {
    [[ -n "$NAMESPACES" ]] && return
    ip netns add "$NS_GEN" && NAMESPACES="$NS_GEN"
    ip netns add "$NS_RELAY" && NAMESPACES="$NAMESPACES $NS_RELAY"
    local subnet=1
    for side in a b; do
        ip link add "vbg$$$side" type veth peer name "vbr$$$side"
        ip link set "vbg$$$side" netns "$NS_GEN"
        ip link set "vbr$$$side" netns "$NS_RELAY"
        ip -n "$NS_GEN" addr add "10.201.$subnet.2/24" dev "vbg$$$side"
        ip -n "$NS_RELAY" addr add "10.201.$subnet.1/24" dev "vbr$$$side"
        ip -n "$NS_GEN" link set "vbg$$$side" up
        ip -n "$NS_RELAY" link set "vbr$$$side" up
        subnet=$((subnet + 1))
    done
    ip -n "$NS_GEN" link set lo up
    ip -n "$NS_RELAY" link set lo up
    # The appliance sets this in sysctl (appliance/sysctl/90-vos.conf); vos-mediad requires it.
    ip netns exec "$NS_RELAY" sysctl -qw net.ipv4.ip_forward=1
}

start_vos_offload() {
    setup_offload_namespaces
    local data="$WORK/vos-data"
    new_vos_store SS_MEDIAPROXYPORT_END 31999 SS_MEDIA_KERNEL_OFFLOAD 1
    # `ip netns exec` execs the daemon, so $! is vos-mediad's own PID.
    ip netns exec "$NS_RELAY" "$VOS_MEDIAD" --data-dir "$data" --control "$data/mediad.sock" --media-ip 10.201.1.1 $VOS_MEDIAD_ARGS 2>"$WORK/vos.log" &
    RELAY_PID=$!
    wait_for test -S "$data/mediad.sock"
    python3 "$HERE/setup_calls.py" vos --calls "$1" --control "$data/mediad.sock" --map "$WORK/map" \
        --caller-ip 10.201.1.2 --callee-ip 10.201.2.2 --relay-ip-caller 10.201.1.1 --relay-ip-callee 10.201.2.1
}

# Sessions the relay reports with every leg on path "kernel" (over the control socket directly:
# 2000 sessions' statistics are more than one vosctl reply line may hold).
count_offloaded() {
    python3 - "$WORK/vos-data/mediad.sock" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(20)
s.connect(sys.argv[1])
f = s.makefile("rwb")
f.write(b'{"version": 1, "id": 1, "op": "stats"}\n')
f.flush()
reply = json.loads(f.readline())
print(sum(all(leg["path"] == "kernel" for leg in session["legs"]) for session in reply["sessions"]))
PY
}

stop_relay() {
    kill "$RELAY_PID" && wait "$RELAY_PID" 2>/dev/null || true
    RELAY_PID=""
    sleep 0.5
}

# run RELAY CASE CALLS PPS_PER_STREAM -> one key=value line
run() {
    local relay=$1 case=$2 calls=$3 pps=$4
    "start_$relay" "$calls"
    "$WORK/loadgen" --map "$WORK/map" --pps-per-stream "$pps" --duration "$DURATION" --warmup "$WARMUP" \
        --pid "$RELAY_PID" --label "$relay/$case"
    # How vos-mediad received (port capture or per-leg sockets), for the record.
    [[ $relay == vos ]] && { grep -iE "capture" "$WORK/vos.log" >&2 || true; }
    stop_relay
}

field() { sed -n "s/.*\b$2=\([^ ]*\).*/\1/p" <<<"$1"; }

declare -A RESULT
for case in $CASES; do
    if [[ $case == offload ]]; then
        start_vos_offload "$OFFLOAD_CALLS"
        # Two generators, half the calls each: with offload, forwarding and delivery run in the
        # senders' softirq context, so one generator thread saturates at ~100k packets/s each way
        # long before the kernel path does.
        split -n l/2 -d "$WORK/map" "$WORK/map.part"
        # Each generator reads its streams' replies through one TPROXY socket (see loadgen.c,
        # --capture-port): 40000 + part, steered by a map of its stream ports in the gen namespace.
        {
            echo "table ip vosbench_gen {"
            echo "  map capture { type inet_service : inet_service; elements = {"
            for part in 0 1; do
                awk -v p=$((40000 + part)) '{ printf "    %s : %d, %s : %d,\n", $1, p, $2, p }' "$WORK/map.part0$part"
            done
            echo "  } }"
            echo "  chain prerouting { type filter hook prerouting priority dstnat + 1; meta l4proto udp tproxy to : udp dport map @capture; }"
            echo "}"
        } >"$WORK/gen-capture.nft"
        ip netns exec "$NS_GEN" nft -f "$WORK/gen-capture.nft"
        generators=()
        for part in 0 1; do
            ip netns exec "$NS_GEN" "$WORK/loadgen" --map "$WORK/map.part0$part" --pps-per-stream 50 --duration "$DURATION" \
                --warmup "$OFFLOAD_WARMUP" --pid "$RELAY_PID" --label "vos/offload" --capture-port $((40000 + part)) \
                --caller-ip 10.201.1.2 --callee-ip 10.201.2.2 --relay-ip-caller 10.201.1.1 --relay-ip-callee 10.201.2.1 \
                >"$WORK/offload.$part" &
            generators+=($!)
        done
        wait "${generators[@]}"
        line=$(python3 - "$WORK/offload.0" "$WORK/offload.1" <<'PY'
import sys
rows = [dict(kv.split("=", 1) for kv in open(path).read().split()) for path in sys.argv[1:]]
sent = sum(int(r["sent"]) for r in rows); received = sum(int(r["received"]) for r in rows)
# Both generators watched the same relay process over the same window: its CPU is counted once.
cpu = max(float(r["relay_cpu_pct"]) for r in rows); pps = sum(float(r["relayed_pps"]) for r in rows)
print("label=vos/offload streams=%d sent=%d received=%d loss_pct=%.3f relayed_pps=%.0f cpu_us_per_packet=%.3f relay_cpu_pct=%.2f "
      "p50_us=%s p99_us=%s generators=2" % (sum(int(r["streams"]) for r in rows), sent, received,
      100.0 * max(0, sent - received) / sent if sent else 0, pps, cpu * 1e4 / pps if pps else 0, cpu,
      max(int(r["p50_us"]) for r in rows), max(int(r["p99_us"]) for r in rows)))
PY
)
        line="$line offloaded=$(count_offloaded)"
        # Where lost packets went: full generator socket buffers (generator behind), or the relay
        # namespace (conntrack insert failures, which a NAT clash would show).
        echo "gen namespace: $(ip netns exec "$NS_GEN" nstat -az UdpRcvbufErrors UdpInErrors 2>/dev/null | awk 'NR > 1 {printf "%s=%s ", $1, $2}')" >&2
        echo "relay namespace conntrack: $(ip netns exec "$NS_RELAY" conntrack -S 2>/dev/null | grep -o 'insert_failed=[0-9]*\|drop=[0-9]*' | sort | uniq -c | tr '\n' ' ')" >&2
        grep -iE "offload|forward" "$WORK/vos.log" >&2 || true
        stop_relay
        echo "$line" >&2
        RESULT[vos/offload]="$line"
        continue
    fi
    if [[ $case == paced ]]; then
        # Alternating pairs: the VM's speed drifts by 10-20 % over minutes, so one pair can flatter
        # either side; each pair's ratio is taken back to back and the median is reported.
        for ((round = 1; round <= PACED_RUNS; round++)); do
            for relay in rtpengine vos; do
                line=$(run "$relay" paced "$CALLS" 50)
                echo "$line" >&2
                RESULT[$relay/paced#$round]="$line"
            done
            PACED_RATIOS+=("$(python3 -c "import sys; print('%.3f' % (float(sys.argv[1]) / float(sys.argv[2])))" \
                "$(field "${RESULT[vos/paced#$round]}" cpu_us_per_packet)" "$(field "${RESULT[rtpengine/paced#$round]}" cpu_us_per_packet)")")
        done
        continue
    fi
    for relay in rtpengine vos; do
        line=$(run "$relay" flood "$FLOOD_CALLS" "$FLOOD_PPS")
        echo "$line" >&2
        RESULT[$relay/$case]="$line"
    done
done

printf '\n%-17s %-6s %12s %8s %12s %10s %9s %9s %10s\n' "relay/case" "calls" "relayed pps" "loss %" "cpu us/pkt" "cpu % core" "p50 us" "p99 us" "offloaded"
for case in $CASES; do
    keys=()
    if [[ $case == paced ]]; then
        for ((round = 1; round <= PACED_RUNS; round++)); do keys+=("rtpengine/paced#$round" "vos/paced#$round"); done
    else
        keys=("rtpengine/$case" "vos/$case")
    fi
    for key in "${keys[@]}"; do
        line="${RESULT[$key]:-}"
        [[ -n "$line" ]] || continue
        calls=$(( $(field "$line" streams) / 2 ))
        offloaded=$(field "$line" offloaded)
        printf '%-17s %-6s %12s %8s %12s %10s %9s %9s %10s\n' "$key" "$calls" "$(field "$line" relayed_pps)" \
            "$(field "$line" loss_pct)" "$(field "$line" cpu_us_per_packet)" "$(field "$line" relay_cpu_pct)" \
            "$(field "$line" p50_us)" "$(field "$line" p99_us)" "${offloaded:--}"
    done
done
ratio() {
    python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print('%.3f' % (a / b) if b else 'n/a')" "$1" "$2"
}
echo
[[ " $CASES " == *" flood "* ]] && echo "ratio cpu_per_packet vos/rtpengine (flood): $(ratio "$(field "${RESULT[vos/flood]}" cpu_us_per_packet)" "$(field "${RESULT[rtpengine/flood]}" cpu_us_per_packet)")"
[[ " $CASES " == *" flood "* ]] && echo "ratio relayed_pps vos/rtpengine (flood): $(ratio "$(field "${RESULT[vos/flood]}" relayed_pps)" "$(field "${RESULT[rtpengine/flood]}" relayed_pps)")"
if [[ " $CASES " == *" paced "* ]]; then
    echo "ratio cpu_per_packet vos/rtpengine per paced pair: ${PACED_RATIOS[*]}"
    echo "ratio cpu_per_packet vos/rtpengine: $(printf '%s\n' "${PACED_RATIOS[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"
fi
