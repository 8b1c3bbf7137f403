#!/usr/bin/env bash
# Transcoding benchmark: vos-mediad against rtpengine (userspace, bcg729) under the same load.
# CALLS calls (default 100), each PCMA (caller) <-> G.729 (callee), 20 ms packets at 50 packets/s in
# both directions. The caller sends real A-law of a 1000 Hz tone, the callee real G.729 (bcg729) of a
# 600 Hz tone; both loop 5 s of pre-encoded frames (loadgen.c).
#   rtpengine: ng offer with the caller's PCMA-only SDP and codec {mask: [PCMA], transcode: [G729]},
#              answer with the callee's G.729-only SDP (setup_calls.py checks that the SDP rtpengine
#              returns to each side has that side's codec only).
#   vos:       `create` with leg 0 media PCMA/8 and leg 1 media G729/18, 20 ms; the script checks that
#              vos-mediad reports path "transcode" on both legs of every session. Plain transcoding,
#              like rtpengine here: the store sets no jitter buffer (fixed 0 ms), SS_ECHOCANCEL 0 and
#              SS_COMFORTNOISE 0. The ratio line compares this one with rtpengine.
#   vos-dsp:   the same with the store's defaults for decoded legs (adaptive jitter buffer starting at
#              SS_JITTERBUFFER_DEFAULT 60 ms, echo canceller 128 ms, comfort noise): what a call costs
#              out of the box; its latency includes the jitter buffer.
# The load generator checks what arrives (caller: PT 8, 160-byte payloads; callee: PT 18, 20-byte
# payloads) and decodes the first VERIFY_CALLS calls' audio (A-law; bcg729) to check each side hears
# the other's tone.
# Reports per relay: its CPU (utime+stime of the process from /proc over the measured window, % of
# one core), CPU % per call, channels per core (100 / CPU % per call), added latency p50/p99 per
# direction (send of input packet k -> arrival of output packet k, matched by RTP timestamp) and
# frame loss per direction (inputs sent whose output never arrived, over the whole run, drained;
# outputs matching no input, such as comfort noise, are counted apart as extra).
# Runs rtpengine then vos (then vos-dsp if asked for), RUNS times (alternating pairs; the ratio is
# the median of the pairs').
# rtpengine sends transcoded packets from a send timer (send time = the stream's first output time
# + RTP timestamp distance, re-anchored only on large skew; daemon/codec.c), so after a scheduling
# hiccup on a busy host its added latency can step up by tens of ms and stay there: compare
# latency on a quiet host (the table shows the load average; TRACE=1 shows latency per second).
# Each round also times bcg729 alone (floor.c: the same calls' encoding and decoding with no relay
# around it, as fast as the CPU goes), the floor under any relay that transcodes with bcg729; the
# line before the last says what share of rtpengine's cost that floor already is.
# Last line: "ratio cpu_per_call vos/rtpengine: X".
# Everything binds to 127.0.0.1; every wait is bounded; both relays are killed on exit.
#
# Environment: CALLS (100), DURATION (15 s measured), WARMUP (3 s), RUNS (1),
# RELAYS ("rtpengine vos"; add vos-dsp for the store-default row, which needs ~2 % of a core per
# call: at 100 calls it saturates a 2-core host), SCRATCH (swift scratch path, default $ROOT/.build), VOS_MEDIAD / VOSCTL (binaries), VERIFY_CALLS (2),
# VOS_MEDIAD_ARGS, TRACE=1 (print mean/max latency per second sent, to see a queue build up),
# KEEP_WORK=1 (keep the work directory: logs, map, traces).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
SCRATCH="${SCRATCH:-$ROOT/.build}"
CALLS="${CALLS:-100}"
DURATION="${DURATION:-15}"
WARMUP="${WARMUP:-3}"
RUNS="${RUNS:-1}"
RELAYS="${RELAYS:-rtpengine vos}"
VERIFY_CALLS="${VERIFY_CALLS:-2}"
VOS_MEDIAD_ARGS="${VOS_MEDIAD_ARGS:-}"
WORK="$(mktemp -d /tmp/vos-transcode-bench.XXXXXX)"
RELAY_PID=""

