#!/usr/bin/env bash
# Benchmarks vos-mediad against rtpengine (userspace, no kernel module) under the same load:
#   paced: CALLS calls, 50 packets/s per direction, 172-byte RTP, each stream from its own socket
#   flood: FLOOD_CALLS calls; by default (FLOOD_PPS=0) the generator sends one packet per stream
#          back to back, then reads what came back, as fast as one thread can (a fixed rate above
#          what the generator can also receive on 2 cores would measure the generator, not the relay)
# Prints relayed packets/s, loss, relay CPU us per packet (utime+stime delta from /proc/PID/stat
# over the measured window / packets relayed in it), p50/p99 latency through the relay and the
# vos/rtpengine ratio. Everything binds to 127.0.0.1; every wait is bounded.
# Last line: "ratio cpu_per_packet vos/rtpengine: X" for the paced case.
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
CASES="${CASES:-paced flood}"
VOS_MEDIAD_ARGS="${VOS_MEDIAD_ARGS:-}"
WORK="$(mktemp -d /tmp/vos-media-bench.XXXXXX)"
RELAY_PID=""

cleanup() {
    if [[ -n "$RELAY_PID" ]] && kill -0 "$RELAY_PID" 2>/dev/null; then kill "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null || true; fi
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

start_vos() {
    local data="$WORK/vos-data"
    rm -rf "$data" && mkdir -p "$data"
    "$VOSCTL" --data-dir "$data" init >/dev/null
    "$VOSCTL" --data-dir "$data" param set SS_MEDIAPROXYPORT_START 24000 >/dev/null
    "$VOSCTL" --data-dir "$data" param set SS_MEDIAPROXYPORT_END 27999 >/dev/null
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
    stop_relay
}

field() { sed -n "s/.*\b$2=\([^ ]*\).*/\1/p" <<<"$1"; }

declare -A RESULT
for case in $CASES; do
    for relay in rtpengine vos; do
        if [[ $case == paced ]]; then line=$(run "$relay" paced "$CALLS" 50); else line=$(run "$relay" flood "$FLOOD_CALLS" "$FLOOD_PPS"); fi
        echo "$line" >&2
        RESULT[$relay/$case]="$line"
    done
done

printf '\n%-17s %-6s %12s %8s %12s %9s %9s\n' "relay/case" "calls" "relayed pps" "loss %" "cpu us/pkt" "p50 us" "p99 us"
for case in $CASES; do
    for relay in rtpengine vos; do
        line="${RESULT[$relay/$case]}"
        calls=$(( $(field "$line" streams) / 2 ))
        printf '%-17s %-6s %12s %8s %12s %9s %9s\n' "$relay/$case" "$calls" "$(field "$line" relayed_pps)" \
            "$(field "$line" loss_pct)" "$(field "$line" cpu_us_per_packet)" "$(field "$line" p50_us)" "$(field "$line" p99_us)"
    done
done
ratio() {
    python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print('%.3f' % (a / b) if b else 'n/a')" "$1" "$2"
}
echo
[[ " $CASES " == *" flood "* ]] && echo "ratio cpu_per_packet vos/rtpengine (flood): $(ratio "$(field "${RESULT[vos/flood]}" cpu_us_per_packet)" "$(field "${RESULT[rtpengine/flood]}" cpu_us_per_packet)")"
[[ " $CASES " == *" flood "* ]] && echo "ratio relayed_pps vos/rtpengine (flood): $(ratio "$(field "${RESULT[vos/flood]}" relayed_pps)" "$(field "${RESULT[rtpengine/flood]}" relayed_pps)")"
echo "ratio cpu_per_packet vos/rtpengine: $(ratio "$(field "${RESULT[vos/paced]}" cpu_us_per_packet)" "$(field "${RESULT[rtpengine/paced]}" cpu_us_per_packet)")"
