#!/usr/bin/env bash
# Memory per 1000 concurrent calls with media relayed: vos (SS_MEDIAPROXYMODE 3: vos-controller +
# vos-mediad) against Kamailio (stateful t_relay, every process) + rtpengine (userspace), the
# same switches as run.sh. sipp UAC (127.0.0.2) -> switch (127.0.0.1) -> sipp UAS (127.0.0.3):
# CALLS calls opened at RATE calls/s, each held (no RTP) until all are up and measured, then
# hung up with BYE. Per process: RSS and PSS idle (switch started, no call), while CALLS calls are
# up (mean of 3 samples 1 s apart, once the relay holds CALLS sessions and sipp has CALLS calls
# open with none failed), and 3 s after the last BYE. "Per 1000 calls" is (held - idle) x 1000 /
# CALLS. PSS splits pages shared between processes (Kamailio's shared memory, libraries) among
# them, so the PSS of a group is what it occupies; RSS counts a shared page in every process
# that touched it, which inflates Kamailio's sum. Same private network namespace as run.sh.
#
# Usage: tools/bench/sip-cps/memory.sh
# Env:   CALLS (default 1000), RATE (default 100), CASES (default "vos3 kamailio+rtpengine"; also
#        "vos0" and "kamailio": the signalling alone), VOS_BUILD, SCRATCH, VOS_BIN, KAMAILIO_CHILDREN,
#        KAMAILIO_MEDIA_CHILDREN (as in run.sh), MAX_MINUTES (whole run, default 15), KEEP_WORK=1
# Last line: memory_per_1000_calls_mib vos: X kamailio+rtpengine: Y   (PSS, every process)
set -euo pipefail
SELF="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$ROOT"
export PATH="/opt/swift/usr/bin:$PATH"
# shellcheck source=lib.sh
source "$ROOT/tools/bench/sip-cps/lib.sh"
if [ -z "${VOS_BENCH_NETNS:-}" ]; then
  bash tools/setup.sh --bench >/dev/null
  prepare_binaries
fi
enter_private_netns "$@"

CALLS="${CALLS:-1000}"
RATE="${RATE:-100}"
CASES=" ${CASES:-vos3 kamailio+rtpengine} "
RAMP=$(( (CALLS + RATE - 1) / RATE ))
# Every call lasts long enough for the last one to be up, the wait for it and the samples.
HOLD_SECONDS=$(( RAMP + 20 ))