cleanup() {
    if [[ -n "$RELAY_PID" ]] && kill -0 "$RELAY_PID" 2>/dev/null; then kill "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null || true; fi
    if [[ -n "${KEEP_WORK:-}" ]]; then echo "work files kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need() { command -v "$1" >/dev/null 2>&1; }
if ! need gcc || ! need python3 || [[ ! -f /usr/include/bcg729/encoder.h ]] || { [[ " $RELAYS " == *" rtpengine "* ]] && ! need rtpengine; }; then
    echo "installing rtpengine-daemon, gcc, python3, libbcg729-dev" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y rtpengine-daemon gcc python3 libbcg729-dev >&2
fi

gcc -O2 -Wall -o "$WORK/loadgen" "$HERE/loadgen.c" -lbcg729 -lm
gcc -O2 -Wall -o "$WORK/floor" "$HERE/floor.c" -lbcg729 -lm

if [[ " $RELAYS " == *" vos"* ]]; then
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
    echo "vos-mediad: $VOS_MEDIAD ($(date -r "$VOS_MEDIAD" '+%F %T'))" >&2
fi

# Waits (at most 10 s) until a command succeeds.
wait_for() {
    local deadline=$((SECONDS + 10))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || { echo "timed out waiting for: $*" >&2; return 1; }
        sleep 0.1
    done
}

# start_vos CALLS [dsp]: plain transcoding (no jitter buffer, echo canceller or comfort noise: what
# rtpengine does here), or with "dsp" the store's defaults for decoded legs (adaptive jitter buffer,
# echo canceller, comfort noise).
start_vos() {
    local data="$WORK/vos-data"
    rm -rf "$data" && mkdir -p "$data"
    "$VOSCTL" --data-dir "$data" init >/dev/null
    # Loopback, userspace path, no firewall table (as in tools/bench/media-relay/run.sh).
    local -a params=(SS_MEDIAPROXYPORT_START 24000 SS_MEDIAPROXYPORT_END 27999 SS_MEDIA_KERNEL_OFFLOAD 0 SS_FIREWALL_ENABLE 0)
    # Fixed jitter buffer of 0 ms is none (MIN first: the store checks MIN <= DEFAULT <= MAX).
    [[ ${2:-} == dsp ]] || params+=(SS_JITTERBUFFER_MIN 0 SS_JITTERBUFFER_DEFAULT 0 SS_JITTERBUFFER_MODE 0 SS_ECHOCANCEL 0 SS_COMFORTNOISE 0)
    for ((i = 0; i < ${#params[@]}; i += 2)); do
        "$VOSCTL" --data-dir "$data" param set "${params[i]}" "${params[i + 1]}" >/dev/null
    done
    "$VOS_MEDIAD" --data-dir "$data" --control "$data/mediad.sock" --media-ip 127.0.0.1 $VOS_MEDIAD_ARGS 2>"$WORK/vos.log" &
    RELAY_PID=$!
    wait_for test -S "$data/mediad.sock" || { cat "$WORK/vos.log" >&2; exit 1; }
    timeout 60 python3 "$HERE/setup_calls.py" vos --calls "$1" --control "$data/mediad.sock" --map "$WORK/map" --sdp-log "$WORK/setup-vos.txt"
}

start_vos-dsp() { start_vos "$1" dsp; }

ng_listening() { ss -Hlun 'sport = :22222' | grep -q .; }

start_rtpengine() {
    # Another rtpengine on the ng port would take some of the calls and skew the CPU figures.
    if ss -Hlun 'sport = :22222' | grep -q .; then echo "UDP 127.0.0.1:22222 is already in use; stop that process first" >&2; exit 1; fi
    rtpengine --config-file=none --foreground --log-stderr --log-level=5 --table=-1 --num-threads=2 \
        --interface=127.0.0.1 --listen-ng=127.0.0.1:22222 --port-min=28000 --port-max=31999 2>"$WORK/rtpengine.log" &
    RELAY_PID=$!
    wait_for ng_listening || { cat "$WORK/rtpengine.log" >&2; exit 1; }
    kill -0 "$RELAY_PID" || { cat "$WORK/rtpengine.log" >&2; exit 1; }
    timeout 60 python3 "$HERE/setup_calls.py" rtpengine --calls "$1" --ng-port 22222 --map "$WORK/map" --sdp-log "$WORK/setup-rtpengine.txt"
}

# vos only: sessions whose two legs both report path "transcode", and the paths seen.
vos_transcoding() {
    timeout 20 python3 - "$WORK/vos-data/mediad.sock" <<'PY'
import collections, json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
f = s.makefile("rwb")
f.write(b'{"version": 1, "id": 1, "op": "stats"}\n')
f.flush()
sessions = json.loads(f.readline())["sessions"]
paths = collections.Counter(leg.get("path") for session in sessions for leg in session["legs"])
print("transcoding_sessions=%d paths=%s" % (sum(all(leg.get("path") == "transcode" for leg in x["legs"]) for x in sessions),
      ",".join("%s:%d" % kv for kv in sorted(paths.items()))))
PY
}

stop_relay() {
    kill "$RELAY_PID" 2>/dev/null && wait "$RELAY_PID" 2>/dev/null || true
    RELAY_PID=""
    sleep 0.5
}

# run RELAY ROUND -> one key=value line in $WORK/result (in this shell, not a subshell: the EXIT trap
# must know RELAY_PID, and a failure must end the script)
run() {
    local relay=$1 round=$2 line extra="" load_before
    load_before=$(cut -d' ' -f1 /proc/loadavg)
    "start_$relay" "$CALLS" >&2
    if ((round == 1)) && [[ -s "$WORK/setup-$relay.txt" ]]; then
        echo "--- $relay: first call's setup" >&2
        cat "$WORK/setup-$relay.txt" >&2
        echo "---" >&2
    fi
    line=$(timeout $((${WARMUP%.*} + ${DURATION%.*} + 60)) "$WORK/loadgen" --map "$WORK/map" --duration "$DURATION" --warmup "$WARMUP" \
        --pid "$RELAY_PID" --label "$relay#$round" --verify-calls "$VERIFY_CALLS" --trace "$WORK/trace-$relay-$round")
    line="$line load_before=$load_before load_after=$(cut -d' ' -f1 /proc/loadavg)"
    if [[ -n "${TRACE:-}" ]]; then echo "--- $relay #$round: latency by second sent" >&2; cat "$WORK/trace-$relay-$round" >&2; fi
    kill -0 "$RELAY_PID" 2>/dev/null || { echo "$relay exited during the run:" >&2; tail -20 "$WORK/${relay%-dsp}.log" >&2; exit 1; }
    # rtpengine reports no per-session path; for it, what arrives (PT/size, decoded tone) is the check.
    [[ $relay == vos* ]] && extra=" $(vos_transcoding)"
    stop_relay
    echo "$line$extra" >"$WORK/result"
}

field() { sed -n "s/.*\b$2=\([^ ]*\).*/\1/p" <<<"$1"; }

declare -A RESULT
RATIOS=()
DSP_RATIOS=()
FLOOR_RATIOS=()
for ((round = 1; round <= RUNS; round++)); do
    for relay in $RELAYS; do
        run "$relay" "$round"
        line=$(<"$WORK/result")
        echo "$line" >&2
        RESULT[$relay#$round]="$line"
    done
    if [[ -n "${RESULT[vos#$round]:-}" && -n "${RESULT[rtpengine#$round]:-}" ]]; then
        RATIOS+=("$(python3 -c "import sys; a, b = map(float, sys.argv[1:]); print('%.3f' % (a / b) if b else 'n/a')" \
            "$(field "${RESULT[vos#$round]}" cpu_pct_per_call)" "$(field "${RESULT[rtpengine#$round]}" cpu_pct_per_call)")")
    fi
    RESULT[floor#$round]=$("$WORK/floor" --calls "$CALLS" --seconds "${DURATION%.*}")
    echo "bcg729 alone: ${RESULT[floor#$round]}" >&2
    if [[ -n "${RESULT[rtpengine#$round]:-}" ]]; then
        FLOOR_RATIOS+=("$(python3 -c "import sys; a, b = map(float, sys.argv[1:]); print('%.3f' % (a / b) if b else 'n/a')" \
            "$(field "${RESULT[floor#$round]}" cpu_pct_per_call)" "$(field "${RESULT[rtpengine#$round]}" cpu_pct_per_call)")")
    fi
    if [[ -n "${RESULT[vos-dsp#$round]:-}" && -n "${RESULT[rtpengine#$round]:-}" ]]; then
        DSP_RATIOS+=("$(python3 -c "import sys; a, b = map(float, sys.argv[1:]); print('%.3f' % (a / b) if b else 'n/a')" \
            "$(field "${RESULT[vos-dsp#$round]}" cpu_pct_per_call)" "$(field "${RESULT[rtpengine#$round]}" cpu_pct_per_call)")")
    fi
done

ms() { python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) / 1000))" "$1"; }
tone_check() {
    # Each side must hear the other's tone: >= 90 % of the decoded power at it (worst verified call).
    python3 -c "import sys; h1, s1, h2, s2 = map(float, sys.argv[1:]); ok = s1 >= 0.9 and s2 >= 0.9
print('%s (%.0f Hz %.2f / %.0f Hz %.2f)' % ('ok' if ok else 'FAIL', h1, s1, h2, s2))" "$@"
}

echo
echo "Transcoding PCMA <-> G.729, $CALLS calls, 20 ms, 50 packets/s each way, ${DURATION} s measured after ${WARMUP} s warm-up ($(date -u '+%F %H:%M UTC'), $(nproc) cores, $(uname -r))"
echo
echo "| relay | calls | relay CPU (% of one core) | CPU % per call | channels per core | latency PCMA→G.729 p50 / p99 (ms) | latency G.729→PCMA p50 / p99 (ms) | frame loss PCMA→G.729 / G.729→PCMA | calls with the right format both ways | decoded tone (callee / caller) | host load avg (start → end) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
NOTES=()
for ((round = 1; round <= RUNS; round++)); do
    for relay in $RELAYS; do
        line="${RESULT[$relay#$round]:-}"
        [[ -n "$line" ]] || continue
        name=$relay; [[ $relay == vos ]] && name=vos-mediad
        [[ $relay == vos-dsp ]] && name="vos-mediad, store defaults ¹"
        ((RUNS > 1)) && name="$name #$round"
        approx="" loss="$(field "$line" loss_a2b_pct) % / $(field "$line" loss_b2a_pct) %"
        # A jitter buffer re-times the output on its own clock: output k is not input k (see ¹).
        [[ $relay == vos-dsp ]] && approx="≈ " loss="n/a ¹"
        printf '| %s | %s | %s | %s | %s | %s%s / %s | %s%s / %s | %s | %s | %s | %s → %s |\n' "$name" "$(field "$line" calls)" \
            "$(field "$line" relay_cpu_pct)" "$(field "$line" cpu_pct_per_call)" "$(field "$line" channels_per_core)" \
            "$approx" "$(ms "$(field "$line" p50_a2b_us)")" "$(ms "$(field "$line" p99_a2b_us)")" \
            "$approx" "$(ms "$(field "$line" p50_b2a_us)")" "$(ms "$(field "$line" p99_b2a_us)")" \
            "$loss" "$(field "$line" calls_ok)" \
            "$(tone_check "$(field "$line" callee_hears_hz)" "$(field "$line" callee_tone_share)" \
                "$(field "$line" caller_hears_hz)" "$(field "$line" caller_tone_share)")" \
            "$(field "$line" load_before)" "$(field "$line" load_after)"
        late=$(field "$line" late_sends)
        sent=$(( $(field "$line" sent_a2b) + $(field "$line" sent_b2a) ))
        if ((late * 100 > sent)); then
            NOTES+=("WARNING: $name: the generator sent $late of $sent packets over 5 ms late (load average $(field "$line" load_before) -> $(field "$line" load_after)): the host was busy; latency and loss are not the relay's alone")
        fi
        bad=$(( $(field "$line" bad_format_a2b) + $(field "$line" bad_format_b2a) ))
        ((bad == 0)) || NOTES+=("WARNING: $name: $bad packets arrived with the wrong payload type or size")
        if [[ $relay != vos-dsp ]]; then
            lost=$(( $(field "$line" sent_a2b) + $(field "$line" sent_b2a) - $(field "$line" received_a2b) - $(field "$line" received_b2a) ))
            if (( lost == 0 && ( $(field "$line" ts_index_not_arrival_count) > 0 || $(field "$line" early) > 0 ) )); then
                NOTES+=("WARNING: $name: the RTP timestamp match disagrees with arrival order ($(field "$line" ts_index_not_arrival_count) packets, $(field "$line" early) early): latency is suspect")
            fi
        fi
        if [[ $relay == vos* && "$(field "$line" transcoding_sessions)" != "$CALLS" ]]; then
            NOTES+=("WARNING: $name: only $(field "$line" transcoding_sessions) of $CALLS sessions report path transcode on both legs ($(field "$line" paths))")
        fi
    done
done
echo
for ((round = 1; round <= RUNS; round++)); do
    line="${RESULT[floor#$round]}"
    per_call=$(field "$line" cpu_pct_per_call) suffix=""
    ((RUNS > 1)) && suffix=" #$round"
    echo "bcg729 alone$suffix (no relay: $CALLS encoders and decoders, $(field "$line" audio_seconds) s of each call's frames as fast as the CPU goes): $per_call % of a core per call, $(python3 -c "import sys; print('%.0f' % (100 / float(sys.argv[1])))" "$per_call") channels per core"
done
if [[ " $RELAYS " == *" vos-dsp "* ]]; then
    echo
    echo "¹ vos-mediad with the store's defaults for decoded legs: adaptive jitter buffer (SS_JITTERBUFFER_DEFAULT 60 ms), echo canceller (128 ms tail), comfort noise. The buffer plays out on its own clock and may insert or drop 10 ms frames, so output packet k is not input packet k: latency is matched by RTP timestamp (nearest 20 ms) and approximate, and per-packet loss is not defined (the decoded tone is the check). The other rows are plain transcoding (no jitter buffer, echo canceller or comfort noise), as rtpengine does here."
fi
for note in "${NOTES[@]}"; do echo "$note"; done
echo
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
((${#DSP_RATIOS[@]} > 0)) && echo "ratio cpu_per_call vos-dsp (store defaults)/rtpengine: $(median "${DSP_RATIOS[@]}")"
((${#FLOOR_RATIOS[@]} > 0)) && echo "floor cpu_per_call bcg729 alone/rtpengine: $(median "${FLOOR_RATIOS[@]}")"
if ((${#RATIOS[@]} > 0)); then
    ((RUNS > 1)) && echo "ratio cpu_per_call vos/rtpengine per pair: ${RATIOS[*]}"
    echo "ratio cpu_per_call vos/rtpengine: $(median "${RATIOS[@]}")"
fi