WORK="$(mktemp -d /tmp/vos-sip-memory.XXXXXX)"
PIDS=()
cleanup() {
  kill_started
  if [ -n "${KEEP_WORK:-}" ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 143' INT TERM
start_watchdog 15

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
per1000() { awk -v a="$1" -v b="$2" -v n="$CALLS" 'BEGIN { printf "%.1f", (b - a) / 1024 * 1000 / n }'; }

sessions() {  # relay sessions of the running media relay
  if [ -n "${MEDIAD:-}" ]; then python3 "$SCENARIOS/sessions.py" vos "$VOS_DATA/mediad.sock"
  elif [ -n "${RTPENGINE:-}" ]; then python3 "$SCENARIOS/sessions.py" rtpengine "$NG_PORT"
  else echo -; fi
}

# Samples RSS and PSS (kB) of each "label=pid" group; writes "label rss pss" lines to $1.
sample() {
  local out=$1 group
  shift
  : >"$out"
  for group in "$@"; do echo "${group%%=*} $(rss_kb "${group#*=}") $(pss_kb "${group#*=}")" >>"$out"; done
}

mean_samples() { awk '{ rss[$1] += $2; pss[$1] += $3; n[$1]++; if (!($1 in seen)) { seen[$1] = 1; order[++k] = $1 } }
  END { for (i = 1; i <= k; i++) { l = order[i]; printf "%s %d %d\n", l, rss[l] / n[l], pss[l] / n[l] } }' "$@"; }

# measure NAME GROUP... (GROUP = label=pid; a pid's children count with it): one case.
measure() {
  local name=$1 dir="$WORK/${1//[^a-z0-9]/_}"
  shift
  mkdir -p "$dir"
  sleep 2
  sample "$dir/idle" "$@"
  start_uas "$dir" $((HOLD_SECONDS + RAMP + 40))
  sleep 0.5
  (cd "$dir" && exec sipp -sn uac 127.0.0.1:$SWITCH_PORT -i 127.0.0.2 -p $UAC_PORT -s 4420123 -buff_size $SIPP_BUFFER \
      -r "$RATE" -m "$CALLS" -l "$CALLS" -d $((HOLD_SECONDS * 1000)) -timeout $((HOLD_SECONDS + RAMP + 30))s \
      -nostdin -trace_stat -fd 1 -stf uac.csv >/dev/null 2>uac.err) &
  local uac=$! began=$SECONDS open=0 failed=0 held=0 i
  PIDS+=("$uac")
  # Up: sipp has CALLS calls open, none failed, and the relay (if any) holds CALLS sessions.
  while ((SECONDS < began + RAMP + 15)); do
    sleep 1
    open=$(sipp_stat "$dir/uac.csv" 'CurrentCall'); failed=$(sipp_stat "$dir/uac.csv" 'FailedCall(C)')
    held=$(sessions 2>>"$dir/sessions.err" || echo 0)
    [ "${open:-0}" = "$CALLS" ] && { [ "$held" = "$CALLS" ] || [ "$held" = - ]; } && break
  done
  local up_at=$SECONDS
  sleep 2
  for i in 1 2 3; do sample "$dir/held.$i" "$@"; sleep 1; done
  mean_samples "$dir"/held.* >"$dir/held"
  local held_note="sipp open calls ${open:-?}, failed ${failed:-?}, relay sessions $held, up after $((up_at - began)) s"
  # Hang up: the calls end HOLD_SECONDS after they started, in the order they started.
  wait "$uac" || true
  local completed
  completed=$(sipp_stat "$dir/uac.csv" 'SuccessfulCall(C)'); failed=$(sipp_stat "$dir/uac.csv" 'FailedCall(C)')
  sleep 3
  sample "$dir/after" "$@"
  stop_pid "$UAS"
  echo "$name: while held: $held_note; at the end: $completed completed, $failed failed, relay sessions $(sessions 2>/dev/null || echo '?')" >>"$WORK/notes"
  # Table rows: one per group, then the case's total.
  join <(sort "$dir/idle") <(sort "$dir/held") | join - <(sort "$dir/after") >"$dir/joined"
  local label idle_rss idle_pss held_rss held_pss after_rss after_pss order
  for order in "$@"; do
    read -r label idle_rss idle_pss held_rss held_pss after_rss after_pss < <(grep "^${order%%=*} " "$dir/joined")
    row "$name" "$label" "$idle_rss" "$idle_pss" "$held_rss" "$held_pss" "$after_rss" "$after_pss"
  done
  read -r idle_rss idle_pss held_rss held_pss after_rss after_pss < <(awk '{ for (i = 2; i <= 7; i++) t[i] += $i } END { print t[2], t[3], t[4], t[5], t[6], t[7] }' "$dir/joined")
  row "$name" "total" "$idle_rss" "$idle_pss" "$held_rss" "$held_pss" "$after_rss" "$after_pss"
  TOTAL_PSS_PER_1000=$(per1000 "$idle_pss" "$held_pss")
}

row() {  # name label idle_rss idle_pss held_rss held_pss after_rss after_pss
  printf '| %-18s | %-14s | %8s | %8s | %8s | %8s | %8s | %8s | %8s |\n' "$1" "$2" "$(mib "$3")" "$(mib "$5")" \
      "$(per1000 "$3" "$5")" "$(mib "$4")" "$(mib "$6")" "$(per1000 "$4" "$6")" "$(mib "$7")"
}

echo "sip-memory: $CALLS concurrent calls opened at $RATE/s, held ${HOLD_SECONDS}s each, no RTP, $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "vos: $(vos_label); kamailio children with rtpengine ${KAMAILIO_MEDIA_CHILDREN:-8}, rtpengine threads $(nproc)"
echo "host load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "MiB; \"/1000\" = (with calls - idle) per 1000 calls"
echo
echo '| switch             | process        | RSS idle | RSS call | RSS/1000 | PSS idle | PSS call | PSS/1000 | RSS end  |'
echo '|--------------------|----------------|----------|----------|----------|----------|----------|----------|----------|'

VOS_MEM=- PAIR_MEM=-
if [[ $CASES == *" vos3 "* ]]; then
  start_vos 3 SS_RTP_TIMEOUT 0  # no RTP in this test: keep the calls up
  measure "vos mode 3" "vos-controller=$VOS" "vos-mediad=$MEDIAD"
  VOS_MEM=$TOTAL_PSS_PER_1000
  stop_vos
fi
if [[ $CASES == *" vos0 "* ]]; then
  start_vos 0
  measure "vos mode 0" "vos-controller=$VOS"
  stop_vos
fi
if [[ $CASES == *" kamailio+rtpengine "* ]]; then
  start_rtpengine
  start_kamailio rtpengine
  measure "kamailio+rtpengine" "kamailio($(( $(tree_pids "$KAMAILIO" | wc -l) )))=$KAMAILIO" "rtpengine=$RTPENGINE"
  PAIR_MEM=$TOTAL_PSS_PER_1000
  stop_kamailio
  stop_rtpengine
fi
if [[ $CASES == *" kamailio "* ]]; then
  start_kamailio
  measure "kamailio t_relay" "kamailio($(( $(tree_pids "$KAMAILIO" | wc -l) )))=$KAMAILIO"
  stop_kamailio
fi

echo
cat "$WORK/notes"
echo "memory_per_1000_calls_mib vos: $VOS_MEM kamailio+rtpengine: $PAIR_MEM"
